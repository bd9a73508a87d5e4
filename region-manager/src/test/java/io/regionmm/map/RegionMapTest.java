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

/**
 * The map structure alone (no system calls): directory lookup, binary search and gap search agree with a linear
 * scan on random layouts, dense, sparse and skewed.
 */
class RegionMapTest
{
    private static final long BASE = 1L << 40;
    private static final long PAGE = 4096;
    private static final FileHandle FILE = new FileHandle(1, Path.of("f"), -1, true, 1, 0, 0);

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
            assertSame(expected, map.findByBinarySearch(address));
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
}
