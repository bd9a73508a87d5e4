package io.regionmm.lock;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays, on the protocol alone, the race in which a speculative reader validates across the end of its section
 * and the start of the next: the reader has read part of the lock state, the section that locked its region ends,
 * and the next section writes over that state before the reader reads the rest. Validation must still fail.
 * (It did not when validation read the sequence first: the next section's lock word or log entries then looked
 * like "not locked by mine".)
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MmLockRaceReplayTest
{
    /** A region covering [start, end), standing for what the address space keeps. */
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
    private final ExecutorService pool = Executors.newSingleThreadExecutor();
    private final CountDownLatch copied = new CountDownLatch(1);
    private final CountDownLatch changed = new CountDownLatch(1);
    private final CountDownLatch midValidation = new CountDownLatch(1);
    private final CountDownLatch resume = new CountDownLatch(1);

    @AfterEach
    void tearDown()
    {
        RacePoint.install(null);
        resume.countDown();
        pool.shutdownNow();
    }

    /** Holds the reader thread once at SPECULATION_MID_VALIDATION. */
    private void holdReaderMidValidation()
    {
        final Thread reader = Thread.currentThread();
        final boolean[] used = new boolean[1];
        RacePoint.install(p -> {
            if (p == RacePoint.SPECULATION_MID_VALIDATION && Thread.currentThread() == reader && !used[0])
            {
                used[0] = true;
                midValidation.countDown();
                await(resume);
            }
        });
    }

    private static void await(final CountDownLatch latch)
    {
        try
        {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "latch");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aRegionSpeculationFailsWhenTheNextSectionRelocksTheRegionMidValidation() throws Exception
    {
        final Range r = new Range(0, 1);
        final long s1 = mm.beginWrite();
        try
        {
            final Future<Boolean> retry = pool.submit(() -> {
                holdReaderMidValidation();
                final long s = mm.speculateBegin();
                assertEquals(s1, s);
                assertTrue(mm.speculateRegion(r, s), "not locked when the copy starts");
                copied.countDown(); // the copy is taken here
                await(changed);
                return mm.speculateRetry(r, s);
            });
            await(copied);
            mm.writeLock(r); // section 1 locks r and (in the address space) changes its memory under the copy
            changed.countDown();
            await(midValidation);
            mm.endWrite();
            mm.beginWrite();
            mm.writeLock(r); // the next section locks r too: its lock word now names section 3
            resume.countDown();
            assertTrue(retry.get(10, TimeUnit.SECONDS), "a copy that section 1's change tore must be retried");
        }
        finally
        {
            while (mm.isWriteLockedByCurrentThread())
            {
                mm.endWrite();
            }
        }
    }

    @Test
    void aRangeSpeculationFailsWhenTheNextSectionOverwritesTheLogMidValidation() throws Exception
    {
        final Range x = new Range(100, 101);
        final Range r = new Range(0, 1);
        final Range y = new Range(200, 201);
        final long s1 = mm.beginWrite();
        try
        {
            mm.writeLock(x); // entry 0 of section 1
            final Future<Boolean> retry = pool.submit(() -> {
                holdReaderMidValidation();
                final long s = mm.speculateBegin();
                assertEquals(s1, s);
                copied.countDown(); // x is logged already, not overlapping the copy
                await(changed);
                return mm.speculateRangeRetry(0, 1, s);
            });
            await(copied);
            mm.writeLock(r); // entry 1 of section 1: r, whose memory changes under the copy
            changed.countDown();
            await(midValidation); // the reader has read the log's state (two entries of section 1)
            mm.endWrite();
            mm.beginWrite();
            mm.writeLock(x); // entry 0 of section 3
            mm.writeLock(y); // entry 1 of section 3, over section 1's entry for r
            resume.countDown();
            assertTrue(retry.get(10, TimeUnit.SECONDS), "a copy that section 1's change tore must be retried");
        }
        finally
        {
            while (mm.isWriteLockedByCurrentThread())
            {
                mm.endWrite();
            }
        }
    }
}
