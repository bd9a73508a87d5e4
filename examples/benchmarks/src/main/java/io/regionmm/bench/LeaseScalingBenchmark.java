package io.regionmm.bench;

import io.regionmm.space.Lease;
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
import org.openjdk.jmh.annotations.Threads;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two threads leasing, reading 8 bytes and closing, back to back: both on the same region ({@code target=same}) or
 * each on its own ({@code target=different}, regions 32 pages apart). The ratio same / different is what sharing a
 * region costs a lease: with a shared reference count, the count's line moves between the two cores on every lease;
 * with the reader bias (MmLock, "Reader bias") each thread writes only its own slot's line.
 *
 * <p>Beside it, in the same run: the speculative {@code readLong} (shares nothing writable: the ceiling), and
 * {@code countedPin}, a bare acquire-CAS / release-decrement pin of one count per region around the same raw read
 * (the shared-count design the lease used before the bias, without lookup or validation). Run once more with
 * {@code -jvmArgsPrepend -Dregionmm.readerBias=false} for the lease without the bias, in otherwise the same code.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LeaseScalingBenchmark
{
    private static final int REGIONS = 64;
    private static final int APART = 32;
    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int COUNT_STRIDE = 16; // one 64-byte line per region, as a region object has its own

    /** same: both threads lease region 0; different: thread i leases region 32 i. */
    @Param({"same", "different"})
    public String target;

    Fixture fx;
    final int[] counts = new int[REGIONS * COUNT_STRIDE];
    final AtomicInteger threads = new AtomicInteger();

    /** The address one thread reads, fixed for the trial. */
    @State(Scope.Thread)
    public static class Reader
    {
        long address;
        int slot;

        @Setup(Level.Trial)
        public void pick(final LeaseScalingBenchmark b)
        {
            final int region = b.target.equals("same") ? 0 : (b.threads.getAndIncrement() * APART) % REGIONS;
            address = b.fx.base + region * Fixture.PAGE + 64;
            slot = region * COUNT_STRIDE;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        if (!target.equals("same") && !target.equals("different"))
        {
            throw new IllegalArgumentException("target=" + target + ": same or different");
        }
        fx = new Fixture(REGIONS);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        fx.close();
    }

    @Benchmark
    public long lease(final Reader r)
    {
        try (Lease lease = fx.space.lease(r.address))
        {
            return lease.getLong(r.address - lease.region().start());
        }
    }

    @Benchmark
    public long speculativeRead(final Reader r)
    {
        return fx.space.readLong(r.address);
    }

    @Benchmark
    public long countedPin(final Reader r)
    {
        int n;
        do
        {
            n = (int)COUNT.getOpaque(counts, r.slot);
        }
        while (!COUNT.weakCompareAndSetAcquire(counts, r.slot, n, n + 1));
        final long v = fx.raw.get(ValueLayout.JAVA_LONG, r.address - fx.base);
        COUNT.getAndAddRelease(counts, r.slot, -1);
        return v;
    }
}
