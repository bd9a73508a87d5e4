package io.regionmm.map;

import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The map structure alone (no system calls): index lookup, binary search and gap search agree with a linear scan
 * on random layouts, dense, sparse and skewed; versions made by changes agree with versions built from nothing, and
 * share what the change did not touch.
 */
class RegionMapTest
{
    private static final long BASE = 1L << 40;
    private static final long PAGE = 4096;
    private static final FileHandle FILE = new FileHandle(1, Path.of("f"), true, 1, 0, 0);

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void lookupsAndGapSearchAgreeWithALinearScan(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final long windowPages = 1 << 16;
        final List<Region> list = new ArrayList<>();
        long at = random.nextInt(8);
        final int n = 1 + random.nextInt(3000);
        for (int i = 0; i < n && at < windowPages - 64; i++)
        {
            // Skewed on purpose: mostly tiny regions and gaps, sometimes a huge one.
            final long len = random.nextInt(50) == 0 ? 1 + random.nextInt(4096) : 1 + random.nextInt(4);
            if (at + len >= windowPages)
            {
                break;
            }
            list.add(new Region(1, BASE + at * PAGE, BASE + (at + len) * PAGE, FILE, 0, Protection.READ,
                Sharing.SHARED, Advice.NORMAL, false));
            at += len + (random.nextBoolean() ? 0 : random.nextInt(6));
        }
        final RegionMap map = RegionMap.of(BASE, BASE + windowPages * PAGE, list.toArray(new Region[0]));
        for (int q = 0; q < 20_000; q++)
        {
            final long address = BASE - PAGE + random.nextLong((windowPages + 2) * PAGE);
            Region expected = null;
            for (final Region r : list)
            {
                if (r.covers(address))
                {
                    expected = r;
                }
            }
            assertSame(expected, map.find(address), () -> "find " + Long.toHexString(address));
            assertEquals(expected != null, map.isMapped(address));
            assertSame(expected, MapStructure.findByBinarySearch(map, address));
        }
        for (int q = 0; q < 200; q++)
        {
            final long want = (1 + random.nextInt(64)) * PAGE;
            long expected = -1;
            long prevEnd = BASE;
            for (final Region r : list)
            {
                if (r.start() - prevEnd >= want)
                {
                    expected = prevEnd;
                    break;
                }
                prevEnd = r.end();
            }
            if (expected < 0 && BASE + windowPages * PAGE - prevEnd >= want)
            {
                expected = prevEnd;
            }
            assertEquals(expected, map.lowestGap(want), "gap of " + want);
        }
    }

