package io.regionmm.space;

import io.regionmm.notify.Interval;

/**
 * A range of a space whose subscriber caches pointers into it (addresses, segments) and is told, before any write
 * changes memory there, to drop them (the kernel's {@code mmu_interval_notifier}). Obtained from
 * {@link AddressSpace#subscribe}.
 *
 * <p>The subscriber builds its pointers between {@link #readBegin()} and {@link #readRetry(long)}:
 * <pre>{@code
 * long s;
 * do {
 *     s = sub.readBegin();                 // waits while an invalidation of this range is running
 *     p = buildPointers();                 // lookups, leases closed again, anything that may wait
 *     cacheLock.lock();
 *     if (sub.readRetry(s)) { cacheLock.unlock(); continue; } // invalidated since readBegin: build again
 *     cache.put(p);                        // valid until the listener removes it, under cacheLock
 *     cacheLock.unlock();
 *     break;
 * } while (true);
 * }</pre>
 * and its listener, under the same {@code cacheLock}, calls {@link #setSequence(long)} and removes what the
 * invalidation covers. Why it holds: the listener runs before the writer changes a byte of the range, so a pointer
 * either went into the cache before the listener ran (and the listener removes it) or was checked after (and the
 * check fails). Do not hold {@code cacheLock} while calling into the space: a listener waiting for it inside a
 * write section would wait for a reader that waits for that section.
 *
 * <p>{@link #checkRetry(long)} is the same check without the lock, for a reader that uses a cached pointer without
 * locking: read through it, then check; if the check passes, no invalidation of this range had started before the
 * read finished, so the read saw the memory as cached (reads of a space never fault: a range unmapped meanwhile
 * reads as zeros, and the check fails).
 *
 * <p>Thread-safe. {@link #close()} unsubscribes, waiting until no running invalidation can still call the
 * listener.
 */
public final class Subscription implements AutoCloseable
{
    private final Subscribers subscribers;
    private final InvalidationListener listener;
    private final Interval<Subscription> interval;
    private volatile boolean closed;

    Subscription(final Subscribers subscribers, final long start, final long end, final InvalidationListener listener)
    {
        this.subscribers = subscribers;
        this.listener = listener;
        this.interval = subscribers.invalidations.newInterval(start, end, this);
    }

    Interval<Subscription> interval()
    {
        return interval;
    }

    InvalidationListener listener()
    {
        return listener;
    }

    /** @return the first address of the range. */
    public long start()
    {
        return interval.start();
    }

    /** @return the address after the last of the range. */
    public long end()
    {
        return interval.end();
    }

    /**
     * Begins building pointers into the range: waits while an invalidation of it is running (its memory may be
     * changing), then returns the sequence to check with {@link #readRetry(long)}.
     *
     * @return the sequence.
     * @throws IllegalStateException when the subscription is closed, or when the call would wait for this thread's own
     *                               write section or comes from a listener.
     * @throws SpaceClosedException  when the space is closed.
     */
    public long readBegin()
    {
        subscribers.checkUsable("readBegin", this);
        return subscribers.invalidations.readBegin(interval);
    }

    /**
     * The check under the subscriber's lock (the one its listener takes).
     *
     * @param s what {@link #readBegin()} returned.
     * @return true when an invalidation of the range started since: throw the pointers away and begin again. Always
     *         true once the subscription is closed.
     */
    public boolean readRetry(final long s)
    {
        return interval.sequence() != s;
    }

    /**
     * The same check without the subscriber's lock: after reading through a cached pointer, true when an
     * invalidation of the range has started since {@code s}, so the read may have seen changed memory.
     *
     * @param s what {@link #readBegin()} returned when the pointer was cached.
     * @return true when the read must not be trusted.
     */
    public boolean checkRetry(final long s)
    {
        return interval.sequence() != s;
    }

    /**
     * Records an invalidation's sequence; called by the listener under the subscriber's lock. (If the listener does
     * not, the space records it when the listener returns, still before the write changes anything; recording it
     * under the lock makes the retry visible to the subscriber's check as early as the listener's own changes.)
     *
     * @param sequence the sequence the listener was given.
     */
    public void setSequence(final long sequence)
    {
        if (!closed)
        {
            interval.setSequence(sequence);
        }
    }

    /** @return whether {@link #close()} was called or the space closed. */
    public boolean isClosed()
    {
        return closed || subscribers.isSpaceClosed();
    }

    boolean markClosed()
    {
        if (closed)
        {
            return false;
        }
        closed = true;
        interval.setSequence(0); // even: equal to no sequence readBegin returns, so every retry check says retry
        return true;
    }

    boolean closedFlag()
    {
        return closed;
    }

    /**
     * Unsubscribes. After it returns, the listener is not called again and no call of it is still running. Waits,
     * when invalidations that may call the listener are running on other threads, until they end. Idempotent.
     *
     * @throws IllegalStateException when called from an invalidation listener.
     */
    @Override
    public void close()
    {
        subscribers.unsubscribe(this);
    }

    @Override
    public String toString()
    {
        return "subscription [0x" + Long.toHexString(start()) + ", 0x" + Long.toHexString(end()) + ")";
    }
}
