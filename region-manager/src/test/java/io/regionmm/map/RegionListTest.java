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
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chunked region list against a plain list: random replaces keep the same contents, chunks stay between half
 * and full, searches agree with a linear scan, and a replace shares every chunk it did not touch.
 */
class RegionListTest
{
    private static final FileHandle FILE = new FileHandle(1, Path.of("f"), true, 1, 0, 0);

    /** Region number k: page k, so start order is k order. */
    private static Region region(final long k)
    {
        return new Region(1, (k + 1) * 4096, (k + 2) * 4096, FILE, 0, Protection.READ, Sharing.SHARED,
            Advice.NORMAL, false);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14, 15, 16})
    void randomReplacesAgreeWithAPlainList(final long seed)
    {
        System.out.println("RegionListTest seed " + seed + " (replay: this seed in @ValueSource)");
        final SplittableRandom random = new SplittableRandom(seed);
        // Model: region numbers in order; new regions take fresh numbers between their neighbours' (spaced by 2^20).
        final List<Long> model = new ArrayList<>();
        RegionList list = RegionList.empty(0, 1L << 50);
        final Map<Long, Region> regions = new java.util.HashMap<>();
        for (int step = 0; step < 3_000; step++)
        {
            final int size = model.size();
            final int lo = random.nextInt(size + 1);
            // Mostly small stretches, as writers make; now and then a large one, and a growth bias early on.
            final int span = random.nextInt(20) == 0 ? random.nextInt(400) : random.nextInt(4);
            final int hi = Math.min(size, lo + span);
            final long below = lo == 0 ? 0 : model.get(lo - 1);
            final long above = hi == size ? below + (1L << 40) : model.get(hi);
            final int count = (int)Math.min(above - below - 1, step < 1_000 ? random.nextInt(8) :
                random.nextInt(20) == 0 ? random.nextInt(400) : random.nextInt(4));
            final List<Region> middle = new ArrayList<>();
            final List<Long> numbers = new ArrayList<>();
            for (int k = 1; k <= count; k++)
            {
                final long number = below + (above - below) * k / (count + 1);
                numbers.add(number);
                middle.add(regions.computeIfAbsent(number, RegionListTest::region));
            }
            final RegionList before = list;
            list = list.replace(lo, hi, middle);
            model.subList(lo, hi).clear();
            model.addAll(lo, numbers);
            final String where = "seed " + seed + " step " + step;
            assertEquals(model.size(), list.size(), where);
            int i = 0;
            for (final Region r : list.asList())
            {
                assertSame(regions.get(model.get(i)), r, where + " iteration at " + i);
                i++;
            }
            for (int q = 0; q < 8 && !model.isEmpty(); q++)
            {
                final int at = random.nextInt(model.size());
                assertSame(regions.get(model.get(at)), list.get(at), where + " get(" + at + ")");
                final long address = regions.get(model.get(at)).start() + random.nextInt(2 * 4096) - 4096;
                int expected = -1;
                for (int k = 0; k < model.size() && regions.get(model.get(k)).start() <= address; k++)
                {
                    expected = k;
                }
                assertEquals(expected, list.lastStartingAtOrBefore(address), where + " search " + address);
            }
            final List<Region[]> chunks = list.chunkArrays();
            for (final Region[] c : chunks)
            {
                assertTrue(c.length > 0 && c.length <= RegionList.CHUNK, where + " chunk of " + c.length);
                assertTrue(chunks.size() == 1 || c.length >= RegionList.CHUNK / 2, where + " chunk of " +
                    c.length + " among " + chunks.size());
            }
            // Untouched chunks are shared: at most the chunks the stretch spans, plus two neighbours, are new.
            final int touched = (hi - lo) / (RegionList.CHUNK / 2) + 2;
            assertTrue(sharedChunks(before, list) >= before.chunkArrays().size() - touched - 2,
                where + ": untouched chunks are shared");
        }
    }

    @Test
    void aSmallChangeInALargeListCopiesAFewChunks()
    {
        final Region[] rs = new Region[20_000];
        for (int i = 0; i < rs.length; i++)
        {
            rs[i] = region(2L * i);
        }
        final RegionList list = RegionList.of(0, 1L << 50, rs);
        final int chunks = list.chunkArrays().size();
        // Unmap one region in the middle, then map one in its place.
        final RegionList less = list.replace(10_000, 10_001, List.of());
        assertEquals(chunks - 1, sharedChunks(list, less), "one chunk copied, every other shared");
        final RegionList back = less.replace(10_000, 10_000, List.of(region(20_001)));
        assertTrue(sharedChunks(less, back) >= chunks - 2);
        assertEquals(20_000, back.size());
        assertSame(rs[10_001], back.get(10_001));
    }

    private static int sharedChunks(final RegionList a, final RegionList b)
    {
        final Map<Region[], Boolean> inA = new IdentityHashMap<>();
        for (final Region[] c : a.chunkArrays())
        {
            inA.put(c, Boolean.TRUE);
        }
        int shared = 0;
        for (final Region[] c : b.chunkArrays())
        {
            if (inA.containsKey(c))
            {
                shared++;
            }
        }
        return shared;
    }
}
