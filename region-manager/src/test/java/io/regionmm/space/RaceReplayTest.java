package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.lock.RacePoint;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The races of the kernel threads the design grew from, replayed deterministically: one thread is held at a named
 * race point while another runs, then released. No sleeps: latches only.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RaceReplayTest
{
    @TempDir
    Path dir;

    private AddressSpace space;
    private FileHandle f1;
    private FileHandle f2;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /** Holds one chosen thread at one chosen point, once. */
    private static final class Gate implements RacePoint.Hook
    {
        final RacePoint point;
        final Thread thread;
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private boolean used;

        Gate(final RacePoint point, final Thread thread)
        {
            this.point = point;
            this.thread = thread;
        }

        @Override
        public void reached(final RacePoint p)
        {
            if (p != point || Thread.currentThread() != thread || used)
            {
                return;
            }
            used = true;
            arrived.countDown();
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    @BeforeEach
    void open() throws Exception
    {
        space = AddressSpace.create(Kernel.system(), 256 * PAGE);
        f1 = space.openFile(StampedFiles.create(dir, 1, 16), FileAccess.READ_WRITE);
        f2 = space.openFile(StampedFiles.create(dir, 2, 16), FileAccess.READ_WRITE);
    }

    @AfterEach
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a stuck close fails, not hangs, the run
    void close()
    {
        RacePoint.install(null);
        pool.shutdownNow();
        space.close();
    }

    /** Runs a reader on a fresh thread, held at {@code point} until the returned gate is released. */
    private Future<Long> readerHeldAt(final RacePoint point, final java.util.concurrent.Callable<Long> read,
        final Gate[] gate) throws Exception
    {
        final CountDownLatch installed = new CountDownLatch(1);
        final Future<Long> result = pool.submit(() -> {
            gate[0] = new Gate(point, Thread.currentThread());
            RacePoint.install(gate[0]);
            installed.countDown();
            return read.call();
        });
        installed.await();
        assertTrue(gate[0].arrived.await(10, TimeUnit.SECONDS), "reader reached " + point);
        return result;
    }

    @Test
    void aReaderHeldBeforeItsIncrementIsRefusedWhenItsRegionIsReplacedAtTheSameAddress() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final Gate[] gate = new Gate[1];
        final Future<Long> read = readerHeldAt(RacePoint.READER_BEFORE_INCREMENT, () -> {
            try (Lease lease = space.lease(a + PAGE))
            {
                return lease.segment().get(ValueLayout.JAVA_LONG, PAGE) ^
                    stamp(lease.region().file().id(), lease.region().fileOffsetOf(a + PAGE) / PAGE);
            }
        }, gate);
        // The reader holds the old region object; the writer detaches it and maps another file at the same address.
        space.unmap(a, 4 * PAGE);
        assertEquals(a, space.map(f2, 8 * PAGE, 4 * PAGE, Protection.READ, Sharing.SHARED));
        gate[0].release.countDown();
        assertEquals(0L, read.get(), "the lease re-looked-up and read the new region's stamp");
        assertEquals(stamp(2, 9), space.readLong(a + PAGE));
    }

    @Test
    void aReaderHeldBeforeItsIncrementBacksOffFromARegionAWriterLockedMeanwhile() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final Gate[] gate = new Gate[1];
        final long before = space.readCounts().locked();
        final Future<Long> read = readerHeldAt(RacePoint.READER_BEFORE_INCREMENT, () -> {
            try (Lease lease = space.lease(a))
            {
                return lease.region().protection() == Protection.READ ? 1L : 0L;
            }
        }, gate);
        // A section write-locks the region (protect) and stays open while the reader takes its reference.
        final WriteSection w = space.beginWrite();
        try
        {
            w.protect(a, 4 * PAGE, Protection.READ);
            gate[0].release.countDown();
            // The reader's CAS succeeds (no writer flag), its re-check sees lockSeq == seq: it must back off and fall
            // back to the mm lock, where it queues behind this section.
            while (!space.mm().lock.hasQueuedThreads() && !read.isDone())
            {
                Thread.onSpinWait();
            }
            assertFalse(read.isDone());
            w.close();
            assertEquals(1L, read.get(), "the reader saw the region as the writer left it, never mid-change");
            assertEquals(before + 1, space.readCounts().locked(), "it went through the slow path");
        }
        finally
        {
            w.close(); // a failed assertion must not leave the mm lock held (close is idempotent)
        }
    }

    @Test
    void aWriterWaitsForTheReaderThatPinnedFirst() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final CountDownLatch leased = new CountDownLatch(1);
        final CountDownLatch writerWaiting = new CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
        final Future<Long> reader = pool.submit(() -> {
            try (Lease lease = space.lease(a))
            {
                leased.countDown();
                writerWaiting.await(); // the writer has set its flag and waits for us
                final long v = lease.writableSegment().get(ValueLayout.JAVA_LONG, 0); // not yet re-protected
                closing.set(true); // the lease closes right after this
                return v;
            }
        });
        leased.await();
        final Thread writer = Thread.currentThread();
        RacePoint.install(p -> {
            if (p == RacePoint.WRITER_WAITING_FOR_READERS && Thread.currentThread() == writer)
            {
                writerWaiting.countDown();
            }
        });
        space.protect(a, 4 * PAGE, Protection.READ); // returns only after the lease closed
        assertTrue(closing.get(), "the writer went on only after the reader's lease closed");
        assertEquals(stamp(1, 0), reader.get());
    }

    @Test
    void readersOfOtherRegionsKeepSpeculatingWhileAWriterHoldsOne() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final ReadCounts before = space.readCounts();
        final WriteSection w = space.beginWrite();
        try
        {
            w.protect(a, 4 * PAGE, Protection.READ); // a is write-locked until the section ends
            assertEquals(stamp(2, 1), pool.submit(() -> space.readLong(b + PAGE)).get(), "b is read at once");
            final long[] words = new long[2];
            pool.submit(() -> space.read(b + PAGE, java.lang.foreign.MemorySegment.ofArray(words)))
                .get(30, java.util.concurrent.TimeUnit.SECONDS); // bulk too: a timeout here means it waited
            assertEquals(stamp(2, 1), words[0]);
            assertEquals(stamp(2, 1) ^ 8, words[1]);
            assertEquals(before, space.readCounts(), "speculatively: no retry, no pin, no lock");
            final Future<Long> onA = pool.submit(() -> space.readLong(a + PAGE));
            while (!space.mm().lock.hasQueuedThreads() && !onA.isDone())
            {
                Thread.onSpinWait(); // the reader of a could not speculate nor pin: it waits for the section
            }
            assertFalse(onA.isDone());
            w.close();
            assertEquals(stamp(1, 1), onA.get());
            assertEquals(before.locked() + 1, space.readCounts().locked());
        }
        finally
        {
            w.close(); // a failed assertion must not leave the mm lock held (close is idempotent)
        }
    }

    @Test
    void aRangeSpeculationDuringASectionFailsWhenThatSectionLocksTheRegionMeanwhile() throws Exception
    {
        // readLong: validated against the section's lock log.
        speculationDuringASectionFailsWhenThatSectionLocksTheRegion(a -> space.readLong(a + PAGE));
    }

    @Test
    void aBulkReadDuringASectionFailsWhenThatSectionLocksTheRegionMeanwhile() throws Exception
    {
        // read(address, dst): range speculation over the copied bytes, like readLong.
        speculationDuringASectionFailsWhenThatSectionLocksTheRegion(a -> {
            final long[] word = new long[1];
            space.read(a + PAGE, java.lang.foreign.MemorySegment.ofArray(word));
            return word[0];
        });
    }

    @Test
    void aRegionSpeculationDuringASectionFailsWhenThatSectionLocksTheRegionMeanwhile() throws Exception
    {
        // read(address, f): validated against the region's own lock word.
        speculationDuringASectionFailsWhenThatSectionLocksTheRegion(
            a -> space.read(a + PAGE, (r, memory, offset) -> memory.get(ValueLayout.JAVA_LONG, offset)));
    }

    /** A reader copies page 1 of the region at a under an open section, which then locks and replaces it. */
    private void speculationDuringASectionFailsWhenThatSectionLocksTheRegion(
        final java.util.function.LongUnaryOperator readPage1) throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final WriteSection w = space.beginWrite();
        try
        {
            w.protect(b, PAGE, Protection.READ); // the section is open (odd sequence); a is not locked
            final Gate[] gate = new Gate[1];
            final Future<Long> read = readerHeldAt(RacePoint.SPECULATION_BEFORE_VALIDATE,
                () -> readPage1.applyAsLong(a), gate);
            // The reader copied f1's stamp under the open section. The same section now locks a and replaces it.
            w.unmap(a, 4 * PAGE);
            w.map(f2, 8 * PAGE, 4 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a));
            gate[0].release.countDown();
            while (!space.mm().lock.hasQueuedThreads() && !read.isDone())
            {
                Thread.onSpinWait(); // its validation failed; the new region is locked too: it waits for the section
            }
            assertFalse(read.isDone(), () -> "validated a copy taken before the section locked the region: " +
                Long.toHexString(read.resultNow()));
            w.close();
            assertEquals(stamp(2, 9), read.get(), "never the stale copy");
        }
        finally
        {
            w.close(); // a failed assertion must not leave the mm lock held (close is idempotent)
        }
    }

    @Test
    void aReadOfARangeTheOpenSectionLockedBeforeTheReadWaitsForTheSection() throws Exception
    {
        // Range speculation looks at the log only after its copy: a range locked before the copy must fail then.
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final WriteSection w = space.beginWrite();
        try
        {
            w.unmap(a, 4 * PAGE);
            w.map(f2, 8 * PAGE, 4 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a));
            final Future<Long> read = pool.submit(() -> space.readLong(a + PAGE));
            while (!space.mm().lock.hasQueuedThreads() && !read.isDone())
            {
                Thread.onSpinWait(); // its copy failed the log check; the new region is locked: it waits
            }
            assertFalse(read.isDone(), () -> "read a range the open section had locked: " +
                Long.toHexString(read.resultNow()));
            w.close();
            assertEquals(stamp(2, 9), read.get(), "the value after the section");
        }
        finally
        {
            w.close();
        }
    }

    @Test
    void aSpeculativeReaderStraddlingAWriteSectionRetries() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final Gate[] gate = new Gate[1];
        final long retriesBefore = space.readCounts().retries();
        final Future<Long> read = readerHeldAt(RacePoint.SPECULATION_BEFORE_VALIDATE,
            () -> space.readLong(a + 2 * PAGE), gate);
        // The reader has copied f1's stamp; now the range is remapped to f2 before it validates.
        try (WriteSection w = space.beginWrite())
        {
            w.unmap(a, 4 * PAGE);
            w.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a));
        }
        gate[0].release.countDown();
        assertEquals(stamp(2, 2), read.get(), "the stale copy was discarded");
        assertEquals(retriesBefore + 1, space.readCounts().retries());
    }

    @Test
    void whenASectionLocksMoreRegionsThanItsLogHoldsOtherReadersStillSpeculate() throws Exception
    {
        final long x = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final List<Long> many = new ArrayList<>();
        for (int i = 0; i < 40; i++) // one-page regions with a page of room between them: no two merge
        {
            many.add(space.map(f1, (i % 16) * PAGE, PAGE, Protection.READ_WRITE, Sharing.SHARED,
                MapOptions.DEFAULT.at(space.windowStart() + (8 + 2L * i) * PAGE)));
        }
        final ReadCounts before = space.readCounts();
        try (WriteSection w = space.beginWrite())
        {
            for (final long at : many)
            {
                w.protect(at, PAGE, Protection.READ); // 40 write-locks: the log (32) overflows
            }
            assertEquals(stamp(2, 1), pool.submit(() -> space.readLong(x + PAGE)).get(), "read while the section " +
                "is open: by the region's own lock word once the log is full");
            final ReadCounts after = space.readCounts();
            // The range attempt finds the log full after its copy (one retry); the region's lock word then passes.
            assertEquals(before.retries() + 1, after.retries(), "one range attempt, then the per-region check");
            assertEquals(before.pinned(), after.pinned(), "speculatively: no pin");
            assertEquals(before.locked(), after.locked(), "speculatively: no lock");
        }
        assertEquals(stamp(1, 1), space.readLong(many.get(1)));
    }
}
