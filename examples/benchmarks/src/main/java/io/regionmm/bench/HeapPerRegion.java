package io.regionmm.bench;

import io.regionmm.kernel.Kernel;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MapOptions;
import net.openhft.chronicle.bytes.MappedBytesStore;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.MMapDirectory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Heap bytes per mapped piece, regionmm beside its peers, in one run:
 * {@code mvn -o -q -B process-classes -Pbench -pl examples/benchmarks -am
 * -Dbench.main=io.regionmm.bench.HeapPerRegion -Dbench.args=}.
 * <p>
 * Each figure is the growth of the used heap (after full collections) from before to after creating {@code N}
 * one-page pieces of one real file, divided by {@code N}; what the pieces live in (an empty space and its open file,
 * a channel, a shared arena, a Lucene directory, a Chronicle {@code MappedFile}) is created before the first
 * measurement, so it is not counted. Where the caller must hold the pieces itself (every peer), the array that holds
 * them is counted (4 bytes a reference). Each contender runs once at 256 pieces first, uncounted, so class loading
 * and first-use caches are not counted either. The new VMAs column counts the lines {@code /proc/self/maps} gained:
 * it says how many real mappings a row's pieces are. Peers make at most 20 000 real mappings
 * ({@code vm.max_map_count} is 65 530), and each contender's mappings are unmapped before the next runs; only
 * regionmm's map version alone, which maps nothing, is also measured at 1 000 000.
 */
public final class HeapPerRegion
{
    private static final long PAGE = Fixture.PAGE;
    private static final int WARM_UP = 256;
    /** VMAs the JVM itself may add or drop while a contender runs (thread stacks, code heap, GC). */
    private static final long VMA_SLACK = 64;

    private HeapPerRegion()
    {
    }

