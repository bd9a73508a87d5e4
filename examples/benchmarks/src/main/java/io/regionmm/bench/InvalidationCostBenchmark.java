package io.regionmm.bench;

import io.regionmm.notify.Invalidations;
import io.regionmm.region.Protection;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Subscription;
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

import java.util.concurrent.TimeUnit;

/**
 * What registered subscriptions cost a write that overlaps none of them: a protect (one mprotect, the region
 * replaced, an invalidation begun and ended) with 0, 100 or 10 000 one-page subscriptions elsewhere in the window.
 * The subscriptions interleave with other regions, so the interval tree's search has real neighbours to skip.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class InvalidationCostBenchmark
{
    @Param({"0", "100", "10000"})
    public int subscriptions;

    Fixture fx;
    Subscription[] subs;
    /** The protocol alone, with the same number of intervals: the search without the system call around it. */
    final Invalidations<Object> engine = new Invalidations<>();
    long probe;
    long target;
    boolean readOnly;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(64); // 64 one-page regions at the window's start
        final AddressSpace space = fx.space;
        target = fx.base + 32 * Fixture.PAGE; // a region in the middle (READ: even index)
        subs = new Subscription[subscriptions];
        for (int i = 0; i < subscriptions; i++)
        {
            // every other page from just past the regions on, and a few among the regions around the target
            final long at = i < 16 ? fx.base + (i < 8 ? i : 56 + i - 8) * Fixture.PAGE :
                fx.base + (64 + 2L * i) * Fixture.PAGE;
            subs[i] = space.subscribe(at, Fixture.PAGE, (s, inv, seq) -> {
                throw new IllegalStateException("a write that overlaps no subscription told " + s);
            });
            engine.insert(engine.newInterval(at, at + Fixture.PAGE, null));
        }
        probe = target;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        for (final Subscription s : subs)
        {
            s.close();
        }
        fx.close();
    }

    /** An invalidation begun and ended on the protocol alone, of a page no interval overlaps. */
    @Benchmark
    public long beginEnd()
    {
        final long s = engine.begin(probe, probe + Fixture.PAGE);
        engine.end();
        if (s != 0)
        {
            throw new IllegalStateException("overlapped");
        }
        return s;
    }

    /** Toggles the target's protection: READ_WRITE, READ, ... (each call a one-shot write section). */
    @Benchmark
    public void protect() throws Exception
    {
        readOnly = !readOnly;
        fx.space.protect(target, Fixture.PAGE, readOnly ? Protection.READ_WRITE : Protection.READ);
    }
}
