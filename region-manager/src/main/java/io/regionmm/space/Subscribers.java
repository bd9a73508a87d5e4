package io.regionmm.space;

import io.regionmm.lock.RacePoint;
import io.regionmm.notify.Interval;
import io.regionmm.notify.Invalidations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A space's range subscriptions, and the writer's side of invalidating them. The protocol itself (sequence,
 * deferral, waiting) is {@link Invalidations}; this class calls the listeners and keeps them from calling back into
 * the space in ways that would wait for the write section they run in.
 *
 * <p>Writers invalidate under the mm write lock, so on one thread at a time: the marker of the thread running a
 * listener ({@code calling}) is a plain field, compared only with the current thread (a thread always sees its own
 * writes; no other thread's write can make it equal to itself).
 */
final class Subscribers
{
    private static final Logger LOG = LoggerFactory.getLogger(Subscribers.class);

    final Invalidations<Subscription> invalidations = new Invalidations<>();
    private final Mm mm;
    private Thread calling;
    // Invalidations begun by the open write section (or the close), all ended by endAll as it ends; touched only
    // under the mm write lock.
    private int begun;

    Subscribers(final Mm mm)
    {
        this.mm = mm;
    }

    Subscription subscribe(final long start, final long length, final InvalidationListener listener)
    {
        final String op = "subscribe";
        Objects.requireNonNull(listener, "listener");
        refuseInListener(op);
        mm.checkOpen(op);
        mm.window.checkRange(op, start, length);
        final Subscription s = new Subscription(this, start, start + length, listener);
        invalidations.insert(s.interval());
        if (mm.isClosed())
        {
            // closed while subscribing: the close's invalidation may have missed it; it is dead either way
            s.markClosed();
            invalidations.remove(s.interval());
            throw new SpaceClosedException(op);
        }
        return s;
    }

    void unsubscribe(final Subscription s)
    {
        refuseInListener("Subscription.close");
        if (s.closedFlag())
        {
            return;
        }
        refuseWithPins("Subscription.close", s);
        if (!s.markClosed())
        {
            return;
        }
        final long wait = invalidations.remove(s.interval());
        if (wait == 0 || mm.lock.isWriteLockedByCurrentThread())
        {
            // Nothing running can call it; or what runs is this thread's own section, which skips closed
            // subscriptions (and which this thread cannot wait for).
            return;
        }
        while (!invalidations.awaitChange(wait, 1, TimeUnit.SECONDS))
        {
            LOG.debug("{}: close waits for a running invalidation", s);
        }
    }

    boolean isSpaceClosed()
    {
        return mm.isClosed();
    }

    /** The subscriber's readBegin may not wait for its own thread, nor run in a listener. */
    void checkUsable(final String op, final Subscription s)
    {
        refuseInListener(op);
        if (s.closedFlag())
        {
            throw new IllegalStateException(op + ": " + s + " is closed");
        }
        mm.checkOpen(op);
        refuseWithPins(op, s);
        if (mm.lock.isWriteLockedByCurrentThread() && invalidations.isInvalidating(s.interval()))
        {
            throw new IllegalStateException(op + ": " + s + " is being invalidated by this thread's own write " +
                "section, which ends only when the section closes: build the pointers after it");
        }
    }

    /**
     * A thread that holds a lease in the space must not wait for an invalidation: the writer running it may be
     * waiting for that very lease (it invalidates, then write-locks what it changes). Refused whether or not one is
     * running now, so the rule does not depend on timing.
     */
    private void refuseWithPins(final String op, final Subscription s)
    {
        final String pins = mm.lock.pinsOfCurrentThread();
        if (pins != null && !mm.lock.isWriteLockedByCurrentThread())
        {
            throw new IllegalStateException(op + ": this thread holds " + pins + ", and " + s + " may have to wait " +
                "for an invalidation whose writer waits for that lease; close the lease first");
        }
    }

    void refuseInListener(final String op)
    {
        if (calling == Thread.currentThread())
        {
            throw new IllegalStateException(op + ": called from an invalidation listener, which runs inside a " +
                "write section; a listener only drops its pointers (under its own lock) and returns");
        }
    }

    /**
     * Invalidates [start, end) before a write changes it: every subscription overlapping it is told. The write
     * section calls {@link #endAll()} as it ends, when every change is published.
     *
     * @throws InvalidationRefusedException when a listener would block, returned false or threw; nothing changed.
     */
    void invalidate(final String op, final long start, final long end, final InvalidationCause cause,
        final boolean mayBlock)
    {
        begun++; // a refused invalidation has begun too, and must end
        final long seq = invalidations.begin(start, end);
        if (seq == 0)
        {
            return; // no subscription overlaps
        }
        RacePoint.INVALIDATION_BEGUN.reach();
        final Refusal refused = tellAll(new Invalidation(start, end, cause, mayBlock), seq, false);
        if (refused != null)
        {
            final String why = refused.thrown() != null ? "threw " + refused.thrown() :
                mayBlock ? "returned false although it may block" : "would block";
            throw new InvalidationRefusedException(op, refused.subscription(), why, refused.thrown());
        }
        RacePoint.INVALIDATION_TOLD.reach();
    }

    /**
     * The close's invalidation: every listener is told, whatever the others do (a failure is logged), since the
     * close goes on.
     */
    void invalidateForClose(final long start, final long end)
    {
        begun++;
        final long seq = invalidations.begin(start, end);
        if (seq != 0)
        {
            tellAll(new Invalidation(start, end, InvalidationCause.CLOSE, true), seq, true);
        }
    }

    /** A listener that did not finish: the one that returned false (thrown null) or threw. */
    private record Refusal(Subscription subscription, Throwable thrown)
    {
    }

    /**
     * Calls the listener of every open subscription the invalidation overlaps, on this thread, marked as running
     * listeners (so they cannot call back into the space).
     *
     * @param goOn true for the close: a refusal is logged and the walk goes on; else it stops the walk.
     * @return the refusal that stopped the walk, or null.
     */
    private Refusal tellAll(final Invalidation inv, final long seq, final boolean goOn)
    {
        final Refusal[] refused = new Refusal[1];
        final Thread outer = calling;
        calling = Thread.currentThread();
        try
        {
            invalidations.forEachOverlap(inv.start(), inv.end(), interval -> {
                final Subscription s = interval.owner();
                if (s.closedFlag())
                {
                    return true; // closed: removal deferred to the end of this invalidation
                }
                boolean done = false;
                Throwable thrown = null;
                try
                {
                    done = s.listener().invalidate(s, inv, seq);
                }
                catch (final RuntimeException | Error ex)
                {
                    thrown = ex;
                }
                if (!done && !goOn)
                {
                    refused[0] = new Refusal(s, thrown);
                    return false;
                }
                if (thrown != null)
                {
                    LOG.error("close: the listener of {} threw; the space closes anyway", s, thrown);
                }
                else if (!done)
                {
                    LOG.warn("close: the listener of {} returned false; the space closes anyway", s);
                }
                record(interval, s, seq);
                return true;
            });
        }
        finally
        {
            calling = outer;
        }
        return refused[0];
    }

    private static void record(final Interval<Subscription> interval, final Subscription s, final long seq)
    {
        if (interval.sequence() != seq && !s.closedFlag())
        {
            interval.setSequence(seq); // the listener did not: still before the write changes anything
        }
    }

    /** Ends every invalidation begun in the write section that is ending (under the mm write lock). */
    void endAll()
    {
        for (; begun > 0; begun--)
        {
            invalidations.end();
        }
    }
}
