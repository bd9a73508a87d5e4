package io.regionmm.bench;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Mman;
import io.regionmm.map.MapEdit;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MapOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One write operation in a fresh map version, against the number of regions (issue 13: placement without a fixed
 * address and remap moves searched a gap tree rebuilt per version, O(n)). The space holds {@code regions} two-page
 * regions of one file from the window's start, with alternating protection (neither regionmm nor the kernel merges
 * them), and a free window after them. Each benchmark is a cycle that puts the layout back, so every invocation
 * starts from a version no gap search has seen:
 *
 * <ul>
 *   <li>{@code mapAnywhereThenUnmap}: map one page without a fixed address (placed in the lowest gap, after the
 *       regions), unmap it;</li>
 *   <li>{@code remapGrowMovesThenBack}: grow a region in the middle by a page (its neighbours leave no room: it
 *       moves to the lowest gap that fits), then unmap it there and map it back at its place (fixed address);</li>
 *   <li>{@code splitThenMerge} and {@code protectThereAndBack}: writes that search no gap, for what the map update
 *       costs alone;</li>
 *   <li>{@code bareMmapThenMunmap}: the raw system calls of the first, a baseline of the same run;</li>
 *   <li>{@code mapOnly...}: the map structure's part of the first two alone (gap search in a version no search has
 *       seen, then two {@link MapEdit} builds), without system calls, locks or readers: what issue 13 is about,
 *       measured apart from the kernel's costs and their noise.</li>
 * </ul>
 *
 * <p>{@code mvn -q -B process-classes -Pbench -Dbench.args="PlacementBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s"}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PlacementBenchmark
{
    private static final long PAGE = 4096;

    @Param({"64", "1000", "10000", "60000"})
    int regions;

    private Path dir;
    private AddressSpace space;
    private FileHandle file;
    private int fd;
    private long base;
    private int middle;
    private long middleStart;
    private Protection middleProtection;
    private Protection lastOther;
    private RegionMap map; // the mapOnly benchmarks' current version (a fresh one after each invocation)
    private long seq = 1;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        dir = Files.createTempDirectory("regionmm-placement");
        final Path path = dir.resolve("data");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
        {
            f.setLength((2L * regions + 4) * PAGE);
        }
        space = AddressSpace.create(Kernel.system(), Math.max(1L << 30, 4 * 2L * regions * PAGE));
        file = space.openFile(path, FileAccess.READ_WRITE);
        base = space.windowStart();
        try (var w = space.beginWrite())
        {
            for (int i = 0; i < regions; i++)
            {
                w.map(file, 2L * i * PAGE, 2 * PAGE, protection(i), Sharing.SHARED,
                    MapOptions.DEFAULT.at(base + 2L * i * PAGE));
            }
        }
        if (space.regions().size() != regions)
        {
            throw new IllegalStateException("expected " + regions + " regions, got " + space.regions().size());
        }
        middle = regions / 2;
        middleStart = base + 2L * middle * PAGE;
        middleProtection = protection(middle);
        lastOther = protection(regions); // not the last region's: the mapped page does not merge with it
        fd = Kernel.system().open(path.toString(), io.regionmm.kernel.Fcntl.O_RDWR, 0);
        map = RegionMap.of(base, space.windowEnd(), space.regions().toArray(new Region[0]));
    }

    private static Protection protection(final int i)
    {
        return i % 2 == 0 ? Protection.READ : Protection.READ_WRITE;
    }

    private static Protection other(final Protection p)
    {
        return p == Protection.READ ? Protection.READ_WRITE : Protection.READ;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        if (space.regions().size() != regions || map.size() != regions)
        {
            throw new IllegalStateException("layout not restored: " + space.regions().size() + " regions, map of " +
                map.size());
        }
        space.close();
        Kernel.system().close(fd);
        try (var files = Files.walk(dir))
        {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public long mapAnywhereThenUnmap() throws Exception
    {
        // File offset 0: not contiguous with the last region's, so no merge with it either way.
        final long at = space.map(file, 0, PAGE, lastOther, Sharing.SHARED);
        space.unmap(at, PAGE);
        return at;
    }

    @Benchmark
    public long remapGrowMovesThenBack() throws Exception
    {
        final long at = space.remap(middleStart, 3 * PAGE, false);
        if (at == middleStart)
        {
            throw new IllegalStateException("remap grew in place");
        }
        space.unmap(at, 3 * PAGE);
        space.map(file, 2L * middle * PAGE, 2 * PAGE, middleProtection, Sharing.SHARED,
            MapOptions.DEFAULT.at(middleStart));
        return at;
    }

    @Benchmark
    public void splitThenMerge()
    {
        space.split(middleStart + PAGE);
        space.merge(middleStart, 2 * PAGE);
    }

    @Benchmark
    public void protectThereAndBack() throws Exception
    {
        // The other protection merges the region with both neighbours (contiguous file offsets); back splits it.
        space.protect(middleStart, 2 * PAGE, other(middleProtection));
        space.protect(middleStart, 2 * PAGE, middleProtection);
    }

    /** The map's part of {@link #mapAnywhereThenUnmap}: search, insert (a version), cut (the next version). */
    @Benchmark
    public long mapOnlyInsertAnywhereThenCut()
    {
        final long at = map.lowestGap(PAGE);
        final MapEdit in = new MapEdit(map, ++seq);
        in.insert(new Region(seq, at, at + PAGE, file, 0, lastOther, Sharing.SHARED, Advice.NORMAL, false));
        in.freeze();
        final MapEdit out = new MapEdit(in.build(), ++seq);
        out.cut(at, at + PAGE);
        out.freeze();
        map = out.build();
        return at;
    }

    /** The map's part of {@link #remapGrowMovesThenBack}: search, move there grown (a version), move back. */
    @Benchmark
    public long mapOnlyMoveGrownThenBack()
    {
        final long at = map.lowestGap(3 * PAGE);
        final MapEdit there = new MapEdit(map, ++seq);
        there.move(there.firstEndingAfter(middleStart), at, 3 * PAGE);
        there.freeze();
        final MapEdit back = new MapEdit(there.build(), ++seq);
        back.move(back.firstEndingAfter(at), middleStart, 2 * PAGE);
        back.freeze();
        map = back.build();
        return at;
    }

    @Benchmark
    public long bareMmapThenMunmap() throws Exception
    {
        final Kernel k = Kernel.system();
        final long at = k.mmap(0, PAGE, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
        k.munmap(at, PAGE);
        return at;
    }
}
