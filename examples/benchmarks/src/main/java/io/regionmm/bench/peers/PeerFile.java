package io.regionmm.bench.peers;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The one file every contender of a peer benchmark reads: {@code size} bytes in a fresh temporary directory, the
 * long at index {@code i} (native order) being {@link #value(long) value(i)}, so any read can be checked.
 */
final class PeerFile
{
    static final String NAME = "data";

    final Path dir;
    final Path path;
    final long size;

    private PeerFile(final Path dir, final long size)
    {
        this.dir = dir;
        this.path = dir.resolve(NAME);
        this.size = size;
    }

    /** @return a new file of {@code size} bytes (a multiple of 8) filled with the known values. */
    static PeerFile create(final String prefix, final long size) throws IOException
    {
        final PeerFile f = new PeerFile(Files.createTempDirectory(prefix), size);
        try (FileChannel ch = FileChannel.open(f.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE); Arena arena = Arena.ofConfined())
        {
            final MemorySegment s = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            final long longs = size / Long.BYTES;
            for (long i = 0; i < longs; i++)
            {
                s.setAtIndex(ValueLayout.JAVA_LONG, i, value(i));
            }
        }
        return f;
    }

    /** @return the long stored at long index {@code i}. */
    static long value(final long i)
    {
        return i * 0x9E3779B97F4A7C15L ^ (i >>> 7);
    }

    /** @return the sum of all the file's longs, computed without reading it. */
    long expectedSum()
    {
        long sum = 0;
        final long longs = size / Long.BYTES;
        for (long i = 0; i < longs; i++)
        {
            sum += value(i);
        }
        return sum;
    }

    /** Deletes the file and its directory. */
    void delete() throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir))
        {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Fails with the contender's name unless it computed what was expected. */
    static void check(final String contender, final long got, final long expected)
    {
        if (got != expected)
        {
            throw new IllegalStateException(contender + " computed " + got + ", expected " + expected);
        }
    }
}
