package io.regionmm.bench;

import io.regionmm.region.Region;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A read through a cached pointer validated by a range subscription (read, one sequence check after it)
 * against, in the same run: the same read through the same cached pointer unchecked, a raw read of one mapping of
 * the file (no pointer object), and regionmm's own uncached speculative {@code readLong} (map lookup, validation).
 * Random addresses over {@code regions} one-page regions, one subscription per region.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SubscriptionBenchmark
{
    @Param({"1000"})
    public int regions;

    /** What a subscriber caches per address: where in the window, the subscription and its sequence. */
    static final class Pointer
    {
        final long offset;
        final Subscription subscription;
        final long sequence;

        Pointer(final long offset, final Subscription subscription, final long sequence)
        {
            this.offset = offset;
            this.subscription = subscription;
            this.sequence = sequence;
        }
    }

    Fixture fx;
    MemorySegment memory;
    Pointer[] pointers;
    Subscription[] subscriptions;
    long misses;

    /** Each thread walks the address list from its own cursor. */
    @State(Scope.Thread)
    public static class Cursor
    {
        int i;

        int next()
        {
            i = (i + 1) & (Fixture.ADDRESSES - 1);
            return i;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(regions);
        memory = fx.space.memory();
        final List<Region> rs = fx.space.regions();
        subscriptions = new Subscription[rs.size()];
        final long[] seqs = new long[rs.size()];
        for (int i = 0; i < rs.size(); i++)
        {
            final Region r = rs.get(i);
            subscriptions[i] = fx.space.subscribe(r.start(), r.length(), (s, inv, seq) -> true);
            seqs[i] = subscriptions[i].readBegin();
        }
        pointers = new Pointer[Fixture.ADDRESSES];
        for (int i = 0; i < Fixture.ADDRESSES; i++)
        {
            final long a = fx.addresses[i];
            final int k = (int)((a - fx.base) / Fixture.PAGE);
            final Region r = rs.get(k);
            pointers[i] = new Pointer(a - fx.base, subscriptions[k], seqs[k]);
            if (r.start() > a || r.end() <= a)
            {
                throw new IllegalStateException("region " + k + " does not cover " + a);
            }
            if (subscriptions[k].readRetry(seqs[k]))
            {
                throw new IllegalStateException("invalidated during set-up");
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        if (misses != 0)
        {
            throw new IllegalStateException(misses + " checks failed: nothing changes the space here");
        }
        for (final Subscription s : subscriptions)
        {
            s.close();
        }
        fx.close();
    }

    /** The baseline: a raw read of one mapping of the file, at the same offset. */
    @Benchmark
    public long raw(final Cursor c)
    {
        return fx.raw.get(ValueLayout.JAVA_LONG, fx.addresses[c.next()] - fx.base);
    }

    /** The cached pointer, read without any check (what the check costs is the difference). */
    @Benchmark
    public long cachedUnchecked(final Cursor c)
    {
        final Pointer p = pointers[c.next()];
        return memory.get(ValueLayout.JAVA_LONG, p.offset);
    }

    /** The subscriber's lock-free use: read through the space's window segment, then checkRetry. */
    @Benchmark
    public long cachedChecked(final Cursor c)
    {
        final Pointer p = pointers[c.next()];
        final long v = memory.get(ValueLayout.JAVA_LONG, p.offset);
        if (p.subscription.checkRetry(p.sequence)) // fences the read above itself
        {
            misses++;
            return fx.space.readLong(fx.addresses[c.i]);
        }
        return v;
    }

    /** No cache: regionmm's speculative read (page index lookup, range validation). */
    @Benchmark
    public long uncachedSpeculative(final Cursor c)
    {
        return fx.space.readLong(fx.addresses[c.next()]);
    }
}
