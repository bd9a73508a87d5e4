package io.regionmm.bench;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Mman;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.MapOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Unmapping a region while another thread reads other regions: regionmm against the bare munmap, against the one
 * system call regionmm makes for it (a tombstone mapped over the range), and against closing a shared Arena that
 * holds a mapping (the JDK's way to unmap safely, which hand shakes with every thread).
 *
 * <p>The kernel's cost of a call depends on the neighbours of the range (a VMA split or merged, a maple tree node
 * rewritten), so each bare call is measured twice: on a lone one-page mapping ({@code bare...}), and on the last
 * page of a mirror of the fixture's layout ({@code mirror...}: 64 pages of the same file with alternating
 * protection, followed by a read-only anonymous reservation like regionmm's window), where the kernel does what it
 * does for regionmm's unmap. The {@code ...Unmap} and
 * {@code ...Close} benchmarks time the unmap alone (the mapping is put back by a per-invocation setup, outside the
 * timing: these operations take microseconds, far above the setup's timestamp cost); the {@code ...Then...}
 * ones time a whole unmap + map cycle.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class UnmapBenchmark
{
    Fixture fx;
    java.nio.file.Path arenaFile;
    long bareAddress;
    long mirror;
    long mirrorAt; // the mirror's page 63, which the mirror... benchmarks unmap
    private Thread reader;
    private volatile boolean stop;
    private volatile long sink;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(64);
        arenaFile = fx.dir.resolve("arena");
        try (RandomAccessFile f = new RandomAccessFile(arenaFile.toFile(), "rw"))
        {
            f.setLength(Fixture.PAGE);
        }
        bareAddress = Kernel.system().mmap(0, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED,
            fx.fd, 0);
        final Kernel k = Kernel.system();
        mirror = k.mmap(0, 1L << 30, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
        for (int i = 0; i < 64; i++)
        {
            final int prot = i % 2 == 0 ? Mman.PROT_READ : Mman.PROT_READ | Mman.PROT_WRITE; // as the fixture's
            k.mmap(mirror + i * Fixture.PAGE, Fixture.PAGE, prot, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd,
                i * Fixture.PAGE);
        }
        mirrorAt = mirror + 63 * Fixture.PAGE;
        reader = new Thread(() -> {
            long s = 0;
            int i = 0;
            while (!stop)
            {
                s += fx.space.readLong(fx.addresses[i++ & (Fixture.ADDRESSES - 1)]);
            }
            sink = s;
        }, "reader");
        reader.setDaemon(true);
        // The reader reads regions 0..62; the benchmarks unmap region 63 (and the arena variant its own mapping).
        for (int j = 0; j < Fixture.ADDRESSES; j++)
        {
            fx.addresses[j] = fx.base + (fx.addresses[j] - fx.base) % (63 * Fixture.PAGE);
        }
        reader.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        stop = true;
        reader.join();
        Kernel.system().munmap(bareAddress, Fixture.PAGE);
        Kernel.system().munmap(mirror, 1L << 30);
        fx.close();
    }

    @Benchmark
    public void regionmmUnmapThenMap() throws Exception
    {
        final long at = fx.base + 63 * Fixture.PAGE;
        fx.space.unmap(at, Fixture.PAGE);
        fx.space.map(fx.file, 63 * Fixture.PAGE, Fixture.PAGE, Protection.READ_WRITE, Sharing.SHARED,
            MapOptions.DEFAULT.at(at));
    }

    @Benchmark
    public void bareMunmapThenMmap() throws Exception
    {
        final Kernel k = Kernel.system();
        k.munmap(bareAddress, Fixture.PAGE);
        bareAddress = k.mmap(bareAddress, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED,
            fx.fd, 0);
    }

    @Benchmark
    public void mirrorMunmapThenMmap() throws Exception
    {
        final Kernel k = Kernel.system();
        k.munmap(mirrorAt, Fixture.PAGE);
        k.mmap(mirrorAt, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd,
            63 * Fixture.PAGE);
    }

    @Benchmark
    public void mirrorTombstoneThenMapFixed() throws Exception
    {
        final Kernel k = Kernel.system();
        Fixture.tombstone(mirrorAt);
        k.mmap(mirrorAt, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd,
            63 * Fixture.PAGE);
    }

    /** The same two system calls regionmm makes (tombstone over the region, file over the tombstone), bare. */
    @Benchmark
    public void bareTombstoneThenMapFixed() throws Exception
    {
        final Kernel k = Kernel.system();
        Fixture.tombstone(bareAddress);
        k.mmap(bareAddress, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED,
            fx.fd, 0);
    }

    @Benchmark
    public long sharedArenaMapThenClose() throws Exception
    {
        final Arena arena = Arena.ofShared();
        final MemorySegment seg;
        try (FileChannel ch = FileChannel.open(arenaFile, StandardOpenOption.READ))
        {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, Fixture.PAGE, arena);
        }
        final long v = seg.get(ValueLayout.JAVA_LONG, 0);
        arena.close();
        return v;
    }

    /** Region 63 mapped again before each invocation of {@link #regionmmUnmap}. */
    @State(Scope.Thread)
    public static class RegionMapped
    {
        @Setup(Level.Invocation)
        public void mapBack(final UnmapBenchmark b) throws Exception
        {
            final long at = b.fx.base + 63 * Fixture.PAGE;
            if (b.fx.map.find(at) == null) // the fixture starts with it mapped
            {
                b.fx.space.map(b.fx.file, 63 * Fixture.PAGE, Fixture.PAGE, Protection.READ_WRITE, Sharing.SHARED,
                    MapOptions.DEFAULT.at(at));
            }
        }
    }

    /** The bare mapping mapped again before each invocation. */
    @State(Scope.Thread)
    public static class BareMapped
    {
        @Setup(Level.Invocation)
        public void mapBack(final UnmapBenchmark b) throws Exception
        {
            b.bareAddress = Kernel.system().mmap(b.bareAddress, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_SHARED | Mman.MAP_FIXED, b.fx.fd, 0);
        }
    }

    /** The mirror's page 63 mapped again before each invocation. */
    @State(Scope.Thread)
    public static class MirrorMapped
    {
        @Setup(Level.Invocation)
        public void mapBack(final UnmapBenchmark b) throws Exception
        {
            Kernel.system().mmap(b.mirrorAt, Fixture.PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_SHARED | Mman.MAP_FIXED, b.fx.fd, 63 * Fixture.PAGE);
        }
    }

    /** A shared arena holding a fresh mapping before each invocation. */
    @State(Scope.Thread)
    public static class ArenaMapped
    {
        Arena arena;

        @Setup(Level.Invocation)
        public void map(final UnmapBenchmark b) throws Exception
        {
            arena = Arena.ofShared();
            try (FileChannel ch = FileChannel.open(b.arenaFile, StandardOpenOption.READ))
            {
                ch.map(FileChannel.MapMode.READ_ONLY, 0, Fixture.PAGE, arena).get(ValueLayout.JAVA_LONG, 0);
            }
        }
    }

    @Benchmark
    public void regionmmUnmap(final RegionMapped mapped) throws Exception
    {
        fx.space.unmap(fx.base + 63 * Fixture.PAGE, Fixture.PAGE);
    }

    @Benchmark
    public void bareMunmap(final BareMapped mapped) throws Exception
    {
        Kernel.system().munmap(bareAddress, Fixture.PAGE);
    }

    /** The one system call regionmm's unmap makes, bare. */
    @Benchmark
    public void bareTombstone(final BareMapped mapped) throws Exception
    {
        Fixture.tombstone(bareAddress);
    }

    @Benchmark
    public void mirrorMunmap(final MirrorMapped mapped) throws Exception
    {
        Kernel.system().munmap(mirrorAt, Fixture.PAGE);
    }

    /** The one system call regionmm's unmap makes, bare, where the kernel does the same work for it. */
    @Benchmark
    public void mirrorTombstone(final MirrorMapped mapped) throws Exception
    {
        Fixture.tombstone(mirrorAt);
    }

    @Benchmark
    public void sharedArenaClose(final ArenaMapped mapped)
    {
        mapped.arena.close();
    }
}
