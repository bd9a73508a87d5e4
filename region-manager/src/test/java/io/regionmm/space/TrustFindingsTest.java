package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static io.regionmm.space.StampedFiles.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reproducers of defects found while writing the trust regression tests, left in main code for its owners. Each
 * test asserts the behaviour the javadoc promises and fails on the code as it is; remove {@code @Disabled} with the
 * fix.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustFindingsTest extends TrustFixture
{
    @Test
    @Disabled("defect: ReadHold.close() on another thread marks the hold released, then throws " +
        "IllegalMonitorStateException; the owner's close is then a no-op and the mm lock stays held shared for ever")
    void aDowngradedHoldClosedFromAnotherThreadThrowsAndItsOwnerStillReleasesIt() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane other = lane("other");
        final ReadHold hold;
        try (WriteSection w = space.beginWrite())
        {
            w.protect(x, PAGE, Protection.READ);
            hold = w.downgrade();
        }
        other.call(() -> assertThrows(WrongThreadException.class, hold::close)); // like a section's close
        hold.close();
        // The owner's close released the mm lock: another thread can write.
        assertTrue(other.call(() -> {
            try (WriteSection s = space.tryBeginWrite(1, TimeUnit.SECONDS))
            {
                return s != null;
            }
        }), "the mm lock is still held shared after the owner closed its hold");
    }

    @Test
    @Disabled("defect: openFile opens the descriptor before taking the write lock; when the lock is refused " +
        "(a lease holder, a downgraded hold, a space closed meanwhile) the exception is not a KernelException and " +
        "the descriptor is never closed")
    void aRefusedOpenFileClosesTheDescriptorItOpened() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        try (Lease lease = space.lease(x))
        {
            final long before = openDescriptors();
            for (int i = 0; i < 5; i++)
            {
                assertThrows(IllegalStateException.class, () -> space.openFile(p2, FileAccess.READ_ONLY));
            }
            assertEquals(before, openDescriptors(), "refused openFile calls leaked their descriptors");
            assertNotNull(lease.region());
        }
    }

    private static long openDescriptors() throws Exception
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }

    @Test
    @Disabled("defect: MmLock.beginRead's loop for a thread with pins parks without clearing an interrupt, so an " +
        "interrupted lease holder waiting for a writer (that waits for someone else) spins at full CPU - finding 6 " +
        "on the reader side")
    void anInterruptedLeaseHolderWaitingToReadKeepsParking() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holderOfY = lane("holder of y");
        final Lane holderOfX = lane("holder of x");
        final Lane writer = lane("writer");
        holderOfY.lease(y);
        holderOfX.lease(x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the writer draining x");
        final Future<List<Region>> list = holderOfY.submit(space::regions);
        awaitTrue(() -> LockSupport.getBlocker(holderOfY.thread) == space.mm, "the holder of y parking");
        holderOfY.thread.interrupt();
        final Object bean = Class.forName("java.lang.management.ManagementFactory")
            .getMethod("getThreadMXBean").invoke(null);
        final Method cpuTime = Class.forName("java.lang.management.ThreadMXBean")
            .getMethod("getThreadCpuTime", long.class);
        final long id = holderOfY.thread.threadId();
        final long cpu0 = (long)cpuTime.invoke(bean, id);
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300); // a measuring window
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime())
        {
            LockSupport.parkNanos(left);
        }
        final long cpuMs = ((long)cpuTime.invoke(bean, id) - cpu0) / 1_000_000;
        assertFalse(list.isDone());
        holderOfX.closePins();
        get(unmap, "the unmap");
        assertEquals(1, get(list, "the holder of y's read").size());
        assertTrue(cpuMs < 100, () -> "the interrupted lease holder spun: " + cpuMs + " ms of CPU in 300 ms");
    }
}
