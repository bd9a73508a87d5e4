package io.regionmm.notify;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Lincheck over the subscription protocol alone ({@link Invalidations}, no memory, no syscalls): a subscriber
 * keeps a cached copy of a cell, built between readBegin and readRetry and cleared by its listener; writers
 * invalidate, store, end (concurrently with each other: the engine allows overlapping invalidations). The
 * sequential specification is a register: a read, cached or not, returns the last value written. A retry check
 * that misses an invalidation, a readBegin that does not wait for a running one, or a deferred add or remove
 * applied at the wrong time leaves a stale copy in the cache, which a later read returns.
 */
@Param(name = "value", gen = IntGen.class, conf = "1:3")
public class InvalidationsLincheckTest
{
    private final Invalidations<Object> inv = new Invalidations<>();
    private final ReentrantLock cacheLock = new ReentrantLock(); // the subscriber's lock, taken by its listener
    private int cell; // the "memory": changed only between an invalidation's begin and end
    private boolean cached; // under cacheLock
    private int copy; // under cacheLock
    private Interval<Object> sub; // under cacheLock; replaced by resubscribe

    public InvalidationsLincheckTest()
    {
        sub = inv.newInterval(0, 10, null);
        inv.insert(sub);
    }

    @Operation
    public void write(@Param(name = "value") final int v)
    {
        final long seq = inv.begin(0, 10);
        if (seq != 0)
        {
            inv.forEachOverlap(0, 10, n -> {
                cacheLock.lock(); // the listener
                try
                {
                    n.setSequence(seq);
                    if (n == sub)
                    {
                        cached = false;
                    }
                }
                finally
                {
                    cacheLock.unlock();
                }
                return true;
            });
        }
        cell = v;
        inv.end();
    }

    @Operation
    public int read()
    {
        cacheLock.lock();
        try
        {
            if (cached)
            {
                return copy;
            }
        }
        finally
        {
            cacheLock.unlock();
        }
        while (true)
        {
            final Interval<Object> n = currentSub();
            final long s;
            try
            {
                s = inv.readBegin(n);
            }
            catch (final IllegalStateException replaced)
            {
                continue; // resubscribe removed it meanwhile: begin again on the new one
            }
            final int v = cell;
            cacheLock.lock();
            try
            {
                if (n == sub && n.sequence() == s)
                {
                    cached = true;
                    copy = v;
                    return v;
                }
            }
            finally
            {
                cacheLock.unlock();
            }
        }
    }

    /** The subscriber replaces its subscription (a new one, then the old one removed), dropping its cache. */
    @Operation
    public void resubscribe()
    {
        final Interval<Object> fresh = inv.newInterval(0, 10, null);
        inv.insert(fresh);
        final Interval<Object> old;
        cacheLock.lock();
        try
        {
            old = sub;
            sub = fresh;
            cached = false;
        }
        finally
        {
            cacheLock.unlock();
        }
        final long wait = inv.remove(old);
        if (wait != 0)
        {
            inv.awaitChange(wait, 1, java.util.concurrent.TimeUnit.DAYS);
        }
    }

    private Interval<Object> currentSub()
    {
        cacheLock.lock();
        try
        {
            return sub;
        }
        finally
        {
            cacheLock.unlock();
        }
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void modelCheckingFindsNoStaleCopy()
    {
        new ModelCheckingOptions()
            .iterations(Integer.getInteger("regionmm.lincheck.iterations", 20))
            .invocationsPerIteration(Integer.getInteger("regionmm.lincheck.invocations", 300))
            .threads(3)
            .actorsPerThread(2)
            .check(getClass());
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void stressFindsNoStaleCopy()
    {
        new StressOptions()
            .iterations(Integer.getInteger("regionmm.lincheck.iterations", 20))
            .invocationsPerIteration(Integer.getInteger("regionmm.lincheck.invocations", 300))
            .threads(2)
            .actorsPerThread(3)
            .check(getClass());
    }
}
