package io.regionmm.bench.peers;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * A sequential scan (the sum of all longs) of one file, 256 MiB by default ({@code -p size=1073741824} for 1 GiB):
 * a raw {@code FileChannel.map} segment (the baseline); regionmm through a lease's {@code segment()}, a lease's
 * {@code getLong} and bulk {@code space.read(address, dst)} in 64 KiB chunks; Agrona's {@code UnsafeBuffer} over
 * {@code MappedByteBuffer}s of at most 1 GiB; Lucene's {@code MMapDirectory} through {@code IndexInput.readLong} and
 * {@code RandomAccessInput.readLong}; Chronicle's {@code MappedBytes}, one mapping and 64 MiB chunks. The file is
 * mapped as one region. Every contender is run once in setup and checked against the file's known sum.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
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
public class ScanPeers
{
    /** Bytes of the file, a multiple of 64 KiB. */
    @Param({"268435456"})
    public long size;

    static final int CHUNK = 64 << 10;
    /** The largest MappedByteBuffer Agrona gets (a ByteBuffer is int-indexed). */
    static final long BUFFER_PIECE = 1L << 30;
    static final long CHRONICLE_CHUNK = 64L << 20;

    private PeerFile file;
    private long expected;
    private int longs;

    private Arena arena;
    private MemorySegment raw;
    private AddressSpace space;
    private long address;
    private final long[] chunk = new long[CHUNK / Long.BYTES];
    private MemorySegment chunkSegment;
    private MappedByteBuffer[] mapped;
    private UnsafeBuffer[] agrona;
    private MMapDirectory luceneDir;
    private IndexInput luceneInput;
    private RandomAccessInput luceneRandom;
    private MappedBytes chronicle;
    private MappedBytes chronicleChunked;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        if (size % CHUNK != 0 || size / Long.BYTES > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("size " + size + ": a multiple of 64 KiB, at most 16 GiB");
        }
        longs = (int)(size / Long.BYTES);
        file = PeerFile.create("regionmm-scan-peers", size);
        expected = file.expectedSum();
        arena = Arena.ofShared();
        final int buffers = (int)((size + BUFFER_PIECE - 1) / BUFFER_PIECE);
        mapped = new MappedByteBuffer[buffers];
        agrona = new UnsafeBuffer[buffers];
        try (FileChannel ch = FileChannel.open(file.path, StandardOpenOption.READ))
        {
            raw = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            for (int b = 0; b < buffers; b++)
            {
                final long from = b * BUFFER_PIECE;
                mapped[b] = ch.map(FileChannel.MapMode.READ_ONLY, from, Math.min(BUFFER_PIECE, size - from));
                agrona[b] = new UnsafeBuffer(mapped[b]);
            }
        }
        chunkSegment = MemorySegment.ofArray(chunk);
        space = AddressSpace.create();
        final FileHandle handle = space.openFile(file.path, FileAccess.READ_ONLY);
        address = space.map(handle, 0, size, Protection.READ, Sharing.SHARED);
        luceneDir = new MMapDirectory(file.dir);
        luceneInput = luceneDir.openInput(PeerFile.NAME, IOContext.DEFAULT);
        luceneRandom = luceneInput.randomAccessSlice(0, size);
        chronicle = MappedBytes.singleMappedBytes(file.path.toFile(), size, true);
        chronicleChunked = MappedBytes.mappedBytes(file.path.toFile(), CHRONICLE_CHUNK, 0, true);
        PeerFile.check("raw", raw(), expected);
        PeerFile.check("regionmmLeaseSegment", regionmmLeaseSegment(), expected);
        PeerFile.check("regionmmLeaseGetLong", regionmmLeaseGetLong(), expected);
        PeerFile.check("regionmmBulkRead", regionmmBulkRead(), expected);
        PeerFile.check("agrona", agrona(), expected);
        PeerFile.check("luceneReadLong", luceneReadLong(), expected);
        PeerFile.check("luceneRandomAccess", luceneRandomAccess(), expected);
        PeerFile.check("chronicle", chronicle(), expected);
        PeerFile.check("chronicleChunked", chronicleChunked(), expected);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        space.close();
        chronicle.releaseLast();
        chronicleChunked.releaseLast();
        luceneInput.close();
        luceneDir.close();
        agrona = null;
        mapped = null; // unmapped when collected
        arena.close();
        file.delete();
    }

    /** The baseline: one raw mapping of the whole file. */
    @Benchmark
    public long raw()
    {
        final MemorySegment s = raw;
        final int n = longs;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += s.getAtIndex(ValueLayout.JAVA_LONG, i);
        }
        return sum;
    }

    @Benchmark
    public long regionmmLeaseSegment()
    {
        try (Lease l = space.lease(address))
        {
            final MemorySegment s = l.segment();
            final int n = longs;
            long sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += s.getAtIndex(ValueLayout.JAVA_LONG, i);
            }
            return sum;
        }
    }

    @Benchmark
    public long regionmmLeaseGetLong()
    {
        try (Lease l = space.lease(address))
        {
            final int n = longs;
            long sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += l.getLong((long)i * Long.BYTES);
            }
            return sum;
        }
    }

    /** {@code space.read} into a 64 KiB heap array, then its longs summed. */
    @Benchmark
    public long regionmmBulkRead()
    {
        final long[] c = chunk;
        long sum = 0;
        for (long at = 0; at < size; at += CHUNK)
        {
            space.read(address + at, chunkSegment);
            for (final long v : c)
            {
                sum += v;
            }
        }
        return sum;
    }

    @Benchmark
    public long agrona()
    {
        long sum = 0;
        for (final UnsafeBuffer b : agrona)
        {
            final int n = b.capacity();
            for (int i = 0; i < n; i += Long.BYTES)
            {
                sum += b.getLong(i);
            }
        }
        return sum;
    }

    @Benchmark
    public long luceneReadLong() throws IOException
    {
        final IndexInput in = luceneInput;
        in.seek(0);
        final int n = longs;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += in.readLong();
        }
        return sum;
    }

    @Benchmark
    public long luceneRandomAccess() throws IOException
    {
        final RandomAccessInput in = luceneRandom;
        final int n = longs;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += in.readLong((long)i * Long.BYTES);
        }
        return sum;
    }

    /** Chronicle's {@code MappedBytes}, one mapping of the whole file. */
    @Benchmark
    public long chronicle()
    {
        final MappedBytes b = chronicle;
        final int n = longs;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += b.readLong((long)i * Long.BYTES);
        }
        return sum;
    }

    /** Chronicle's {@code MappedBytes} in 64 MiB chunks. */
    @Benchmark
    public long chronicleChunked()
    {
        final MappedBytes b = chronicleChunked;
        final int n = longs;
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += b.readLong((long)i * Long.BYTES);
        }
        return sum;
    }
}
