package io.regionmm.bench.peers;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
import io.regionmm.space.MapOptions;
import net.openhft.chronicle.bytes.MappedBytes;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.store.RandomAccessInput;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Random 8-byte reads over one 64 MiB file, the same seeded offsets for every contender: a raw {@code FileChannel.map}
 * segment (the baseline), Lucene's {@code MMapDirectory} ({@code RandomAccessInput.readLong}), Agrona's
 * {@code UnsafeBuffer} over a {@code MappedByteBuffer}, Chronicle's single-mapping {@code MappedBytes}, 1 024 raw
 * mappings of 64 KiB found by index or through a {@code TreeMap}, and regionmm over 1 024 regions of 64 KiB:
 * {@code space.readLong}, a lease per read, and one lease held across 16 reads in one 4 KiB page (the database
 * pattern: pin a page, read a record; reported per read, with raw and Lucene reading the same 16 addresses).
 * Every contender's reads are summed once in setup and checked against the file's known values.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {
    "--enable-native-access=ALL-UNNAMED",
    // Agrona's UnsafeBuffer: jdk.internal.misc.Unsafe
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    // Chronicle Bytes' documented JDK 17+ flags, its sun.misc.Unsafe memory access, no usage analytics
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens", "java.base/java.io=ALL-UNNAMED",
    "--add-opens", "java.base/java.util=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
    "-Dchronicle.analytics.disable=true",
    "-Dorg.slf4j.simpleLogger.log.net.openhft=warn"})
public class RandomReadPeers
{
    static final long SIZE = 64L << 20;
    static final int PIECES = 1024;
    static final long PIECE = SIZE / PIECES;
    static final int PIECE_SHIFT = Long.numberOfTrailingZeros(PIECE);
    static final long PAGE = 4096;
    static final int BATCH = 16;
    static final int OFFSETS = 1 << 16;
    static final long SEED = 0x5EEDL;

    private PeerFile file;
    private final long[] offsets = new long[OFFSETS];
    /** Groups of 16 offsets, each group inside one 4 KiB page. */
    private final long[] batches = new long[OFFSETS];
    private int cursor;

