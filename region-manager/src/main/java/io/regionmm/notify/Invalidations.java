package io.regionmm.notify;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The invalidation sequence of one space and its subscribed ranges: the whole protocol of range subscriptions, after
 * the kernel's {@code mmu_interval_notifier} (mm/mmu_notifier.c, the final design of the "interval tree notifier"
 * thread).
 *
 * <p>State (all under {@code lock} except where said):
 * <ul>
 * <li>{@code seq}: one sequence per space, even while no invalidation that overlaps a subscription is running. The
 *     first such invalidation makes it odd; it stays odd, with the same value, while any invalidation is running
 *     (overlapping or not); when the last running one ends it becomes even again. Written under the lock, read
 *     without it (volatile) by waiters.</li>
 * <li>{@code active}: invalidations started and not ended.</li>
 * <li>the tree: changed only under the lock and only while {@code seq} is even. While it is odd, an invalidation
 *     walks it without the lock (it cannot change), and adds and removes are deferred to the end of the last
 *     running invalidation, in the order they came (the kernel's deferred list, like rtnl_lock/rtnl_unlock).</li>
 * <li>each interval's own sequence, always odd: set to the space's odd {@code seq} when an invalidation covers it
 *     (by the listener, under the subscriber's lock, or by the space after the listener returns), or when it is
 *     added while invalidations run; else {@code seq - 1} at insertion, a value the space's sequence will never
 *     take again.</li>
 * </ul>
 *
 * <p>Invalidation (a writer, before it changes anything in [start, end)): {@link #begin} counts it and, if the tree
 * holds an overlapping interval, makes {@code seq} odd and returns it; the writer then calls each overlapping
 * interval's listener ({@link #forEachOverlap}); after the change, {@link #end} uncounts it, and the last one to end
 * makes the sequence even, applies the deferred work and wakes the waiters.
 *
 * <p>Subscriber: {@link #readBegin} returns the interval's sequence, after waiting while it equals the space's (an
 * invalidation that covers the interval has started and not ended: building pointers now would only race it);
 * then the subscriber builds its pointers; then, under the lock its listener also takes, {@code interval.sequence()
 * != s} says they may already be stale (an invalidation started since readBegin). Why that is enough: an
 * invalidation sets the interval's sequence (under the subscriber's lock) before the writer changes any byte. If
 * the subscriber's check ran before that, its pointers went into its cache before the listener ran, and the listener
 * removes them; if after, the check fails.
 *
 * <p>An interval added while invalidations run takes the space's odd sequence, so its first readBegin waits until
 * they end: they did not call it, and may be changing its range. If invalidations run but none has made the
 * sequence odd yet, the add makes it odd itself and goes into the tree at once (the tree was not being walked).
 * A removal while the sequence is odd is deferred, and the remover waits until the sequence changes: after that no
 * running invalidation can still call the interval.
 */
public final class Invalidations<T>
{
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final IntervalTree<T> tree = new IntervalTree<>();
    private volatile long seq = 2; // 2, not 0: an interval added at the start gets 1, still odd (as the kernel does)
    private int active;
    private long nextId;
    private Interval<T> deferredHead;
    private Interval<T> deferredTail;

    /** @return the space's sequence (odd while an invalidation that overlaps a subscription is running). */
    public long sequence()
    {
        return seq;
    }

    /**
     * Makes an interval for [start, end) (not yet subscribed).
     *
     * @param owner what the interval reports as its owner.
     */
    public Interval<T> newInterval(final long start, final long end, final T owner)
    {
        lock.lock();
        try
        {
            return new Interval<>(start, end, nextId++, owner);
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Subscribes an interval; deferred while the sequence is odd (see the class comment). */
    public void insert(final Interval<T> n)
    {
        lock.lock();
        try
        {
            if (n.state != Interval.State.NEW)
            {
                throw new IllegalStateException("interval " + n + " was already inserted");
            }
            long s = seq;
            if (active > 0)
            {
                if ((s & 1) != 0)
                {
                    n.initSequence(s);
                    defer(n, Interval.State.DEFERRED_ADD);
                    return;
                }
                // Invalidations run, none overlapped a subscription, so none walks the tree: make the sequence odd
                // (freezing the tree for the ones that start next) and add now. readBegin waits for all of them.
                s |= 1;
                seq = s;
                tree.insert(n);
                n.state = Interval.State.IN_TREE;
                n.initSequence(s);
                return;
            }
            tree.insert(n);
            n.state = Interval.State.IN_TREE;
            n.initSequence(s - 1);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Unsubscribes an interval. When invalidations that may still call it are running, the removal is deferred to
     * their end.
     *
     * @return 0 when no running invalidation can call the interval any more; else the sequence to wait out with
     *         {@link #awaitChange} before that is so.
     */
    public long remove(final Interval<T> n)
    {
        lock.lock();
        try
        {
            switch (n.state)
            {
                case NEW, REMOVED, DEFERRED_REMOVE:
                    return n.state == Interval.State.DEFERRED_REMOVE ? seq : 0;
                case DEFERRED_ADD:
                    unlinkDeferred(n); // never in the tree, never called
                    n.state = Interval.State.REMOVED;
                    return 0;
                default:
                    break;
            }
            final long s = seq;
            if ((s & 1) != 0)
            {
                defer(n, Interval.State.DEFERRED_REMOVE);
                return s;
            }
            tree.remove(n);
            n.state = Interval.State.REMOVED;
            return 0;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Starts an invalidation of [start, end).
     *
     * @return the odd sequence the overlapping intervals are to record, or 0 when no interval overlaps (then there is
     *         nothing to walk, but {@link #end} must still be called).
     */
    public long begin(final long start, final long end)
    {
        lock.lock();
        try
        {
            active++;
            if (!tree.anyOverlap(start, end))
            {
                return 0;
            }
            final long s = seq | 1;
            seq = s;
            return s;
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Visits the intervals overlapping [start, end), without the lock: only between a {@link #begin} that returned a
     * sequence and its {@link #end}, while the tree cannot change.
     *
     * @return false when the visitor stopped the walk.
     */
    public boolean forEachOverlap(final long start, final long end, final IntervalVisitor<T> v)
    {
        return tree.forEachOverlap(start, end, v);
    }

    /** Ends an invalidation; the last one running makes the sequence even, applies deferred work, wakes waiters. */
    public void end()
    {
        lock.lock();
        try
        {
            if (active <= 0)
            {
                throw new IllegalStateException("end: no invalidation is running");
            }
            if (--active > 0 || (seq & 1) == 0)
            {
                return;
            }
            for (Interval<T> n = deferredHead; n != null; )
            {
                final Interval<T> next = n.nextDeferred;
                n.nextDeferred = null;
                if (n.state == Interval.State.DEFERRED_ADD)
                {
                    tree.insert(n);
                    n.state = Interval.State.IN_TREE;
                }
                else
                {
                    tree.remove(n);
                    n.state = Interval.State.REMOVED;
                }
                n = next;
            }
            deferredHead = null;
            deferredTail = null;
            seq = seq + 1;
            changed.signalAll();
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * The subscriber's begin: waits while an invalidation that covers the interval runs.
     *
     * @return the interval's sequence to pass to the retry check (always odd).
     * @throws IllegalStateException when the interval is being or has been removed.
     */
    public long readBegin(final Interval<T> n)
    {
        // Without the lock first: an odd sequence of the interval that differs from the space's means no running
        // invalidation has recorded itself there (it may start right after: the retry check sees it then). The
        // interval's sequence is read before the space's, so one recorded by a running invalidation is seen equal.
        final long quick = n.sequence();
        if ((quick & 1) != 0 && quick != seq)
        {
            return quick;
        }
        lock.lock();
        try
        {
            final long s = n.sequence();
            if ((s & 1) == 0 || n.state == Interval.State.REMOVED || n.state == Interval.State.DEFERRED_REMOVE)
            {
                // Closed (its sequence is 0, or its removal is on the way): a sequence returned now would match
                // for ever, since no invalidation calls the interval again.
                throw new IllegalStateException("readBegin: interval " + n + " is unsubscribed");
            }
            while (s == seq)
            {
                changed.awaitUninterruptibly();
            }
            return s;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** @return whether {@link #readBegin} would wait now. */
    public boolean isInvalidating(final Interval<T> n)
    {
        return n.sequence() == seq;
    }

    /**
     * Waits until the space's sequence is no longer {@code s}.
     *
     * @return false when the timeout passed first.
     */
    public boolean awaitChange(final long s, final long timeout, final TimeUnit unit)
    {
        long ns = unit.toNanos(timeout);
        lock.lock();
        try
        {
            while (seq == s)
            {
                if (ns <= 0)
                {
                    return false;
                }
                try
                {
                    ns = changed.awaitNanos(ns);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return seq != s;
                }
            }
            return true;
        }
        finally
        {
            lock.unlock();
        }
    }

    /** @return subscribed intervals in the tree (deferred adds not counted). */
    public int size()
    {
        lock.lock();
        try
        {
            return tree.size();
        }
        finally
        {
            lock.unlock();
        }
    }

    private void defer(final Interval<T> n, final Interval.State state)
    {
        n.state = state;
        n.nextDeferred = null;
        if (deferredTail == null)
        {
            deferredHead = n;
        }
        else
        {
            deferredTail.nextDeferred = n;
        }
        deferredTail = n;
    }

    private void unlinkDeferred(final Interval<T> n)
    {
        Interval<T> prev = null;
        for (Interval<T> p = deferredHead; p != null; prev = p, p = p.nextDeferred)
        {
            if (p == n)
            {
                if (prev == null)
                {
                    deferredHead = n.nextDeferred;
                }
                else
                {
                    prev.nextDeferred = n.nextDeferred;
                }
                if (deferredTail == n)
                {
                    deferredTail = prev;
                }
                n.nextDeferred = null;
                return;
            }
        }
    }
}