    private static Region region(final long fromPage, final long toPage)
    {
        return new Region(1, BASE + fromPage * PAGE, BASE + toPage * PAGE, FILE, 0, Protection.READ, Sharing.SHARED,
            Advice.NORMAL, false);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14})
    void versionsMadeByChangesAgreeWithVersionsBuiltFromNothing(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final long windowPages = 1 << 18; // 1 GiB: three index levels, huge entries from 1 MiB up
        RegionMap map = RegionMap.empty(BASE, BASE + windowPages * PAGE);
        List<Region> list = new ArrayList<>();
        for (int step = 0; step < 600; step++)
        {
            final List<Region> removed = new ArrayList<>();
            final List<Region> added = new ArrayList<>();
            final int op = random.nextInt(4);
            if (op == 0 || list.isEmpty())
            {
                // map somewhere free: small, or large enough to fill aligned 1 MiB and 256 MiB ranges
                final long len = switch (random.nextInt(4))
                {
                    case 0 -> 256 + random.nextInt(70_000);
                    case 1 -> 1 + random.nextInt(600);
                    default -> 1 + random.nextInt(8);
                };
                final long at = random.nextLong(windowPages - len);
                if (map.isFree(BASE + at * PAGE, BASE + (at + len) * PAGE))
                {
                    added.add(region(at, at + len));
                }
            }
            else
            {
                final int i = random.nextInt(list.size());
                final Region r = list.get(i);
                final long p0 = (r.start() - BASE) / PAGE;
                final long p1 = (r.end() - BASE) / PAGE;
                removed.add(r);
                if (op == 1 && p1 - p0 > 1) // split
                {
                    final long cut = p0 + 1 + random.nextLong(p1 - p0 - 1);
                    added.add(region(p0, cut));
                    added.add(region(cut, p1));
                }
                else if (op == 2 && i + 1 < list.size() && list.get(i + 1).start() == r.end()) // merge
                {
                    removed.add(list.get(i + 1));
                    added.add(region(p0, (list.get(i + 1).end() - BASE) / PAGE));
                }
                else if (op == 3 && p1 - p0 > 2) // unmap the middle
                {
                    added.add(region(p0, p0 + 1));
                    added.add(region(p1 - 1, p1));
                }
            }
            final List<Region> next = new ArrayList<>(list);
            next.removeAll(removed);
            next.addAll(added);
            next.sort((a, b) -> Long.compare(a.start(), b.start()));
            final RegionMap changed = map.next(next.toArray(new Region[0]), removed, added);
            final RegionMap built = RegionMap.of(BASE, BASE + windowPages * PAGE, next.toArray(new Region[0]));
            for (int q = 0; q < 200; q++)
            {
                final long address = BASE - PAGE + random.nextLong((windowPages + 2) * PAGE);
                final Region expected = MapStructure.findByBinarySearch(built, address);
                assertSame(expected, changed.find(address), "step " + step + " find " + Long.toHexString(address));
                assertSame(expected, built.find(address));
            }
            for (final Region r : added) // every page of a change's edges
            {
                assertSame(r, changed.find(r.start()));
                assertSame(r, changed.find(r.end() - 1));
                assertSame(built.find(r.start() - 1), changed.find(r.start() - 1));
                assertSame(built.find(r.end()), changed.find(r.end()));
            }
            for (final Region r : removed)
            {
                assertSame(built.find(r.start()), changed.find(r.start()));
                assertSame(built.find(r.end() - 1), changed.find(r.end() - 1));
            }
            map = changed;
            list = next;
        }
    }

    @org.junit.jupiter.api.Test
    void aChangeCopiesOnlyTheIndexNodesOnItsPathAndLargeRegionsTakeHugeEntries()
    {
        final int n = 20_000;
        final Region[] rs = new Region[n];
        for (int i = 0; i < n; i++)
        {
            rs[i] = region(i, i + 1);
        }
        final long window = 1L << 36; // the default 64 GiB window: three levels
        final RegionMap map = RegionMap.of(BASE, BASE + window, rs);
        assertTrue(MapStructure.indexNodesNotIn(map, RegionMap.empty(BASE, BASE + window)) < n / 200,
            "one 1 KiB leaf per 256 pages, not per region");
        // Move one region from the middle to past the end: two paths change, every other leaf is shared.
        final Region moved = region(n + 10, n + 11);
        final Region[] next = new Region[n];
        System.arraycopy(rs, 0, next, 0, 5_000);
        System.arraycopy(rs, 5_001, next, 5_000, n - 5_001);
        next[n - 1] = moved;
        final RegionMap changed = map.next(next, List.of(rs[5_000]), List.of(moved));
        assertEquals(3, MapStructure.indexNodesNotIn(changed, map), "the middle node both ends share and a leaf for " +
            "each, each copied once per change; the root above them is not kept (every region sits under one of its " +
            "entries)");
        // A node ends where its entries do: the top's 79 (one per MiB), the middle leaf's 256, the last leaf up to
        // the moved region's page 20 010 - 78 * 256 = 42.
        assertEquals(79 + 256 + 43, MapStructure.indexEntriesNotIn(changed, map),
            "the copies are as long as their entries");
        assertSame(null, changed.find(rs[5_000].start()));
        assertSame(moved, changed.find(moved.start()));
        // A 1 GiB region aligned on 256 MiB takes four entries at the top, no leaves.
        final Region huge = region(1L << 18, 2L << 18);
        final RegionMap withHuge = RegionMap.empty(BASE, BASE + window).next(new Region[] {huge}, List.of(),
            List.of(huge));
        assertEquals(1, MapStructure.indexNodesNotIn(withHuge, RegionMap.empty(BASE, BASE + window)), "the root alone");
        assertSame(huge, withHuge.find(huge.start() + 12345));
        assertSame(null, withHuge.find(huge.end()));
        // Unmapping it gives the memory back: the root folds to nothing.
        final RegionMap none = withHuge.next(new Region[0], List.of(huge), List.of());
        assertEquals(0, MapStructure.indexNodesNotIn(none, RegionMap.empty(BASE, BASE + window)));
    }

    @org.junit.jupiter.api.Test
    void aChangeThatDoesNotAddUpIsRefused()
    {
        final Region a = region(0, 2);
        final Region b = region(1, 3);
        final RegionMap one = RegionMap.of(BASE, BASE + (1L << 30), new Region[] {a});
        assertThrows(IllegalStateException.class, () -> one.next(new Region[] {a, b}, List.of(), List.of(b)),
            "overlap");
        assertThrows(IllegalStateException.class, () -> one.next(new Region[] {a}, List.of(), List.of(b)),
            "count");
        assertThrows(IllegalArgumentException.class, () -> RegionMap.empty(BASE + 1, BASE + PAGE));
    }
}
