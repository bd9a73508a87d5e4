package io.regionmm.lock;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Method;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Outside review of the reader bias (BRAVO) in {@link MmLock}, on the protocol alone.
 *
 * <p>Finding B1 (the first three tests FAIL on ad8ae9c): a drain that gives up at its deadline has already cleared
 * the region's bias in revokeBias, and leaves it cleared ("the region is as before (unbiased)"), while the biased pin
 * its scan found is still held, in its slot. Every later excludeReaders loads bias 0, skips the scan, finds the count
 * drained, and goes ahead: it write-locks or detaches the region under a pin it never waited for. The retry of the
 * same section, the next section, and detach all do.
 *
 * <p>The other tests are controls that hold: bias re-enabled by a counted reader in the middle of a drain, two
 * threads whose pins of one region hash to one slot, one thread pinning a region twice and dropping the pins in the
 * other order.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MmLockBiasFindingsTest
{
    private static final long BOUND_SECONDS = 10;

    /** A region covering [start, end). */
    private static final class Range extends RegionLock
    {
        private final long start;
        private final long end;

        Range(final long start, final long end)
        {
            super(0);
            this.start = start;
            this.end = end;
        }

        @Override
        public long start()
        {
            return start;
        }

        @Override
        public long end()
        {
            return end;
        }
    }

    private final MmLock mm = new MmLock();
    private final ExecutorService pinner = Executors.newSingleThreadExecutor();
    private final ExecutorService other = Executors.newSingleThreadExecutor();
    private final ExecutorService writer = Executors.newSingleThreadExecutor();

    MmLockBiasFindingsTest()
    {
        // Regions made outside a section carry lockSeq 0, which equals the first sequence: end one section so they
        // can be pinned.
        mm.beginWrite();
        mm.endWrite();
    }

    @AfterEach
    void tearDown()
    {
        RacePoint.install(null);
        while (mm.isWriteLockedByCurrentThread())
        {
            mm.endWrite();
        }
        pinner.shutdownNow();
        other.shutdownNow();
        writer.shutdownNow();
    }

    private static <T> T get(final Future<T> f) throws Exception
    {
        try
        {
            return f.get(BOUND_SECONDS, TimeUnit.SECONDS);
        }
        catch (final TimeoutException ex)
        {
            throw new AssertionError("did not complete within " + BOUND_SECONDS + " s", ex);
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof Error e)
            {
                throw e;
            }
            throw ex;
        }
    }

    private static <T> T on(final ExecutorService thread, final Callable<T> call) throws Exception
    {
        return get(thread.submit(call));
    }

    private static void await(final CountDownLatch latch, final String what) throws InterruptedException
    {
        assertTrue(latch.await(BOUND_SECONDS, TimeUnit.SECONDS), what);
    }

    /**
     * On the pinner thread: a counted pin (which biases r), dropped, then a pin through r's slot, kept.
     */
    private void biasedPin(final Range r) throws Exception
    {
        on(pinner, () -> {
            assertEquals(StartRead.PINNED, mm.tryStartRead(r));
            mm.endRead(r);
            assertTrue(MmLock.isReaderBiased(r), "a counted pin biases the region");
            assertEquals(StartRead.PINNED, mm.tryStartRead(r));
            assertEquals(1, MmLock.refcntAcquire(r), "the pin is in a slot: the count holds only the attached 1");
            return null;
        });
        assertEquals(1, r.readers());
    }

    private void unpin(final Range r) throws Exception
    {
        on(pinner, () -> {
            mm.endRead(r);
            return null;
        });
    }

    /** A section with the deadline now: its writeLock of r gives up on r's pin. */
    private void giveUpOn(final Range r) throws Exception
    {
        assertTrue(mm.tryBeginWrite(0, TimeUnit.NANOSECONDS) != 0);
        try
        {
            assertFalse(mm.writeLock(r), "the deadline passed with r pinned");
        }
        finally
        {
            mm.endWrite();
        }
    }

    /**
     * Waits (bounded) until {@code f} either completed or its thread parked, which a writer does only in
     * waitForReaders here.
     *
     * @return true when it completed without parking.
     */
    private static boolean completedWithoutParking(final Future<?> f, final Thread t)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
        while (System.nanoTime() < deadline)
        {
            if (f.isDone())
            {
                return true;
            }
            final Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
            {
                return f.isDone(); // an idle pool thread waits too, but only after its task is done
            }
            Thread.onSpinWait();
        }
        return fail("the writer neither completed nor parked within " + BOUND_SECONDS + " s");
    }

    private Thread writerThread() throws Exception
    {
        return on(writer, Thread::currentThread);
    }

    /**
     * Submits {@code call} to the writer thread and returns once it runs (an idle pool thread waits too: polled
     * before it took the task, it would look parked).
     */
    private <T> Future<T> startWriter(final Callable<T> call) throws InterruptedException
    {
        final CountDownLatch started = new CountDownLatch(1);
        final Future<T> f = writer.submit(() -> {
            started.countDown();
            return call.call();
        });
        await(started, "the writer starting");
        return f;
    }

    // ------------------------------------------------------------------ finding B1 (fail)

    @Test
    void aSectionThatGaveUpOnABiasedPinLocksTheRegionWhenItTriesAgainWhileThePinIsHeld() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        assertTrue(mm.tryBeginWrite(0, TimeUnit.NANOSECONDS) != 0);
        try
        {
            assertFalse(mm.writeLock(r), "the deadline passed with r pinned");
            assertEquals(1, r.readers(), "still pinned");
            // The same section tries again (a non-blocking section stays usable after a RegionBusyException).
            assertFalse(mm.writeLock(r), "writeLock succeeded on its retry while r's slot pin is held (readers() = " +
                r.readers() + ")");
        }
        finally
        {
            mm.endWrite();
            unpin(r);
        }
    }

    @Test
    void theNextSectionDoesNotWaitForABiasedPinThatAGivenUpDrainFound() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        giveUpOn(r);
        final Thread w = writerThread();
        final Future<Void> lock = startWriter(() -> {
            mm.beginWrite();
            try
            {
                mm.writeLock(r);
            }
            finally
            {
                mm.endWrite();
            }
            return null;
        });
        final boolean completed = completedWithoutParking(lock, w);
        final int readers = r.readers();
        unpin(r);
        get(lock);
        assertFalse(completed, "a section without deadline write-locked r while its slot pin was held (readers() = " +
            readers + "): it never waited for it");
    }

    @Test
    void detachDetachesARegionUnderABiasedPinAfterAGivenUpDrain() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        giveUpOn(r);
        final Thread w = writerThread();
        final Future<Void> detach = startWriter(() -> {
            mm.beginWrite();
            try
            {
                mm.detach(r);
            }
            finally
            {
                mm.endWrite();
            }
            return null;
        });
        final boolean completed = completedWithoutParking(detach, w);
        final boolean detached = r.isDetached();
        final int readers = r.readers();
        unpin(r);
        get(detach);
        assertFalse(completed, "detach returned while r's slot pin was held: isDetached() = " + detached +
            " with readers() = " + readers);
    }

    // ------------------------------------------------------------------ controls (hold)

    @Test
    void aSectionWithoutAGiveUpBeforeItWaitsForABiasedPin() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        final Thread w = writerThread();
        final Future<Void> lock = startWriter(() -> {
            mm.beginWrite();
            try
            {
                mm.writeLock(r);
            }
            finally
            {
                mm.endWrite();
            }
            return null;
        });
        assertFalse(completedWithoutParking(lock, w), "the writer waits for the slot pin");
        unpin(r);
        get(lock);
        assertEquals(0, r.readers());
    }

    /**
     * A counted reader held after its increment while a writer that found r unbiased drains it; released, it biases
     * r in the middle of the drain (mayBias), so r ends up write-locked AND biased. A reader that passed the early
     * check before the lock and reaches the bias afterwards publishes its slot, passes the bias and flag checks, and
     * must still be refused by the step-3 re-check.
     */
    @Test
    void aRegionBiasedInTheMiddleOfADrainStillRefusesBiasedReadersOnceLocked() throws Exception
    {
        final Range r = new Range(0, 1);
        final Thread p = on(pinner, Thread::currentThread);
        final Thread o = on(other, Thread::currentThread);
        final CountDownLatch pinnerHeld = new CountDownLatch(1);
        final CountDownLatch pinnerGo = new CountDownLatch(1);
        final CountDownLatch otherHeld = new CountDownLatch(1);
        final CountDownLatch otherGo = new CountDownLatch(1);
        final boolean[] used = new boolean[2];
        final int[] otherAfterIncrement = new int[1];
        RacePoint.install(point -> {
            if (point == RacePoint.READER_AFTER_INCREMENT && Thread.currentThread() == o)
            {
                otherAfterIncrement[0]++; // once after its slot's CAS, once after the count's
            }
            if (point == RacePoint.READER_AFTER_INCREMENT && Thread.currentThread() == p && !used[0])
            {
                used[0] = true;
                pinnerHeld.countDown();
                awaitQuietly(pinnerGo);
            }
            else if (point == RacePoint.READER_BEFORE_INCREMENT && Thread.currentThread() == o && !used[1])
            {
                used[1] = true;
                otherHeld.countDown();
                awaitQuietly(otherGo);
            }
        });
        final Future<StartRead> counted = pinner.submit(() -> mm.tryStartRead(r));
        await(pinnerHeld, "the counted reader after its increment");
        final Future<StartRead> late = other.submit(() -> mm.tryStartRead(r));
        await(otherHeld, "the second reader past its early check");
        assertFalse(MmLock.isReaderBiased(r));
        final Thread w = writerThread();
        final CountDownLatch locked = new CountDownLatch(1);
        final CountDownLatch end = new CountDownLatch(1);
        final Future<Long> section = startWriter(() -> {
            final long s = mm.beginWrite();
            try
            {
                assertTrue(mm.writeLock(r));
                locked.countDown();
                await(end, "the end of the test");
            }
            finally
            {
                mm.endWrite();
            }
            return s;
        });
        // The writer found r unbiased (no scan) and parks, draining the counted pin.
        assertFalse(completedWithoutParking(section, w), "the writer drains the counted pin");
        pinnerGo.countDown(); // the counted pin completes: PINNED, and bias := 1 in the middle of the drain
        assertEquals(StartRead.PINNED, get(counted));
        assertTrue(MmLock.isReaderBiased(r), "biased by the counted reader during the drain");
        on(pinner, () -> {
            mm.endRead(r);
            return null;
        });
        await(locked, "the writer locking r");
        assertTrue(MmLock.isReaderBiased(r), "r is write-locked and biased");
        otherGo.countDown();
        final StartRead result = get(late);
        end.countDown();
        final long s = get(section);
        assertEquals(StartRead.WRITE_LOCKED, result, "a reader was pinned on a region section " + s + " locked");
        assertEquals(0, r.readers(), "its slot was cleared");
        assertEquals(2, on(other, () -> otherAfterIncrement[0]), "it tried its slot first, then the count");
    }

    @Test
    void twoThreadsWhosePinsOfARegionHashToOneSlotAreBothWaitedFor() throws Exception
    {
        final Method slotOf = MmLock.class.getDeclaredMethod("slotOf", RegionLock.class);
        slotOf.setAccessible(true);
        final Range[] candidates = new Range[8192];
        for (int i = 0; i < candidates.length; i++)
        {
            candidates[i] = new Range(i, i + 1);
        }
        final Callable<int[]> slots = () -> {
            final int[] s = new int[candidates.length];
            for (int i = 0; i < s.length; i++)
            {
                s[i] = (int)slotOf.invoke(null, candidates[i]);
            }
            return s;
        };
        final int[] a = on(pinner, slots);
        final int[] b = on(other, slots);
        Range shared = null;
        for (int i = 0; i < a.length && shared == null; i++)
        {
            shared = a[i] == b[i] ? candidates[i] : null;
        }
        assertTrue(shared != null, "no region whose two pins share a slot among " + candidates.length);
        final Range r = shared;
        biasedPin(r); // pinner: in the shared slot
        on(other, () -> {
            assertEquals(StartRead.PINNED, mm.tryStartRead(r)); // its slot is taken: counted
            assertEquals(2, MmLock.refcntAcquire(r));
            return null;
        });
        assertEquals(2, r.readers());
        final Thread w = writerThread();
        final Future<Void> lock = startWriter(() -> {
            mm.beginWrite();
            try
            {
                mm.writeLock(r);
            }
            finally
            {
                mm.endWrite();
            }
            return null;
        });
        assertFalse(completedWithoutParking(lock, w), "waits for both");
        unpin(r);
        assertEquals(1, r.readers());
        assertFalse(lock.isDone(), "waits for the counted pin still");
        on(other, () -> {
            mm.endRead(r);
            return null;
        });
        get(lock);
        assertEquals(0, r.readers());
    }

    @Test
    void aThreadPinningARegionTwiceIsWaitedForUntilItsLastPinWhicheverItDropsFirst() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        on(pinner, () -> {
            assertEquals(StartRead.PINNED, mm.tryStartRead(r)); // its own slot holds r: counted
            assertEquals(2, MmLock.refcntAcquire(r));
            mm.endRead(r); // "the first lease closed first": drops the counted entry, the slot pin stays
            assertEquals(1, MmLock.refcntAcquire(r));
            return null;
        });
        assertEquals(1, r.readers());
        final Thread w = writerThread();
        final Future<Void> lock = startWriter(() -> {
            mm.beginWrite();
            try
            {
                mm.writeLock(r);
            }
            finally
            {
                mm.endWrite();
            }
            return null;
        });
        assertFalse(completedWithoutParking(lock, w), "the remaining pin is waited for");
        unpin(r);
        get(lock);
        assertEquals(0, r.readers());
        assertEquals("endRead: " + on(pinner, () -> Thread.currentThread().getName()) + " holds no pin on " + r,
            on(pinner, () -> {
                try
                {
                    mm.endRead(r);
                    return "dropped a pin it did not hold";
                }
                catch (final IllegalStateException ex)
                {
                    return ex.getMessage();
                }
            }));
    }

    @Test
    void aSlotPinIsRefusedOnAnotherThreadAndCountsAsThePinnersForItsOwnWrites() throws Exception
    {
        final Range r = new Range(0, 1);
        biasedPin(r);
        final AtomicReference<String> refused = new AtomicReference<>();
        on(other, () -> {
            try
            {
                mm.endRead(r);
            }
            catch (final IllegalStateException ex)
            {
                refused.set(ex.getMessage());
            }
            return null;
        });
        assertTrue(refused.get() != null && refused.get().contains("holds no pin"), String.valueOf(refused.get()));
        assertEquals(1, r.readers());
        final String own = on(pinner, () -> {
            try
            {
                mm.beginWrite();
                mm.endWrite();
                return "beginWrite by the pin holder was allowed";
            }
            catch (final IllegalStateException ex)
            {
                return ex.getMessage();
            }
        });
        assertTrue(own.contains("1 pin"), own);
        unpin(r);
    }

    private static void awaitQuietly(final CountDownLatch latch)
    {
        try
        {
            latch.await(BOUND_SECONDS, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
