package io.regionmm.bench;

import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

/**
 * Heap bytes per region of a region map version (regions with their views, arrays, directory, and the gap index
 * of per-chunk summaries, which every version carries), measured as the growth of the used heap after full
 * collections:
 * {@code mvn -q -B process-classes -Pbench -Dbench.main=io.regionmm.bench.HeapPerRegion -Dbench.args=}.
 */
public final class HeapPerRegion
{
    private HeapPerRegion()
    {
    }

    /**
     * @param args ignored.
     */
    public static void main(final String[] args)
    {
        for (final int n : new int[] {1_000, 20_000, 1_000_000})
        {
            final long before = used();
            final RegionMap map = build(n);
            final long after = used();
            System.out.printf("%,9d regions: %6.1f bytes/region (map of %d)%n", n, (after - before) / (double)n,
                map.size());
        }
    }

    private static RegionMap build(final int n)
    {
        final FileHandle file = new FileHandle(1, Path.of("none"), true, 1, 0, 0);
        final long base = 1L << 40;
        final Region[] rs = new Region[n];
        for (int k = 0; k < n; k++)
        {
            rs[k] = new Region(1, base + 2L * k * 4096, base + (2L * k + 1) * 4096, file, k * 4096L,
                Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
            // As in a live space: each region carries its read-only view (never accessed here).
            rs[k].attachView(MemorySegment.ofAddress(rs[k].start()).reinterpret(4096).asReadOnly());
        }
        return RegionMap.of(base, base + (2L * n + 1) * 4096, rs);
    }

    private static long used()
    {
        for (int i = 0; i < 4; i++)
        {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