    /**
     * @param args ignored.
     * @throws Exception when a contender fails to map, read or unmap its pieces.
     */
    public static void main(final String[] args) throws Exception
    {
        // A name of fixed length: Lucene's slices carry a description that names the file's path.
        final Path dir = Files.createDirectory(Path.of(System.getProperty("java.io.tmpdir"),
            String.format("regionmm-heap-%010d", ProcessHandle.current().pid())));
        try
        {
            final List<Row> rows = new ArrayList<>();
            build(WARM_UP);
            for (final int n : new int[] {1_000, 20_000, 1_000_000})
            {
                final long before = used();
                final RegionMap map = build(n);
                final long after = used();
                check("map version", map.size(), n);
                rows.add(new Row("regionmm map version only", n, -1, (after - before) / (double)n));
            }
            final Contender[] contenders = {new Space(), new Jdk(JdkKind.ONE_ARENA), new Jdk(JdkKind.ARENA_EACH),
                new Jdk(JdkKind.BUFFER), new LuceneChunks(), new LuceneSlices(), new ChronicleChunks()};
            for (final Contender c : contenders)
            {
                measure(c, pieces(dir, WARM_UP), WARM_UP);
                for (final int n : new int[] {1_000, 20_000})
                {
                    rows.add(measure(c, pieces(dir, n), n));
                }
            }
            print(rows);
        }
        finally
        {
            try (Stream<Path> walk = Files.walk(dir))
            {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
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

    private static Row measure(final Contender c, final Path file, final int n) throws Exception
    {
        c.open(file, n);
        final long vmas = vmas();
        final long before = used();
        c.make(n);
        final long after = used();
        final long made = vmas() - vmas;
        c.close();
        awaitUnmapped(c.name, vmas);
        return new Row(c.name, n, made, (after - before) / (double)n);
    }

    /** A MappedByteBuffer is unmapped by its cleaner once collected: collect until the VMAs are gone. */
    private static void awaitUnmapped(final String name, final long vmas) throws IOException, InterruptedException
    {
        for (int i = 0; vmas() > vmas + VMA_SLACK; i++)
        {
            if (i == 500)
            {
                throw new IllegalStateException(name + " left " + (vmas() - vmas) + " VMAs mapped");
            }
            System.gc();
            Thread.sleep(10);
        }
    }

    /** @return a file of {@code n} pages (sparse), made once per {@code n}. */
    private static Path pieces(final Path dir, final int n) throws IOException
    {
        final Path path = dir.resolve("pieces-" + n);
        if (!Files.exists(path))
        {
            try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
            {
                f.setLength(n * PAGE);
            }
        }
        return path;
    }

    private static void print(final List<Row> rows)
    {
        System.out.println("Heap bytes per mapping: used heap after full collections, before and after creating N" +
            " one-page pieces of one file");
        System.out.printf("%-38s %9s %9s %14s %16s%n", "contender", "N", "new VMAs", "bytes/mapping",
            "x regionmm space");
        for (final Row r : rows)
        {
            final Row space = rows.stream().filter(s -> s.contender.equals(Space.NAME) && s.n == r.n)
                .findFirst().orElse(null);
            System.out.printf("%-38s %,9d %9s %14.1f %16s%n", r.contender, r.n, r.vmas < 0 ? "-" : r.vmas,
                r.bytes, space == null ? "-" : String.format("%.2f", r.bytes / space.bytes));
        }
        System.out.println("""
            new VMAs: lines /proc/self/maps gained (give or take a few dozen: the JVM's threads come and go).
            map version only: the regions (with their views), arrays, directory and gap index of one version.
            live space: an AddressSpace with N one-page regions of alternating protection, mapped in one write.
            JDK segments: FileChannel.map(READ_ONLY, offset, 4096, arena), in one Arena.ofShared() or in one each.
            Lucene 4 KiB chunks: new MMapDirectory(dir, 4096), one openInput of the N-page file: a segment per
              page, all in the input's one shared arena (Lucene's own chunking; no other way to map a piece).
            Lucene slices: IndexInput.slice per page of one input (default chunk size, mapped in open): views of
              one mapping, no mapping each; each slice carries a description naming the file's path.
            Chronicle 4 KiB chunks: MappedFile.of(file, 4096, 0, false), acquireByteStore of every chunk, each
              held: a chunk is a mapping of the chunk size (plus overlap, 0 here), so it plays the piece.""");
    }

    private static long vmas() throws IOException
    {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            return lines.count();
        }
    }

    private static void check(final String what, final long got, final long expected)
    {
        if (got != expected)
        {
            throw new IllegalStateException(what + ": " + got + ", expected " + expected);
        }
    }

    private static long used()
    {
        for (int i = 0; i < 4; i++)
        {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** One line of the table; {@code vmas} &lt; 0 where nothing is mapped. */
    private record Row(String contender, int n, long vmas, double bytes)
    {
    }

    /** What maps {@code n} pieces: {@code open} (not counted), {@code make} (counted), {@code close} (unmaps). */
    private abstract static class Contender
    {
        final String name;

        Contender(final String name)
        {
            this.name = name;
        }

        abstract void open(Path file, int n) throws Exception;

        abstract void make(int n) throws Exception;

        abstract void close() throws Exception;
    }

    /** regionmm: a live space's whole cost per region (map versions, regions, views, pins, anything it keeps). */
    private static final class Space extends Contender
    {
        static final String NAME = "regionmm live space";
        private AddressSpace space;
        private FileHandle file;

        Space()
        {
            super(NAME);
        }

        @Override
        void open(final Path path, final int n) throws Exception
        {
            space = AddressSpace.create(Kernel.system(), Math.max(1L << 30, 4 * n * PAGE));
            file = space.openFile(path, FileAccess.READ_WRITE);
        }

        @Override
        void make(final int n) throws Exception
        {
            final long base = space.windowStart();
            try (var w = space.beginWrite())
            {
                for (int i = 0; i < n; i++)
                {
                    w.map(file, i * PAGE, PAGE, i % 2 == 0 ? Protection.READ : Protection.READ_WRITE,
                        Sharing.SHARED, MapOptions.DEFAULT.at(base + i * PAGE));
                }
            }
            check(name, space.regions().size(), n);
        }

        @Override
        void close()
        {
            space.close();
            space = null;
            file = null;
        }
    }

    /** How the raw JDK maps a piece: {@code FileChannel.map} into one arena, into an arena each, or without one. */
    private enum JdkKind
    {
        /** A segment per piece, all in one shared arena (closed together). */
        ONE_ARENA("JDK segments, one shared arena"),
        /** A segment per piece, each in its own shared arena (what closing a piece alone needs). */
        ARENA_EACH("JDK segments, an Arena.ofShared() each"),
        /** A MappedByteBuffer per piece, unmapped by its cleaner once collected. */
        BUFFER("JDK MappedByteBuffer");

        final String label;

        JdkKind(final String label)
        {
            this.label = label;
        }
    }

    /** The raw JDK: {@code FileChannel.map} of every piece, as its {@link JdkKind} says. */
    private static final class Jdk extends Contender
    {
        private final JdkKind kind;
        private FileChannel channel;
        private Arena arena;
        private Arena[] arenas;
        private Object[] pieces;

        Jdk(final JdkKind kind)
        {
            super(kind.label);
            this.kind = kind;
        }

        @Override
        void open(final Path path, final int n) throws IOException
        {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            arena = kind == JdkKind.ONE_ARENA ? Arena.ofShared() : null;
        }

        @Override
        void make(final int n) throws IOException
        {
            pieces = new Object[n];
            arenas = kind == JdkKind.ARENA_EACH ? new Arena[n] : null;
            for (int i = 0; i < n; i++)
            {
                if (kind == JdkKind.BUFFER)
                {
                    pieces[i] = channel.map(FileChannel.MapMode.READ_ONLY, i * PAGE, PAGE);
                    continue;
                }
                if (arenas != null)
                {
                    arenas[i] = Arena.ofShared();
                }
                pieces[i] = channel.map(FileChannel.MapMode.READ_ONLY, i * PAGE, PAGE,
                    arenas != null ? arenas[i] : arena);
            }
        }

        @Override
        void close() throws IOException
        {
            if (arena != null)
            {
                arena.close();
            }
            for (int i = 0; arenas != null && i < arenas.length; i++)
            {
                arenas[i].close();
            }
            channel.close();
            arena = null;
            arenas = null;
            pieces = null;
        }
    }

    /** Lucene: one input of the N-page file in an MMapDirectory whose chunks are one page: a mapping a page. */
    private static final class LuceneChunks extends Contender
    {
        private MMapDirectory dir;
        private String fileName;
        private IndexInput input;

        LuceneChunks()
        {
            super("Lucene MMapDirectory, 4 KiB chunks");
        }

        @Override
        void open(final Path path, final int n) throws IOException
        {
            dir = new MMapDirectory(path.getParent(), PAGE);
            fileName = path.getFileName().toString();
        }

        @Override
        void make(final int n) throws IOException
        {
            input = dir.openInput(fileName, IOContext.DEFAULT);
            check(name, input.length(), n * PAGE);
        }

        @Override
        void close() throws IOException
        {
            input.close();
            dir.close();
            input = null;
        }
    }

    /** Lucene: a slice per piece of one input mapped whole; the slices share its one mapping. */
    private static final class LuceneSlices extends Contender
    {
        private MMapDirectory dir;
        private IndexInput input;
        private IndexInput[] pieces;

        LuceneSlices()
        {
            super("Lucene slices of one mapping");
        }

        @Override
        void open(final Path path, final int n) throws IOException
        {
            dir = new MMapDirectory(path.getParent());
            input = dir.openInput(path.getFileName().toString(), IOContext.DEFAULT);
        }

        @Override
        void make(final int n) throws IOException
        {
            pieces = new IndexInput[n];
            for (int i = 0; i < n; i++)
            {
                pieces[i] = input.slice("piece", i * PAGE, PAGE);
            }
        }

        @Override
        void close() throws IOException
        {
            input.close();
            dir.close();
            pieces = null;
        }
    }

    /** Chronicle: a chunked MappedFile with one-page chunks and no overlap, every chunk acquired and held. */
    private static final class ChronicleChunks extends Contender
    {
        private final ReferenceOwner owner = ReferenceOwner.temporary("HeapPerRegion");
        private MappedFile file;
        private MappedBytesStore[] pieces;

        ChronicleChunks()
        {
            super("Chronicle MappedFile, 4 KiB chunks");
        }

        @Override
        void open(final Path path, final int n) throws IOException
        {
            file = MappedFile.of(path.toFile(), PAGE, 0, false);
        }

        @Override
        void make(final int n) throws IOException
        {
            pieces = new MappedBytesStore[n];
            for (int i = 0; i < n; i++)
            {
                pieces[i] = file.acquireByteStore(owner, i * PAGE);
            }
        }

        @Override
        void close()
        {
            for (final MappedBytesStore s : pieces)
            {
                s.release(owner);
            }
            file.releaseLast();
            pieces = null;
        }
    }
}
