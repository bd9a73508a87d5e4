package io.regionmm.bench;

import io.regionmm.map.RegionMap;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MapOptions;
import io.regionmm.space.MappingException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * An address space with {@code n} one-page regions (alternating protection, so neither we nor the kernel merge
 * them), a raw mapping of the same file for baselines, and random addresses to look up.
 */
final class Fixture implements AutoCloseable
{
    static final long PAGE = 4096;
    static final int ADDRESSES = 1 << 14;

    final Path dir;
    final AddressSpace space;
    final FileHandle file;
    final Arena rawArena = Arena.ofShared();
    final MemorySegment raw;
    final long[] addresses = new long[ADDRESSES];
    final long base;
    /** The file's own descriptor, for baselines that map it raw (the space keeps its descriptor to itself). */
    final int fd;
    /** A map version equal to the space's, for benchmarks of the map's own lookups (the space's is internal). */
    final RegionMap map;

    Fixture(final int n) throws IOException, MappingException, io.regionmm.kernel.KernelException
    {
        dir = Files.createTempDirectory("regionmm-bench");
        final Path path = dir.resolve("data");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
        {
            f.setLength(n * PAGE + PAGE);
        }
        space = AddressSpace.create(io.regionmm.kernel.Kernel.system(), Math.max(1L << 30, 4 * n * PAGE));
        file = space.openFile(path, FileAccess.READ_WRITE);
        base = space.windowStart();
        try (var w = space.beginWrite())
        {
            for (int i = 0; i < n; i++)
            {
                w.map(file, i * PAGE, PAGE, i % 2 == 0 ? Protection.READ : Protection.READ_WRITE, Sharing.SHARED,
                    MapOptions.DEFAULT.at(base + i * PAGE));
            }
        }
        if (space.regions().size() != n)
        {
            throw new IllegalStateException("expected " + n + " regions, got " + space.regions().size());
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            raw = ch.map(FileChannel.MapMode.READ_WRITE, 0, n * PAGE, rawArena);
        }
        fd = io.regionmm.kernel.Kernel.system().open(path.toString(), io.regionmm.kernel.Fcntl.O_RDWR, 0);
        map = RegionMap.of(base, space.windowEnd(), space.regions().toArray(new Region[0]));
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < ADDRESSES; i++)
        {
            addresses[i] = base + random.nextLong(n) * PAGE + random.nextInt((int)PAGE / 8) * 8L;
        }
    }

    /** The one system call regionmm's unmap makes, bare: a read-only anonymous page over {@code at}. */
    static void tombstone(final long at) throws io.regionmm.kernel.KernelException
    {
        io.regionmm.kernel.Kernel.system().mmap(at, PAGE, io.regionmm.kernel.Mman.PROT_READ,
            io.regionmm.kernel.Mman.MAP_PRIVATE | io.regionmm.kernel.Mman.MAP_ANONYMOUS |
            io.regionmm.kernel.Mman.MAP_NORESERVE | io.regionmm.kernel.Mman.MAP_FIXED, -1, 0);
    }

    Region regionAt(final int i)
    {
        return space.regions().get(i);
    }

    @Override
    public void close() throws IOException
    {
        space.close();
        rawArena.close();
        try
        {
            io.regionmm.kernel.Kernel.system().close(fd);
        }
        catch (final io.regionmm.kernel.KernelException ex)
        {
            throw new IOException(ex);
        }
        try (var files = Files.walk(dir))
        {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
