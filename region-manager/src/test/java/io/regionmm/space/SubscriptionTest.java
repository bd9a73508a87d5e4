package io.regionmm.space;

import io.regionmm.lock.RacePoint;
import io.regionmm.region.Advice;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Range subscriptions on real mappings: which writes tell which listeners, that they are told before anything
 * changes, the non-blocking refusal, what a listener may not do, and the races of readBegin and close with a
 * running invalidation (replayed at named race points).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionTest extends TrustFixture
{
    /** One call of a listener, and the first word of the range both name, when it was made. */
    record Call(InvalidationCause cause, long start, long end, boolean mayBlock, long seq, long firstWord)
    {
    }

    /** A listener that records its calls under its lock, as a real subscriber's would. */
    final class Recorder implements InvalidationListener
    {
        final ReentrantLock lock = new ReentrantLock();
        final List<Call> calls = new ArrayList<>();
        volatile boolean refuseNonBlocking;
        volatile RuntimeException toThrow;

        @Override
        public boolean invalidate(final Subscription s, final Invalidation inv, final long seq)
        {
            if (!inv.mayBlock() && refuseNonBlocking)
            {
                return false;
            }
            if (toThrow != null)
            {
                throw toThrow;
            }
            lock.lock();
            try
            {
                s.setSequence(seq);
                calls.add(new Call(inv.cause(), inv.start(), inv.end(), inv.mayBlock(), seq,
                    word(Math.max(s.start(), inv.start()))));
            }
            finally
            {
                lock.unlock();
            }
            return true;
        }

        List<Call> take()
        {
            lock.lock();
            try
            {
                final List<Call> c = new ArrayList<>(calls);
                calls.clear();
                return c;
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    /** The word at an address, read straight from the window (never faults: a tombstone reads 0). */
    long word(final long address)
    {
        final Window w = space.mm().window;
        return w.segment.get(ValueLayout.JAVA_LONG, address - w.base);
    }

    private long seq()
    {
        return space.mm().subscribers.invalidations.sequence();
    }

    @Test
    void everyChangeOfWhatReadersSeeTellsOverlappingListenersBeforeItHappens() throws Exception
    {
        final long a = space.map(f1, 0, pages(16), Protection.READ_WRITE, Sharing.SHARED);
        final Recorder rec = new Recorder();
        final long subStart = a + pages(2);
        final Subscription sub = space.subscribe(subStart, pages(4), rec);
        final long firstStamp = stamp(1, 2);
        assertEquals(firstStamp, word(subStart));

        space.protect(a + pages(3), pages(2), Protection.READ);
        assertEquals(List.of(new Call(InvalidationCause.PROTECT, a + pages(3), a + pages(5), true, seq() - 1,
            stamp(1, 3))), rec.take());
        space.verify();

        space.advise(a + pages(4), pages(4), Advice.DONTNEED);
        assertEquals(InvalidationCause.DONTNEED, rec.take().get(0).cause());

        // no byte a reader sees changes: no call
        space.advise(a, pages(16), Advice.RANDOM);
        space.split(a + pages(8));
        space.merge(a + pages(8), pages(8));
        space.protect(a + pages(10), pages(2), Protection.READ); // outside the subscription
        space.unmap(a + pages(14), pages(2));
        assertEquals(List.of(), rec.take());
        space.verify();

        assertEquals(a + pages(3), space.regionAt(a).end(), "protect split the region at page 3");
        space.remap(a, pages(2), false); // shrinks the first region to end inside the subscription
        final List<Call> shrink = rec.take();
        assertEquals(1, shrink.size());
        assertEquals(InvalidationCause.SHRINK, shrink.get(0).cause());
        assertEquals(a + pages(2), shrink.get(0).start());
        assertEquals(firstStamp, shrink.get(0).firstWord(), "told before the tail became a tombstone");
        assertEquals(0, word(subStart), "the tail is a tombstone now");
        space.verify();

        final long r1 = a + pages(3);
        final long moved = space.remap(r1, pages(64), true); // the next region follows it: it moves away
        assertTrue(moved != r1);
        final Call move = rec.take().get(0);
        assertEquals(InvalidationCause.MOVE, move.cause());
        assertEquals(stamp(1, 3), move.firstWord(), "told before the old range became a tombstone");
        assertEquals(0, word(r1), "the old range is a tombstone now");
        space.verify();

        space.close();
        final Call close = rec.take().get(0);
        assertEquals(InvalidationCause.CLOSE, close.cause());
        assertEquals(space.windowStart(), close.start());
        assertThrows(SpaceClosedException.class, sub::readBegin);
        assertTrue(sub.readRetry(close.seq() - 2), "any earlier sequence is stale");
        assertTrue(sub.isClosed());
    }

    @Test
    void readRetryFiresOnlyAfterAnInvalidationOfItsRange() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ, Sharing.SHARED);
        final long b = space.map(f2, 0, pages(8), Protection.READ, Sharing.SHARED);
        final Subscription sub = space.subscribe(a, pages(8), new Recorder());
        final long s = sub.readBegin();
        assertEquals(1, s & 1, "an interval's sequence is odd");
        space.unmap(b, pages(8));
        assertFalse(sub.readRetry(s), "another range changed");
        space.unmap(a + pages(7), pages(1));
        assertTrue(sub.readRetry(s));
        assertTrue(sub.checkRetry(s));
        final long s2 = sub.readBegin();
        assertFalse(sub.readRetry(s2));
        sub.close();
        assertTrue(sub.readRetry(s2), "closed: nothing protects cached pointers any more");
        assertThrows(IllegalStateException.class, sub::readBegin);
        sub.close(); // idempotent
    }

    @Test
    void aNonBlockingWriteRefusedByAListenerChangesNothing() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.PRIVATE);
        final long b = space.map(f2, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Recorder told = new Recorder(); // earlier in the walk, accepts
        final Recorder refuses = new Recorder();
        refuses.refuseNonBlocking = true;
        final Subscription early = space.subscribe(a, pages(1), told);
        final Subscription sub = space.subscribe(a + pages(1), pages(8), refuses);
        MemorySegment.copy(new long[] {42}, 0, space.mm().window.segment, ValueLayout.JAVA_LONG,
            a + pages(5) - space.windowStart(), 1); // a private page of our own, which DONTNEED would drop
        final List<Region> before = space.regions();
        final long s = sub.readBegin();
        try (WriteSection w = space.beginWriteNonBlocking())
        {
            for (final ThrowingRun op : List.<ThrowingRun>of(
                () -> w.unmap(a, pages(16)),
                () -> w.protect(a, pages(8), Protection.READ),
                () -> w.advise(a, pages(8), Advice.DONTNEED),
                () -> w.remap(a, pages(4), false),
                () -> w.remap(a, pages(64), true))) // b is right after a: it moves
            {
                final InvalidationRefusedException ex = assertThrows(InvalidationRefusedException.class, op::run);
                assertSame(sub, ex.subscription());
                assertTrue(ex.getMessage().contains("would block"), ex.getMessage());
                assertEquals(before, space.regions(), "the map is as before");
                space.verify(); // and the kernel's mappings
            }
            w.unmap(b + pages(7), pages(1)); // the section stays usable: this one overlaps nobody
        }
        assertEquals(42, word(a + pages(5)), "the private page survived: DONTNEED never ran");
        assertEquals(stamp(2, 3), word(b + pages(3)));
        assertEquals(4, told.take().size(), "the listener before the refusing one was told each time its range " +
            "was in the write's (the shrink's tail is not)");
        assertFalse(sub.readRetry(s), "the refusing one recorded nothing: nothing changed in its range");
        early.close();
        sub.close();
    }

    @Test
    void aListenerThatThrowsFailsTheWriteWhichChangesNothing() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Recorder rec = new Recorder();
        rec.toThrow = new IllegalArgumentException("listener bug");
        final Subscription sub = space.subscribe(a, pages(8), rec);
        final List<Region> before = space.regions();
        final InvalidationRefusedException ex = assertThrows(InvalidationRefusedException.class,
            () -> space.unmap(a, pages(8)));
        assertSame(rec.toThrow, ex.getCause());
        assertEquals("unmap", ex.operation());
        assertEquals(before, space.regions());
        space.verify();
        assertEquals(stamp(1, 7), word(a + pages(7)));
        rec.toThrow = null;
        space.unmap(a, pages(8));
        assertEquals(1, rec.take().size());
        space.verify();
        sub.close();
    }

    @Test
    void aListenerCannotCallBackIntoTheSpace() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, pages(8), Protection.READ, Sharing.SHARED);
        final List<TrustFixture.Outcome> outcomes = new ArrayList<>();
        final Subscription[] self = new Subscription[1];
        self[0] = space.subscribe(a, pages(8), (s, inv, seq) -> {
            outcomes.add(Outcome.of(() -> space.lease(b)));
            outcomes.add(Outcome.of(() -> space.leaseRange(b, pages(1))));
            outcomes.add(Outcome.of(() -> space.readLocked(b, LONG)));
            outcomes.add(Outcome.of(() -> space.beginWrite()));
            outcomes.add(Outcome.of(() -> space.beginWriteNonBlocking()));
            outcomes.add(Outcome.of(() -> {
                space.unmap(b, pages(1));
                return null;
            }));
            outcomes.add(Outcome.of(() -> space.subscribe(b, pages(1), (x, y, z) -> true)));
            outcomes.add(Outcome.of(() -> {
                self[0].close();
                return null;
            }));
            outcomes.add(Outcome.of(() -> self[0].readBegin()));
            outcomes.add(Outcome.of(() -> {
                space.close();
                return null;
            }));
            // a read that never waits is allowed: speculation, else the pin, else "busy"
            outcomes.add(Outcome.of(() -> space.readNoWait(b, LONG, -1)));
            s.setSequence(seq);
            return true;
        });
        space.unmap(a, pages(8));
        assertEquals(11, outcomes.size());
        for (int i = 0; i < 10; i++)
        {
            final Throwable t = outcomes.get(i).thrown();
            assertInstanceOf(IllegalStateException.class, t, "call " + i + ": " + outcomes.get(i));
            assertTrue(t.getMessage().contains("listener") || t.getMessage().contains("write section"),
                "call " + i + ": " + t.getMessage());
        }
        assertEquals(stamp(2, 0), outcomes.get(10).value());
        space.verify();
        assertEquals(List.of(b), space.regions().stream().map(Region::start).toList(), "nothing else changed");
        self[0].close(); // outside the listener: fine
    }

    @Test
    void theWindowsMemoryReadsRegionsAndZerosAndIsGoneAfterClose() throws Exception
    {
        final long a = space.map(f1, 0, pages(2), Protection.READ_WRITE, Sharing.SHARED);
        final MemorySegment memory = space.memory();
        assertTrue(memory.isReadOnly());
        assertEquals(space.windowEnd() - space.windowStart(), memory.byteSize());
        assertEquals(stamp(1, 1), memory.get(ValueLayout.JAVA_LONG, a + pages(1) - space.windowStart()));
        assertEquals(0, memory.get(ValueLayout.JAVA_LONG, a + pages(2) - space.windowStart()), "a tombstone");
        space.close();
        assertThrows(IllegalStateException.class, () -> memory.get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void badRangesAreRefused()
    {
        final InvalidationListener l = (s, inv, seq) -> true;
        final long base = space.windowStart();
        assertThrows(RegionArgumentException.class, () -> space.subscribe(base, 0, l));
        assertThrows(RegionArgumentException.class, () -> space.subscribe(base + 1, pages(1), l));
        assertThrows(RegionArgumentException.class, () -> space.subscribe(base, pages(1) + 1, l));
        assertThrows(RegionArgumentException.class, () -> space.subscribe(base - pages(1), pages(2), l));
        assertThrows(RegionArgumentException.class, () -> space.subscribe(space.windowEnd(), pages(1), l));
        assertThrows(RegionArgumentException.class, () -> space.subscribe(base, Long.MAX_VALUE & -PAGE, l));
        assertThrows(NullPointerException.class, () -> space.subscribe(base, pages(1), null));
        assertEquals(0, space.mm().subscribers.invalidations.size(), "nothing subscribed");
        space.close();
        assertThrows(SpaceClosedException.class, () -> space.subscribe(base, pages(1), l));
    }

    @Test
    void twoInvalidationsInOneSectionOverlapUntilTheSectionEnds() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Recorder rec = new Recorder();
        final Subscription sub = space.subscribe(a, pages(8), rec);
        final Lane reader = lane("reader");
        final long idle = seq();
        try (WriteSection w = space.beginWrite())
        {
            w.protect(a, pages(2), Protection.READ);
            w.unmap(a + pages(1), pages(2));
            assertEquals(idle + 1, seq(), "odd, the same value for both");
            assertThrows(IllegalStateException.class, sub::readBegin, "would wait for this very section");
            final Future<Long> begun = reader.submit(sub::readBegin);
            awaitTrue(() -> reader.thread.getState() == Thread.State.WAITING, "the reader waits in readBegin");
            assertFalse(begun.isDone());
            w.unmap(a + pages(6), pages(1));
        }
        assertEquals(idle + 2, seq());
        final List<Call> calls = rec.take();
        assertEquals(3, calls.size());
        assertTrue(calls.stream().allMatch(c -> c.seq() == idle + 1));
        space.verify();
        sub.close();
    }

    @Test
    void closeWaitsForARunningInvalidationAndTheWritersOwnCloseDoesNot() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        final Recorder rec = new Recorder();
        final Subscription sub = space.subscribe(a, pages(4), rec);
        final Lane writer = lane("writer");
        final Lane closer = lane("closer");
        final CountDownLatch told = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        onRacePoint(p -> {
            if (p == RacePoint.INVALIDATION_TOLD && Thread.currentThread() == writer.thread)
            {
                told.countDown();
                awaitQuietly(release);
            }
        });
        final Future<Object> unmap = writer.submit(() -> {
            space.unmap(a, pages(2));
            return null;
        });
        await(told, "the writer told the listeners");
        final Future<Object> closing = closer.submit(() -> {
            sub.close();
            return null;
        });
        awaitTrue(() -> closer.thread.getState() == Thread.State.TIMED_WAITING || closing.isDone(),
            "close waits");
        assertFalse(closing.isDone(), "close returned while an invalidation that called the listener runs");
        release.countDown();
        get(unmap, "unmap");
        get(closing, "close");
        assertEquals(0, space.mm().subscribers.invalidations.size(), "the deferred removal was applied");

        // The writer closing a subscription inside its own section: no wait (it cannot wait for itself), and the
        // section's later operations skip it.
        final Recorder rec2 = new Recorder();
        final Subscription sub2 = space.subscribe(a + pages(2), pages(4), rec2);
        try (WriteSection w = space.beginWrite())
        {
            w.unmap(a + pages(2), pages(1));
            sub2.close();
            w.unmap(a + pages(3), pages(1));
        }
        assertEquals(1, rec2.take().size());
        assertEquals(0, space.mm().subscribers.invalidations.size());
    }

    @Test
    void readBeginStraddlingAnInvalidation() throws Exception
    {
        final long a = space.map(f1, 0, pages(8), Protection.READ_WRITE, Sharing.SHARED);
        // The subscriber's cache: one pointer (an address), guarded by its lock, cleared by its listener.
        final ReentrantLock cacheLock = new ReentrantLock();
        final long[] cached = {0};
        final Subscription sub = space.subscribe(a, pages(8), (s, inv, seq) -> {
            cacheLock.lock();
            try
            {
                s.setSequence(seq);
                cached[0] = 0;
            }
            finally
            {
                cacheLock.unlock();
            }
            return true;
        });
        final Lane writer = lane("writer");
        final CountDownLatch[] arrived = {new CountDownLatch(1)};
        final CountDownLatch[] release = {new CountDownLatch(1)};
        final RacePoint[] at = {RacePoint.INVALIDATION_BEGUN};
        onRacePoint(p -> {
            if (p == at[0] && Thread.currentThread() == writer.thread)
            {
                arrived[0].countDown();
                awaitQuietly(release[0]);
            }
        });

        // 1. readBegin before the invalidation; the writer stops after making the sequence odd, before any listener:
        //    readBegin does not wait (the listener has not recorded anything), the retry check passes, the pointer
        //    is cached; then the listener runs and removes it before the unmap.
        final long s1 = sub.readBegin();
        final Future<Object> unmap1 = writer.submit(() -> {
            space.unmap(a + pages(6), pages(2));
            return null;
        });
        await(arrived[0], "writer at INVALIDATION_BEGUN");
        assertFalse(space.mm().subscribers.invalidations.isInvalidating(sub.interval()));
        final long pointer = a + pages(7);
        assertEquals(stamp(1, 7), word(pointer), "built from the map as it still is");
        cacheLock.lock();
        try
        {
            assertFalse(sub.readRetry(s1), "no listener has run: the pointer may be cached");
            cached[0] = pointer;
        }
        finally
        {
            cacheLock.unlock();
        }
        release[0].countDown();
        get(unmap1, "unmap");
        assertEquals(0, cached[0], "the listener removed it before the page became a tombstone");
        assertTrue(sub.readRetry(s1));

        // 2. The writer stops after telling the listener, before changing anything: readBegin waits until the
        //    section ends, then builds from the new map.
        arrived[0] = new CountDownLatch(1);
        release[0] = new CountDownLatch(1);
        at[0] = RacePoint.INVALIDATION_TOLD;
        final Future<Object> unmap2 = writer.submit(() -> {
            space.unmap(a + pages(4), pages(2));
            return null;
        });
        await(arrived[0], "writer at INVALIDATION_TOLD");
        final Lane subscriber = lane("subscriber");
        final Future<Long> begun = subscriber.submit(sub::readBegin);
        awaitTrue(() -> subscriber.thread.getState() == Thread.State.WAITING, "readBegin waits");
        assertFalse(begun.isDone());
        release[0].countDown();
        get(unmap2, "unmap");
        final long s2 = get(begun, "readBegin");
        assertFalse(sub.readRetry(s2));
        assertNull(space.regionAt(a + pages(4)), "after readBegin the unmap is visible");
        sub.close();
    }

    private static void awaitQuietly(final CountDownLatch latch)
    {
        try
        {
            await(latch, "release");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @FunctionalInterface
    interface ThrowingRun
    {
        void run() throws Exception;
    }
}
