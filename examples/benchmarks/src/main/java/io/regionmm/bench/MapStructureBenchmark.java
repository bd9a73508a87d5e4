package io.regionmm.bench;

import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The region map alone, without system calls, up to a million regions: lookup through the page index (find, and
 * isMapped, which does not load the region) against binary search and against an array read (the floor any lookup
 * pays).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MapStructureBenchmark
{
    private static final long BASE = 1L << 40;
    private static final long PAGE = 4096;

    @Param({"10", "1000", "20000", "1000000"})
    public int regions;

    RegionMap map;
    long[] addresses;
    long[] plain;
    int i;

    @Setup
    public void setUp()
    {
        final FileHandle file = new FileHandle(1, Path.of("none"), true, 1, 0, 0);
        final Region[] rs = new Region[regions];
        final SplittableRandom random = new SplittableRandom(7);
        long at = 0;
        for (int k = 0; k < regions; k++)
        {
            final long len = 1 + random.nextInt(4);
            rs[k] = new Region(1, BASE + at * PAGE, BASE + (at + len) * PAGE, file, 0, Protection.READ,
                Sharing.SHARED, Advice.NORMAL, false);
            at += len + random.nextInt(2);
        }
        map = RegionMap.of(BASE, BASE + (at + 16) * PAGE, rs);
        addresses = new long[1 << 16];
        plain = new long[regions];
        for (int k = 0; k < addresses.length; k++)
        {
            addresses[k] = BASE + random.nextLong(at) * PAGE;
        }
    }

    @Benchmark
    public long arrayRead()
    {
        return plain[(int)((addresses[i++ & 0xFFFF] - BASE) / PAGE % regions)];
    }

    @Benchmark
    public Region pageIndexFind()
    {
        return map.find(addresses[i++ & 0xFFFF]);
    }

    @Benchmark
    public boolean pageIndexIsMapped()
    {
        return map.isMapped(addresses[i++ & 0xFFFF]);
    }

    @Benchmark
    public Region binarySearch()
    {
        return findByBinarySearch(map, addresses[i++ & 0xFFFF]);
    }

    /**
     * The baseline lookup: binary search of the map's sorted list alone, without the page index (what an ordered
     * tree costs). The same work as the writers' lookups ({@link RegionMap#indexOf}, then the region at that index).
     *
     * @param map     the version.
     * @param address any address.
     * @return the region covering it, or null.
     */
    static Region findByBinarySearch(final RegionMap map, final long address)
    {
        final int k = map.indexOf(address);
        return k >= 0 ? map.get(k) : null;
    }
}
