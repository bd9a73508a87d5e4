package io.regionmm.bench.peers;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
import io.regionmm.space.RegionArgumentException;
import net.openhft.chronicle.bytes.MappedBytes;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.ReferenceOwner;
import org.apache.lucene.store.AlreadyClosedException;
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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Growth of a mapped file from 64 MiB to 1 GiB in 64 MiB steps (15 steps), one whole growth per invocation, from a
 * fresh 64 MiB {@link PeerFile} each time. Each step grows the file and the contender's mapping, writes a stamp (the
 * {@link PeerFile#value} of its index) into the last long of the new length, and reads it back through the new
 * mapping; the stamps read back are summed and checked in the invocation's teardown, together with the file's size
 * and the stamps read from the file itself, so no contender can skip work.
 * <ul>
 * <li>{@code raw}: {@code FileChannel.map(READ_WRITE, 0, newLength)} in a new shared arena (the map extends the
 * file), stamp through the new segment, publish it, close the old arena (the baseline);</li>
 * <li>{@code regionmmFallocate}: {@code space.remap(region, newLength, true)} (the file grows by fallocate), stamp
 * through a lease's writable segment;</li>
 * <li>{@code regionmmSetLength}: an external {@code RandomAccessFile.setLength}, then
 * {@code space.remap(region, newLength, false)};</li>
 * <li>{@code chronicle}: a chunked {@code MappedBytes} (64 MiB chunks, no overlap); the write at the new end maps
 * the next chunk and grows the file;</li>
 * <li>{@code lucene}: an external {@code setLength} and a positional write of the stamp (Lucene's inputs are
 * read-only), then {@code MMapDirectory.openInput} of the grown file, read back, close the old input (no arena
 * grouping: closing it closes its shared arena).</li>
 * </ul>
 * With {@code reader=reading}, a thread reads random longs of the current mapping the whole time through the
 * contender's own read path: {@code space.readLong}; the current raw segment from a volatile reference (retried on
 * the new one when the old arena was closed under it); a second {@code MappedBytes} over the same
 * {@code MappedFile}; a {@code RandomAccessInput} of the current Lucene input (retried on
 * {@code AlreadyClosedException}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
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
public class GrowthPeers
{
    /** The size the file starts at, and each step of growth. */
    static final long STEP = 64L << 20;
    /** The size the file grows to. */
    static final long FINAL = 1L << 30;

    /** {@code none}: growth alone; {@code reading}: a thread reads random longs of the mapping the whole time. */
    @Param({"none", "reading"})
    public String reader;

    private PeerFile file;
    private Contender contender;
    private long stamps;
    private Thread readerThread;
    private volatile boolean stop;
    private volatile Throwable readerFailure;
    private volatile long readerReads;

    @Setup(Level.Invocation)
    public void setUp(final BenchmarkParams params) throws Exception
    {
        final String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        file = PeerFile.create("regionmm-growth-peers", STEP);
        contender = switch (method)
        {
            case "raw" -> new Raw();
            case "regionmmFallocate" -> new Regionmm(true);
            case "regionmmSetLength" -> new Regionmm(false);
            case "chronicle" -> new Chronicle();
            case "lucene" -> new Lucene();
            default -> throw new IllegalStateException("no contender " + method);
        };
        contender.open(file);
        stamps = 0;
        stop = false;
        readerFailure = null;
        readerThread = null;
        if (reader.equals("reading"))
        {
            final CountDownLatch started = new CountDownLatch(1);
            readerThread = new Thread(() -> readLoop(started), "growth-reader");
            readerThread.setDaemon(true);
            readerThread.start();
            started.await();
        }
    }

    private void readLoop(final CountDownLatch started)
    {
        long reads = 0;
        try
        {
            contender.readerOpen();
            started.countDown();
            long x = 0x5EEDL;
            long sink = 0;
            while (!stop)
            {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                sink += contender.readerRead(x >>> 1);
                reads++;
            }
            contender.readerClose();
            readerReads = reads + (sink == 42 ? 1 : 0);
        }
        catch (final Throwable t)
        {
            readerFailure = t;
            started.countDown();
        }
    }

    @TearDown(Level.Invocation)
    public void tearDown() throws Exception
    {
        try
        {
            if (readerThread != null)
            {
                stop = true;
                readerThread.join();
                if (readerFailure != null)
                {
                    throw new IllegalStateException("the reader failed", readerFailure);
                }
                if (readerReads == 0)
                {
                    throw new IllegalStateException("the reader read nothing");
                }
            }
            contender.close();
            check();
        }
        finally
        {
            file.delete();
        }
    }

    /** The stamps read back through the contender's mappings, and the file's size and stamps read from the file. */
    private void check() throws IOException
    {
        long expected = 0;
        for (long n = 2 * STEP; n <= FINAL; n += STEP)
        {
            expected += stamp(n);
        }
        PeerFile.check(contender.getClass().getSimpleName() + " stamps read back", stamps, expected);
        final long size = Files.size(file.path);
        if (size < FINAL)
        {
            throw new IllegalStateException(contender.getClass().getSimpleName() + ": the file has " + size +
                " bytes, expected " + FINAL);
        }
        try (FileChannel ch = FileChannel.open(file.path, StandardOpenOption.READ))
        {
            final ByteBuffer b = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder());
            for (long n = 2 * STEP; n <= FINAL; n += STEP)
            {
                b.clear();
                ch.read(b, n - Long.BYTES);
                PeerFile.check(contender.getClass().getSimpleName() + " file stamp at " + n, b.getLong(0), stamp(n));
            }
        }
    }

    /** @return the stamp of the last long of a file {@code length} bytes long. */
    static long stamp(final long length)
    {
        return PeerFile.value(length / Long.BYTES - 1);
    }

    private long growAll() throws IOException
    {
        long sum = 0;
        for (long n = 2 * STEP; n <= FINAL; n += STEP)
        {
            sum += contender.grow(n);
        }
        stamps = sum;
        return sum;
    }

    /** The baseline: a new shared arena and {@code FileChannel.map} per step, then the old arena closed. */
    @Benchmark
    public long raw() throws IOException
    {
        return growAll();
    }

    @Benchmark
    public long regionmmFallocate() throws IOException
    {
        return growAll();
    }

    @Benchmark
    public long regionmmSetLength() throws IOException
    {
        return growAll();
    }

    @Benchmark
    public long chronicle() throws IOException
    {
        return growAll();
    }

    @Benchmark
    public long lucene() throws IOException
    {
        return growAll();
    }

    /** One way to grow a mapped file, and its read path. */
    abstract static class Contender
    {
        /** Maps the fresh file. */
        abstract void open(PeerFile f) throws IOException;

        /** Grows the file and the mapping to {@code length}, stamps the last long, returns it read back. */
        abstract long grow(long length) throws IOException;

        /** On the reader thread, before it reads. */
        void readerOpen() throws IOException
        {
        }

        /** On the reader thread: a long of the current mapping chosen by {@code random} (&ge; 0). */
        abstract long readerRead(long random);

        /** On the reader thread, after it read. */
        void readerClose()
        {
        }

        abstract void close() throws IOException;
    }

    /** A raw mapping: a segment in its own shared arena. */
    record Mapping(Arena arena, MemorySegment segment)
    {
    }

    static final class Raw extends Contender
    {
        private FileChannel channel;
        private volatile Mapping current;

        @Override
        void open(final PeerFile f) throws IOException
        {
            channel = FileChannel.open(f.path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            final Arena a = Arena.ofShared();
            current = new Mapping(a, channel.map(FileChannel.MapMode.READ_WRITE, 0, f.size, a));
        }

        @Override
        long grow(final long length) throws IOException
        {
            final Arena a = Arena.ofShared();
            final MemorySegment s = channel.map(FileChannel.MapMode.READ_WRITE, 0, length, a);
            s.set(ValueLayout.JAVA_LONG, length - Long.BYTES, stamp(length));
            final long v = s.get(ValueLayout.JAVA_LONG, length - Long.BYTES);
            final Mapping old = current;
            current = new Mapping(a, s);
            old.arena().close();
            return v;
        }

        @Override
        long readerRead(final long random)
        {
            while (true)
            {
                final MemorySegment s = current.segment();
                try
                {
                    return s.getAtIndex(ValueLayout.JAVA_LONG, random % (s.byteSize() / Long.BYTES));
                }
                catch (final IllegalStateException closed)
                {
                    Thread.onSpinWait(); // the arena closed under the read: retry on the new mapping
                }
            }
        }

        @Override
        void close() throws IOException
        {
            current.arena().close();
            channel.close();
        }
    }

    /** Where the region is and how long, published together. */
    record View(long address, long length)
    {
    }

    static final class Regionmm extends Contender
    {
        private final boolean fallocate;
        private AddressSpace space;
        private RandomAccessFile external;
        private volatile View view;

        Regionmm(final boolean fallocate)
        {
            this.fallocate = fallocate;
        }

        @Override
        void open(final PeerFile f) throws IOException
        {
            space = AddressSpace.create();
            final FileHandle handle = space.openFile(f.path, FileAccess.READ_WRITE);
            view = new View(space.map(handle, 0, f.size, Protection.READ_WRITE, Sharing.SHARED), f.size);
            if (!fallocate)
            {
                external = new RandomAccessFile(f.path.toFile(), "rw");
            }
        }

        @Override
        long grow(final long length) throws IOException
        {
            if (!fallocate)
            {
                external.setLength(length);
            }
            final long address = space.remap(view.address(), length, fallocate);
            try (Lease l = space.lease(address))
            {
                l.writableSegment().set(ValueLayout.JAVA_LONG, length - Long.BYTES, stamp(length));
            }
            view = new View(address, length);
            return space.readLong(address + length - Long.BYTES);
        }

        @Override
        long readerRead(final long random)
        {
            while (true)
            {
                final View v = view;
                try
                {
                    return space.readLong(v.address() + random % (v.length() / Long.BYTES) * Long.BYTES);
                }
                catch (final RegionArgumentException moved)
                {
                    Thread.onSpinWait(); // the region moved under the read: retry at its new address
                }
            }
        }

        @Override
        void close() throws IOException
        {
            space.close();
            if (external != null)
            {
                external.close();
            }
        }
    }

    static final class Chronicle extends Contender
    {
        private MappedFile mappedFile;
        private MappedBytes bytes;
        private MappedBytes readerBytes;
        private volatile long length;

        @Override
        void open(final PeerFile f) throws IOException
        {
            mappedFile = MappedFile.of(f.path.toFile(), STEP, 0, false);
            bytes = MappedBytes.mappedBytes(mappedFile);
            mappedFile.release(ReferenceOwner.INIT); // the MappedBytes hold it now
            PeerFile.check("chronicle first long", bytes.readLong(0), PeerFile.value(0));
            length = f.size;
        }

        @Override
        long grow(final long newLength)
        {
            bytes.writeLong(newLength - Long.BYTES, stamp(newLength));
            length = newLength;
            return bytes.readLong(newLength - Long.BYTES);
        }

        @Override
        void readerOpen()
        {
            readerBytes = MappedBytes.mappedBytes(mappedFile);
        }

        @Override
        long readerRead(final long random)
        {
            return readerBytes.readLong(random % (length / Long.BYTES) * Long.BYTES);
        }

        @Override
        void readerClose()
        {
            readerBytes.releaseLast();
        }

        @Override
        void close()
        {
            bytes.releaseLast();
        }
    }

    static final class Lucene extends Contender
    {
        private MMapDirectory dir;
        private RandomAccessFile external;
        private final ByteBuffer stampBuffer = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private IndexInput input;
        private volatile RandomAccessInput current;

        @Override
        void open(final PeerFile f) throws IOException
        {
            dir = new MMapDirectory(f.dir);
            dir.setGroupingFunction(MMapDirectory.NO_GROUPING);
            external = new RandomAccessFile(f.path.toFile(), "rw");
            input = dir.openInput(PeerFile.NAME, IOContext.DEFAULT);
            current = input.randomAccessSlice(0, input.length());
        }

        @Override
        long grow(final long length) throws IOException
        {
            external.setLength(length);
            stampBuffer.clear();
            stampBuffer.putLong(0, stamp(length));
            external.getChannel().write(stampBuffer, length - Long.BYTES);
            final IndexInput in = dir.openInput(PeerFile.NAME, IOContext.DEFAULT);
            final RandomAccessInput r = in.randomAccessSlice(0, length);
            final long v = r.readLong(length - Long.BYTES);
            final IndexInput old = input;
            input = in;
            current = r;
            old.close();
            return v;
        }

        @Override
        long readerRead(final long random)
        {
            while (true)
            {
                final RandomAccessInput in = current;
                try
                {
                    return in.readLong(random % (in.length() / Long.BYTES) * Long.BYTES);
                }
                catch (final AlreadyClosedException closed)
                {
                    Thread.onSpinWait(); // the input closed under the read: retry on the new one
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            }
        }

        @Override
        void close() throws IOException
        {
            input.close();
            dir.close();
            external.close();
        }
    }
}
