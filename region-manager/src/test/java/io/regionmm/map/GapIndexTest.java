package io.regionmm.map;

import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gap search kept across versions: after random sequences of {@link RegionMap#replace}, {@link RegionMap#lowestGap}
 * and {@link RegionMap#largestGap} agree with a linear scan of the regions (the window's start and end gaps, gaps
 * at chunk boundaries, the empty map and the full window included); and the persistent {@link GapIndex} alone
 * agrees with a plain array under random replaces that change its height.
 */
class GapIndexTest
{
    private static final long BASE = 1L << 40;
    private static final long PAGE = 4096;
    private static final long WINDOW_PAGES = 30_000;
    private static final long END = BASE + WINDOW_PAGES * PAGE;
    private static final FileHandle FILE = new FileHandle(1, Path.of("f"), true, 1, 0, 0);

    private static Region region(final long start, final long end)
    {
        return new Region(1, start, end, FILE, 0, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {21, 22, 23, 24, 25, 26})
    void gapSearchAfterRandomReplacesAgreesWithALinearScan(final long seed)
    {
        System.out.println("GapIndexTest seed " + seed + " (replay: this seed in @ValueSource)");
        final SplittableRandom random = new SplittableRandom(seed);
        final List<Region> model = new ArrayList<>();
        RegionMap map = RegionMap.empty(BASE, END);
        check(map, model, random, "empty");
        int peak = 0;
        int empties = 0;
        int fulls = 0;
        for (int step = 0; step < 2_500; step++)
        {
            final int size = model.size();
            final int lo;
            final int hi;
            final List<Region> middle = new ArrayList<>();
            // At fixed steps the window fills up or everything goes (then it grows again); else a random stretch.
            final int kind = step == 1_200 || step == 1_202 ? 1 : step == 1_201 || step == 1_203 ? 0 : 2;
            if (kind == 0)
            {
                lo = 0; // the empty map
                hi = size;
            }
            else if (kind == 1)
            {
                lo = 0; // the full window, in one region or in adjacent ones
                hi = size;
                fill(middle, BASE, END, random.nextBoolean() ? 1 : 1 + random.nextInt(3_000), 2, random);
            }
            else
            {
                // Grow to one to three thousand regions (10-40 chunks) early, then hover there.
                final boolean growing = step < 900 || step > 1_203 && step < 1_900;
                lo = growing && random.nextInt(3) == 0 ? size : random.nextInt(size + 1);
                final int span = growing ? random.nextInt(2) : random.nextInt(20) == 0 ? random.nextInt(300) :
                    random.nextInt(3);
                hi = Math.min(size, lo + span);
                final long below = lo == 0 ? BASE : model.get(lo - 1).end();
                final long above = hi == size ? END : model.get(hi).start();
                final int count = growing ? random.nextInt(16) : random.nextInt(20) == 0 ? random.nextInt(300) :
                    random.nextInt(3);
                // Now and then packed from the left, or a small hole filled whole (gaps of 0 bytes).
                final int mode = random.nextInt(8) == 0 ? 1 : random.nextInt(8) == 0 && above - below <= 16 * PAGE ?
                    2 : 0;
                fill(middle, below, above, count, mode, random);
            }
            final List<Region> removed = new ArrayList<>(model.subList(lo, hi));
            map = map.replace(lo, hi, middle, removed, middle);
            model.subList(lo, hi).clear();
            model.addAll(lo, middle);
            check(map, model, random, "seed " + seed + " step " + step + " (" + model.size() + " regions)");
            peak = Math.max(peak, model.size());
            empties += model.isEmpty() ? 1 : 0;
            fulls += map.largestGap() == 0 ? 1 : 0;
        }
        System.out.println("  peak " + peak + " regions, " + empties + " empty versions, " + fulls + " full windows");
        assertTrue(peak > 8 * RegionList.CHUNK && empties > 0 && fulls > 0, "the walk went through all cases");
    }

    /**
     * Up to {@code count} regions in [below, above): mode 0 spread (1-4 pages each at random places), 1 packed
     * (adjacent ones of 1-4 pages from below), 2 exact (adjacent ones covering [below, above) whole).
     */
    private static void fill(final List<Region> out, final long below, final long above, final int count,
        final int mode, final SplittableRandom random)
    {
        final long pages = (above - below) / PAGE;
        final int n = (int)Math.min(count, pages);
        if (n == 0)
        {
            return;
        }
        if (mode == 1)
        {
            long at = 0;
            for (int i = 0; i < n && at < pages; i++)
            {
                final long end = Math.min(pages, at + 1 + random.nextInt(4));
                out.add(region(below + at * PAGE, below + end * PAGE));
                at = end;
            }
            return;
        }
        // n distinct cut points in [0, pages): each region runs from its cut to the next (or to a random end).
        final java.util.TreeSet<Long> cuts = new java.util.TreeSet<>();
        if (mode == 2)
        {
            cuts.add(0L);
        }
        while (cuts.size() < n)
        {
            cuts.add(random.nextLong(pages));
        }
        final Long[] at = cuts.toArray(new Long[0]);
        for (int i = 0; i < at.length; i++)
        {
            final long next = i + 1 < at.length ? at[i + 1] : pages;
            final long end = mode == 2 ? next : at[i] + 1 + random.nextLong(Math.min(4, next - at[i]));
            out.add(region(below + at[i] * PAGE, below + end * PAGE));
        }
    }

    private static void check(final RegionMap map, final List<Region> model, final SplittableRandom random,
        final String where)
    {
        assertEquals(model, map.regions(), where);
        // The gaps, in address order: before each region, then the window's end gap.
        final long[] gap = new long[model.size() + 1];
        final long[] gapStart = new long[model.size() + 1];
        long prevEnd = BASE;
        long largest = 0;
        for (int i = 0; i <= model.size(); i++)
        {
            final long next = i < model.size() ? model.get(i).start() : END;
            gap[i] = next - prevEnd;
            gapStart[i] = prevEnd;
            largest = Math.max(largest, gap[i]);
            prevEnd = i < model.size() ? model.get(i).end() : END;
        }
        assertEquals(largest, map.largestGap(), where + ": largest gap");
        assertSummariesMatchChunks(map, where);
        final List<Long> wants = new ArrayList<>(List.of(0L, PAGE, 2 * PAGE, largest, largest + PAGE, gap[0],
            gap[model.size()], (WINDOW_PAGES - 1) * PAGE, WINDOW_PAGES * PAGE));
        for (int q = 0; q < 6; q++)
        {
            wants.add(gap[random.nextInt(gap.length)]); // aimed at a gap, wherever it lies (chunk boundaries too)
            wants.add((1 + random.nextInt(64)) * PAGE);
        }
        for (int c = RegionList.CHUNK / 2; c < model.size(); c += RegionList.CHUNK / 2)
        {
            wants.add(gap[c]); // around the places chunks usually start
        }
        for (final long want : wants)
        {
            long expected = -1;
            for (int i = 0; i < gap.length; i++)
            {
                if (gap[i] >= want)
                {
                    expected = gapStart[i];
                    break;
                }
            }
            assertEquals(expected, map.lowestGap(want), where + ": lowest gap of " + want);
        }
    }

    /** White box: every leaf of the gap index is what the chunks say (the gap before each, the largest inside). */
    private static void assertSummariesMatchChunks(final RegionMap map, final String where)
    {
        final List<Region[]> chunks = map.regionList().chunkArrays();
        final long[] leaves = map.regionList().gapLeaves();
        assertEquals(2 * chunks.size() + 1, leaves.length, where + ": leaves");
        long prevEnd = map.windowStart();
        for (int c = 0; c < chunks.size(); c++)
        {
            final Region[] chunk = chunks.get(c);
            long inner = Long.MIN_VALUE;
            for (int i = 1; i < chunk.length; i++)
            {
                inner = Math.max(inner, chunk[i].start() - chunk[i - 1].end());
            }
            assertEquals(chunk[0].start() - prevEnd, leaves[2 * c], where + ": gap before chunk " + c);
            assertEquals(inner, leaves[2 * c + 1], where + ": gap inside chunk " + c);
            prevEnd = chunk[chunk.length - 1].end();
        }
        assertEquals(map.windowEnd() - prevEnd, leaves[leaves.length - 1], where + ": end gap");
    }

    @Test
    void chunkBoundaryGapsAndWindowEnds()
    {
        // Every other page mapped from the window's start; then holes opened at chunk boundaries and at the ends.
        final int n = 1_000;
        final Region[] rs = new Region[n];
        for (int k = 0; k < n; k++)
        {
            rs[k] = region(BASE + 2L * k * PAGE, BASE + (2L * k + 1) * PAGE);
        }
        final RegionMap full = RegionMap.of(BASE, BASE + (2L * n - 1) * PAGE, rs);
        assertEquals(PAGE, full.largestGap());
        assertEquals(BASE + PAGE, full.lowestGap(PAGE));
        assertEquals(-1, full.lowestGap(2 * PAGE));
        final List<Region> model = new ArrayList<>(List.of(rs));
        RegionMap map = full;
        final int chunks = (n + RegionList.CHUNK - 1) / RegionList.CHUNK; // of.. cuts n into even chunks
        for (int c = chunks - 1; c >= 1; c--)
        {
            // Remove the first region of chunk c, or the last of chunk c - 1 (chunk c unchanged, but the gap before
            // it grows): a hole of 3 pages at the boundary.
            final int at = n * c / chunks - (c % 2);
            map = map.replace(at, at + 1, List.of(), List.of(model.get(at)), List.of());
            model.remove(at);
            assertSummariesMatchChunks(map, "hole at " + at);
            assertEquals(3 * PAGE, map.largestGap());
            assertEquals(model.get(at - 1).end(), map.lowestGap(3 * PAGE), "hole at " + at);
        }
        // The window's first region goes: a start gap of 2 pages.
        map = map.replace(0, 1, List.of(), List.of(model.get(0)), List.of());
        model.remove(0);
        assertEquals(BASE, map.lowestGap(2 * PAGE));
        // The last two go: an end gap of 4 pages.
        final int last = model.size() - 2;
        map = map.replace(last, last + 2, List.of(), List.of(model.get(last), model.get(last + 1)), List.of());
        assertSummariesMatchChunks(map, "end");
        assertEquals(4 * PAGE, map.largestGap());
        assertEquals(BASE, map.lowestGap(2 * PAGE));
        assertEquals(model.get(last - 1).end(), map.lowestGap(4 * PAGE));
        assertEquals(-1, map.lowestGap(5 * PAGE));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {31, 32, 33})
    void indexAgreesWithAnArray(final long seed)
    {
        System.out.println("GapIndexTest index seed " + seed + " (replay: this seed in @ValueSource)");
        final SplittableRandom random = new SplittableRandom(seed);
        final List<Long> model = new ArrayList<>();
        GapIndex index = GapIndex.of();
        int peak = 0;
        for (int step = 0; step < 3_000; step++)
        {
            final int at = random.nextInt(model.size() + 1);
            final int removed = Math.min(model.size() - at, random.nextInt(10) == 0 ?
                random.nextInt(step < 1_500 ? 20 : 600) : random.nextInt(4));
            // Same count (path copy) half the time; growth early, so the tree passes 16, 256 and 4096 leaves.
            final int added = random.nextBoolean() ? removed : random.nextInt(step < 1_500 ? 24 : 5);
            final long[] values = new long[added];
            for (int i = 0; i < added; i++)
            {
                values[i] = random.nextInt(5) == 0 ? Long.MIN_VALUE : random.nextLong(1_000_000);
            }
            final GapIndex before = index;
            final int countBefore = model.size();
            index = index.replace(at, removed, values);
            model.subList(at, at + removed).clear();
            for (int i = 0; i < added; i++)
            {
                model.add(at + i, values[i]);
            }
            assertEquals(countBefore, before.count(), "the old version is unchanged");
            assertEquals(model.size(), index.count());
            peak = Math.max(peak, model.size());
            long max = Long.MIN_VALUE;
            for (int i = 0; i < model.size(); i++)
            {
                if (step % 16 == 0 || Math.abs(i - at) < 40)
                {
                    assertEquals(model.get(i), index.get(i), "step " + step + " leaf " + i);
                }
                max = Math.max(max, model.get(i));
            }
            assertEquals(max, index.max());
            for (int q = 0; q < 8; q++)
            {
                final long v = q == 0 ? max : q == 1 ? max + 1 : random.nextLong(1_100_000);
                int expected = -1;
                for (int i = 0; i < model.size(); i++)
                {
                    if (model.get(i) >= v)
                    {
                        expected = i;
                        break;
                    }
                }
                assertEquals(expected, index.lowest(v), "step " + step + " lowest " + v);
            }
        }
        System.out.println("  peak " + peak + " leaves");
        assertTrue(peak > 1 << (3 * GapIndex.BITS), "the tree reached height 3");
    }
}
