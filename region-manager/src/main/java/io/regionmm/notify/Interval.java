package io.regionmm.notify;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One subscribed address range [start, end) and its own invalidation sequence (the kernel's
 * {@code mmu_interval_notifier}); also its node in the {@link IntervalTree}.
 *
 * <p>Its sequence is always odd. It is set to the space's current (odd) sequence by an invalidation that covers
 * it, so it equals the space's sequence exactly while an invalidation that touched it, or that was running when it
 * was added, has not ended: that is what {@link Invalidations#readBegin} waits on.
 *
 * @param <T> what the subscription attaches (the space's subscription object).
 */
public final class Interval<T>
{
    private static final VarHandle SEQ;

    static
    {
        try
        {
            SEQ = MethodHandles.lookup().findVarHandle(Interval.class, "seq", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** Where the interval is, guarded by the owning {@link Invalidations}' lock. */
    enum State
    {
        NEW, IN_TREE, DEFERRED_ADD, DEFERRED_REMOVE, REMOVED
    }

    final long start;
    final long end;
    final long id; // tie-break for equal starts, and the treap's priority source
    private final T owner;
    @SuppressWarnings("unused") // through SEQ
    private volatile long seq;

    // Tree links and augmentation, changed only under the owner's lock while its sequence is even.
    Interval<T> left;
    Interval<T> right;
    long maxEnd;
    final int priority;

    // Deferred work, guarded by the owner's lock.
    State state = State.NEW;
    Interval<T> nextDeferred;

    Interval(final long start, final long end, final long id, final T owner)
    {
        this.start = start;
        this.end = end;
        this.id = id;
        this.owner = owner;
        this.maxEnd = end;
        this.priority = mix(id);
    }

    private static int mix(final long id)
    {
        long z = id + 0x9E3779B97F4A7C15L; // splitmix64: a fixed, well-spread priority per id (a deterministic treap)
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int)(z ^ (z >>> 31));
    }

    /** @return the first address. */
    public long start()
    {
        return start;
    }

    /** @return the address after the last. */
    public long end()
    {
        return end;
    }

    /** @return what the subscription attached. */
    public T owner()
    {
        return owner;
    }

    /** @return the sequence, read with acquire (the lock-free retry hint; under the subscriber's lock, exact). */
    public long sequence()
    {
        return (long)SEQ.getAcquire(this);
    }

    /**
     * Records an invalidation's sequence. Release: a subscriber that reads it (acquire) also sees what the listener
     * wrote before, such as a cleared cache entry.
     */
    public void setSequence(final long s)
    {
        SEQ.setRelease(this, s);
    }

    boolean overlaps(final long from, final long to)
    {
        return start < to && from < end;
    }

    @Override
    public String toString()
    {
        return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")#" + id;
    }
}
