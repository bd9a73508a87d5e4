package io.regionmm.space;

import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an outside review of range subscriptions (issue 14) found, kept as regression tests: each failed on the
 * code as reviewed and says what it expects instead.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionFindingsTest extends TrustFixture
{
    /** How long the writer's timed section waits for the lease before it gives up (and so breaks the deadlock). */
    private static final long WRITER_TIMEOUT_SECONDS = 4;

    private static InvalidationListener recording(final List<InvalidationCause> causes)
    {
        return (s, inv, seq) -> {
            causes.add(inv.cause());
            s.setSequence(seq);
            return true;
        };
    }

    /**
     * Finding 1. A thread holds a lease in the range; a writer unmaps the range (its invalidation has begun, it
     * waits for the lease); the lease holder calls readBegin, which waits for the invalidation to end: a deadlock
     * (MmLock.readLock and AddressSpace.close both detect this case; readBegin does not). Here the writer's section
     * is timed, so the deadlock ends when the writer gives up; with beginWrite() / space.unmap() it never ends.
     * Expected: readBegin refuses (IllegalStateException, like the mm lock's read path) instead of waiting.
     */
    @Test
    void readBeginFromALeaseHolderIsRefusedInsteadOfDeadlocking() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Subscription sub = space.subscribe(a, pages(8), recording(new CopyOnWriteArrayList<>()));
        final Lane reader = lane("reader");
        final Lane writer = lane("writer");
        reader.lease(a);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Object> unmap = writer.submit(() -> {
            try (WriteSection w = space.beginWrite(WRITER_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                w.unmap(a, pages(8));
            }
            return null;
        });
        await(draining, "the writer invalidated and waits for the reader's lease");
        final long t0 = System.nanoTime();
        final Future<Outcome> begin = reader.submit(() -> Outcome.of(sub::readBegin));
        final Outcome o = get(begin, "readBegin");
        final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        reader.closePins(); // the writer goes on now (refused or not, the assertion below says)
        final Throwable writerFailure = Outcome.of(() -> get(unmap, "unmap")).thrown();
        assertTrue(waitedMs < 1000 && o.thrown() instanceof IllegalStateException,
            "readBegin on a thread holding the lease the writer drains should refuse at once; it " + o + " after " +
                waitedMs + " ms, only because the writer's timed section gave up (" + writerFailure + "); an " +
                "untimed writer would wait forever");
    }

    /**
     * Finding 1b. The same with Subscription.close(): the removal is deferred, close waits for the invalidation to
     * end, the invalidation's writer waits for the closer's lease. Expected: close does not wait for a writer that
     * waits for this thread (refuse, or return with the removal deferred since the listener is already skipped).
     */
    @Test
    void subscriptionCloseFromALeaseHolderIsRefusedInsteadOfDeadlocking() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Subscription sub = space.subscribe(a, pages(8), recording(new CopyOnWriteArrayList<>()));
        final Lane reader = lane("reader");
        final Lane writer = lane("writer");
        reader.lease(a);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Object> unmap = writer.submit(() -> {
            try (WriteSection w = space.beginWrite(WRITER_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                w.unmap(a, pages(8));
            }
            return null;
        });
        await(draining, "the writer invalidated and waits for the reader's lease");
        final long t0 = System.nanoTime();
        final Future<Outcome> closing = reader.submit(() -> Outcome.of(() -> {
            sub.close();
            return null;
        }));
        final Outcome o = get(closing, "Subscription.close");
        final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        reader.closePins(); // the writer goes on now (refused or not, the assertion below says)
        final Throwable writerFailure = Outcome.of(() -> get(unmap, "unmap")).thrown();
        assertTrue(waitedMs < 1000, "Subscription.close on a thread holding the lease the writer drains " + o +
            " after " + waitedMs + " ms, only because the writer's timed section gave up (" + writerFailure +
            "); an untimed writer would wait forever");
    }

    /**
     * Finding 2 (replayed at the exact interleaving). Subscription.readBegin is checkUsable (not closed) then
     * Invalidations.readBegin (reads the interval's sequence). A close on another thread in between sets the
     * interval's sequence to 0 ("equal to no sequence readBegin returns") - and readBegin returns that 0. readRetry(0)
     * and checkRetry(0) then say "valid" for ever, while the closed subscription's listener is never called again:
     * a pointer cached under it survives every later unmap. The logstore hits this window: a put that grows the
     * active segment closes the old subscription while gets run readBegin on it (beginCaching).
     * Expected: the retry checks say "retry" for a sequence taken from a subscription closed meanwhile.
     */
    @Test
    void readBeginRacingCloseNeverReturnsASequenceThatValidates() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final List<InvalidationCause> causes = new CopyOnWriteArrayList<>();
        final Subscription sub = space.subscribe(a, pages(8), recording(causes));
        // reader: Subscription.readBegin, first half
        space.mm().subscribers.checkUsable("readBegin", sub);
        // another thread: the owner replaces the subscription
        sub.close();
        // reader: Subscription.readBegin, second half
        final long s;
        try
        {
            s = space.mm().subscribers.invalidations.readBegin(sub.interval());
        }
        catch (final IllegalStateException refused)
        {
            return; // the closed interval is refused under the protocol's lock: nothing to cache under
        }
        // the writer unmaps the range the reader now caches pointers into
        space.unmap(a, pages(8));
        assertEquals(List.of(), causes, "closed: the listener is (rightly) not called");
        assertTrue(sub.readRetry(s) && sub.checkRetry(s), "readBegin returned " + s + " on a subscription closed " +
            "meanwhile; after an unmap of its whole range readRetry(s)=" + sub.readRetry(s) + ", checkRetry(s)=" +
            sub.checkRetry(s) + ": a pointer cached under it is used on a tombstone (or on the next file mapped " +
            "there)");
    }

    /**
     * Finding 2, with real threads: one thread calls readBegin on the current subscription in a loop, another
     * replaces it (subscribe the new, close the old, as LogStore.subscribe does on every grow). Counts readBegin
     * results that a closed subscription then validates.
     */
    @Test
    void readBeginRacingCloseStress() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final AtomicReference<Subscription> current = new AtomicReference<>(space.subscribe(a, pages(8),
            (s, inv, seq) -> true));
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong bad = new AtomicLong();
        final AtomicLong begins = new AtomicLong();
        final Lane reader = lane("reader");
        final Future<Object> reading = reader.submit(() -> {
            while (!stop.get())
            {
                final Subscription sub = current.get();
                try
                {
                    final long s = sub.readBegin();
                    begins.incrementAndGet();
                    if (sub.isClosed() && !sub.readRetry(s))
                    {
                        bad.incrementAndGet();
                    }
                }
                catch (final IllegalStateException closed)
                {
                    // the closed case handled right
                }
            }
            return null;
        });
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int replaced = 0;
        while (System.nanoTime() < deadline && bad.get() == 0)
        {
            final Subscription old = current.getAndSet(space.subscribe(a, pages(8), (s, inv, seq) -> true));
            old.close();
            replaced++;
        }
        stop.set(true);
        get(reading, "reader");
        assertEquals(0, bad.get(), bad.get() + " of " + begins.get() + " readBegins (" + replaced + " replacements) " +
            "returned a sequence that the closed subscription validates for ever");
    }

    /**
     * Finding 3. close(timeout) invalidates every subscription with cause CLOSE before it tries to lock the regions;
     * when a lease keeps it past the timeout it gives up, "nothing changed", the space stays open - but every
     * listener has been told CLOSE. A listener that treats CLOSE as final (Lucene's MappedFile marks its input
     * closed for good, as "the space closed", and will not unmap it) is now wrong for a space that goes on.
     * Expected: no listener hears CLOSE unless the space really closes (lock the regions first, then invalidate).
     */
    @Test
    void aTimedCloseThatGivesUpHasToldNoListener() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final List<InvalidationCause> causes = new CopyOnWriteArrayList<>();
        space.subscribe(a, pages(8), recording(causes));
        final Lane reader = lane("reader");
        reader.lease(a);
        assertThrows(RegionBusyException.class, () -> space.close(200, TimeUnit.MILLISECONDS));
        assertFalse(space.isClosed(), "the close gave up: the space is open");
        reader.closePins();
        assertEquals(List.of(), causes, "listeners were told the space closes, and it did not");
    }

    /** Control for finding 3: the non-blocking refusal path really leaves nothing changed (sound). */
    @Test
    void controlANonBlockingRefusalLeavesTheSequenceUsable() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Subscription sub = space.subscribe(a, pages(8), (s, inv, seq) -> inv.mayBlock());
        final long s = sub.readBegin();
        try (WriteSection w = space.beginWriteNonBlocking())
        {
            final Exception ex = assertThrows(Exception.class, () -> w.unmap(a, pages(8)));
            assertInstanceOf(InvalidationRefusedException.class, ex);
        }
        assertFalse(sub.readRetry(s), "the refusing subscriber's own pointers stay valid: nothing changed");
        assertEquals(List.of(a), space.regions().stream().map(r -> r.start()).toList());
        space.verify();
    }
}