    private Arena arena;
    private MemorySegment raw;
    private final MemorySegment[] pieces = new MemorySegment[PIECES];
    private final TreeMap<Long, MemorySegment> tree = new TreeMap<>();
    private MMapDirectory luceneDir;
    private IndexInput luceneInput;
    private RandomAccessInput lucene;
    private MappedByteBuffer mapped;
    private UnsafeBuffer agrona;
    private MappedBytes chronicle;
    private AddressSpace space;
    private long base;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        file = PeerFile.create("regionmm-random-peers", SIZE);
        final SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < OFFSETS; i++)
        {
            offsets[i] = random.nextLong(SIZE / Long.BYTES) * Long.BYTES;
        }
        for (int i = 0; i < OFFSETS; i++)
        {
            batches[i] = (offsets[i - i % BATCH] & -PAGE) | (offsets[i] & (PAGE - 1));
        }
        arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file.path, StandardOpenOption.READ))
        {
            raw = ch.map(FileChannel.MapMode.READ_ONLY, 0, SIZE, arena);
            for (int p = 0; p < PIECES; p++)
            {
                pieces[p] = ch.map(FileChannel.MapMode.READ_ONLY, p * PIECE, PIECE, arena);
                tree.put(p * PIECE, pieces[p]);
            }
            mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, SIZE);
        }
        agrona = new UnsafeBuffer(mapped);
        luceneDir = new MMapDirectory(file.dir);
        luceneInput = luceneDir.openInput(PeerFile.NAME, IOContext.DEFAULT);
        lucene = luceneInput.randomAccessSlice(0, SIZE);
        chronicle = MappedBytes.singleMappedBytes(file.path.toFile(), SIZE, true);
        space = AddressSpace.create();
        base = space.windowStart();
        final FileHandle handle = space.openFile(file.path, FileAccess.READ_WRITE);
        try (var w = space.beginWrite())
        {
            // alternating protection, so neither regionmm nor the kernel merges neighbours
            for (int p = 0; p < PIECES; p++)
            {
                w.map(handle, p * PIECE, PIECE, p % 2 == 0 ? Protection.READ : Protection.READ_WRITE,
                    Sharing.SHARED, MapOptions.DEFAULT.at(base + p * PIECE));
            }
        }
        if (space.regions().size() != PIECES)
        {
            throw new IllegalStateException("expected " + PIECES + " regions, got " + space.regions().size());
        }
        checkAll();
    }

    /** Each contender once over all the offsets, against the sum of the values the file holds there. */
    private void checkAll() throws IOException
    {
        long expected = 0;
        long expectedBatches = 0;
        for (int i = 0; i < OFFSETS; i++)
        {
            expected += PeerFile.value(offsets[i] / Long.BYTES);
            expectedBatches += PeerFile.value(batches[i] / Long.BYTES);
        }
        check("raw", expected, this::raw);
        check("lucene", expected, this::lucene);
        check("agrona", expected, this::agrona);
        check("chronicle", expected, this::chronicle);
        check("mappingArray", expected, this::mappingArray);
        check("mappingTreeMap", expected, this::mappingTreeMap);
        check("regionmmReadLong", expected, this::regionmmReadLong);
        check("regionmmLeasePerRead", expected, this::regionmmLeasePerRead);
        checkBatch("rawBatch16", expectedBatches, this::rawBatch16);
        checkBatch("luceneBatch16", expectedBatches, this::luceneBatch16);
        checkBatch("regionmmLeaseBatch16", expectedBatches, this::regionmmLeaseBatch16);
    }

    /** A contender, as its benchmark method. */
    private interface Read
    {
        long read() throws IOException;
    }

    private void check(final String name, final long expected, final Read read) throws IOException
    {
        cursor = 0;
        long sum = 0;
        for (int i = 0; i < OFFSETS; i++)
        {
            sum += read.read();
        }
        cursor = 0;
        PeerFile.check(name, sum, expected);
    }

    private void checkBatch(final String name, final long expected, final Read read) throws IOException
    {
        cursor = 0;
        long sum = 0;
        for (int i = 0; i < OFFSETS / BATCH; i++)
        {
            sum += read.read();
        }
        cursor = 0;
        PeerFile.check(name, sum, expected);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        space.close();
        chronicle.releaseLast();
        luceneInput.close();
        luceneDir.close();
        agrona = null;
        mapped = null; // unmapped when collected
        arena.close();
        file.delete();
    }

    private long next()
    {
        return offsets[cursor++ & (OFFSETS - 1)];
    }

    /** @return the index in {@link #batches} of the next group of 16. */
    private int nextBatch()
    {
        final int b = cursor++ & (OFFSETS / BATCH - 1);
        return b * BATCH;
    }

    /** The baseline: one raw mapping of the whole file. */
    @Benchmark
    public long raw()
    {
        return raw.get(ValueLayout.JAVA_LONG, next());
    }

    /** @return the next offset moved into its piece's first page: 1 024 pages (4 MiB) instead of the whole file. */
    private long nextHot()
    {
        final long at = next();
        return at / PIECE * PIECE + (at & (PAGE - 1));
    }

    /** raw over the 1 024 first pages only: the reads hit the caches and the TLB. */
    @Benchmark
    public long rawHot()
    {
        return raw.get(ValueLayout.JAVA_LONG, nextHot());
    }

    /** A lease per read over the 1 024 first pages only: what the lease costs when the memory read is cheap. */
    @Benchmark
    public long regionmmLeasePerReadHot()
    {
        final long at = base + nextHot();
        try (Lease l = space.lease(at))
        {
            return l.getLong(at - l.region().start());
        }
    }

    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    private final int[] pinCounts = new int[PIECES * 16]; // one 64-byte line per piece, as a region has its own

    /**
     * The floor of any reference-count pin, regionmm's or anyone's: the raw read between an atomic increment and a
     * release decrement of the piece's count. On x86 the increment is a locked instruction, a full barrier: it
     * waits for the previous read's cache miss, so over a file larger than the caches every read pays the whole
     * memory latency, where the raw reads overlap theirs (what separates a lease per read from raw here).
     */
    @Benchmark
    public long rawWithRefcountPin()
    {
        final long at = next();
        final int slot = (int)(at / PIECE) * 16;
        COUNT.getAndAdd(pinCounts, slot, 1);
        final long v = raw.get(ValueLayout.JAVA_LONG, at);
        COUNT.getAndAddRelease(pinCounts, slot, -1);
        return v;
    }

    @Benchmark
    public long lucene() throws IOException
    {
        return lucene.readLong(next());
    }

    @Benchmark
    public long agrona()
    {
        return agrona.getLong((int)next());
    }

    @Benchmark
    public long chronicle()
    {
        return chronicle.readLong(next());
    }

    /** 1 024 raw mappings of 64 KiB, the one to read found by index. */
    @Benchmark
    public long mappingArray()
    {
        final long at = next();
        return pieces[(int)(at >>> PIECE_SHIFT)].get(ValueLayout.JAVA_LONG, at & (PIECE - 1));
    }

    /** 1 024 raw mappings of 64 KiB, the one to read found by {@code TreeMap.floorEntry}. */
    @Benchmark
    public long mappingTreeMap()
    {
        final long at = next();
        final Map.Entry<Long, MemorySegment> e = tree.floorEntry(at);
        return e.getValue().get(ValueLayout.JAVA_LONG, at - e.getKey());
    }

    /** {@code space.readLong} over 1 024 regions. */
    @Benchmark
    public long regionmmReadLong()
    {
        return space.readLong(base + next());
    }

    /** A lease per read: lease, getLong, close. */
    @Benchmark
    public long regionmmLeasePerRead()
    {
        final long at = base + next();
        try (Lease l = space.lease(at))
        {
            return l.getLong(at - l.region().start());
        }
    }

    /** 16 reads in one 4 KiB page through the raw mapping (per read). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long rawBatch16()
    {
        final int b = nextBatch();
        final MemorySegment s = raw;
        long sum = 0;
        for (int j = 0; j < BATCH; j++)
        {
            sum += s.get(ValueLayout.JAVA_LONG, batches[b + j]);
        }
        return sum;
    }

    /** 16 reads in one 4 KiB page through Lucene's {@code RandomAccessInput} (per read). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long luceneBatch16() throws IOException
    {
        final int b = nextBatch();
        final RandomAccessInput in = lucene;
        long sum = 0;
        for (int j = 0; j < BATCH; j++)
        {
            sum += in.readLong(batches[b + j]);
        }
        return sum;
    }

    /** One lease held across 16 reads in one 4 KiB page (per read): pin a page, read a record. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long regionmmLeaseBatch16()
    {
        final int b = nextBatch();
        long sum = 0;
        try (Lease l = space.lease(base + batches[b]))
        {
            final long start = l.region().start() - base;
            for (int j = 0; j < BATCH; j++)
            {
                sum += l.getLong(batches[b + j] - start);
            }
        }
        return sum;
    }
}
