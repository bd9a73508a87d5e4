package io.regionmm.bench;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
import io.regionmm.view.AgronaView;
import io.regionmm.view.chronicle.ChronicleView;
import net.openhft.chronicle.bytes.BytesStore;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
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

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What a view of a lease costs over the lease's own MemorySegment: the sum of the longs of a leased 1 MiB region
 * (a file with a known sum), through {@code lease.segment()}, {@code lease.getLong}, the Agrona view and the
 * Chronicle view. Each view checks its lease's guard per access; the target is at most 1.05x the segment.
 * The lease and its views live on the benchmark thread (Scope.Thread: JMH sets it up on that thread), since leases
 * and their views are confined to the thread that took them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
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
public class ViewBenchmark
{
    private static final int SIZE = 1 << 20;
    private static final int LONGS = SIZE / Long.BYTES;

    private Path dir;
    private AddressSpace space;
    private Lease lease;
    private MemorySegment segment;
    private DirectBuffer agrona;
    private UnsafeBuffer agronaUnguarded;
    private BytesStore<?, Void> chronicle;
    private long expected;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        dir = Files.createTempDirectory("regionmm-view-bench");
        final Path path = dir.resolve("data");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
        {
            f.setLength(SIZE);
        }
        space = AddressSpace.create();
        final FileHandle file = space.openFile(path, FileAccess.READ_WRITE);
        final long address = space.map(file, 0, SIZE, Protection.READ_WRITE, Sharing.SHARED);
        lease = space.lease(address);
        final MemorySegment w = lease.writableSegment();
        for (int i = 0; i < LONGS; i++)
        {
            w.setAtIndex(ValueLayout.JAVA_LONG, i, i * 31L);
            expected += i * 31L;
        }
        segment = lease.segment();
        agrona = AgronaView.readOnly(lease);
        chronicle = ChronicleView.readOnly(lease);
        agronaUnguarded = new UnsafeBuffer(address, SIZE); // what the Agrona view delegates to, without its guard
        // each contender checked once against the known sum, so none can skip work
        check("segment", segment());
        check("leaseGetLong", leaseGetLong());
        check("agrona", agrona());
        check("chronicle", chronicle());
        check("agronaUnguarded", agronaUnguarded());
    }

    private void check(final String name, final long sum)
    {
        if (sum != expected)
        {
            throw new IllegalStateException(name + " summed " + sum + ", expected " + expected);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        lease.close();
        space.close();
        Files.deleteIfExists(dir.resolve("data"));
        Files.deleteIfExists(dir);
    }

    /** The baseline: the lease's read-only MemorySegment. */
    @Benchmark
    public long segment()
    {
        final MemorySegment s = segment;
        long sum = 0;
        for (int i = 0; i < LONGS; i++)
        {
            sum += s.getAtIndex(ValueLayout.JAVA_LONG, i);
        }
        return sum;
    }

    @Benchmark
    public long leaseGetLong()
    {
        final Lease l = lease;
        long sum = 0;
        for (int i = 0; i < LONGS; i++)
        {
            sum += l.getLong((long)i * Long.BYTES);
        }
        return sum;
    }

    @Benchmark
    public long agrona()
    {
        final DirectBuffer b = agrona;
        long sum = 0;
        for (int i = 0; i < LONGS; i++)
        {
            sum += b.getLong(i * Long.BYTES);
        }
        return sum;
    }

    /** Agrona's own cost, for the view's: a bare UnsafeBuffer over the same leased memory (not guarded: a baseline). */
    @Benchmark
    public long agronaUnguarded()
    {
        final UnsafeBuffer b = agronaUnguarded;
        long sum = 0;
        for (int i = 0; i < LONGS; i++)
        {
            sum += b.getLong(i * Long.BYTES);
        }
        return sum;
    }

    @Benchmark
    public long chronicle()
    {
        final BytesStore<?, Void> b = chronicle;
        long sum = 0;
        for (int i = 0; i < LONGS; i++)
        {
            sum += b.readLong((long)i * Long.BYTES);
        }
        return sum;
    }
}
