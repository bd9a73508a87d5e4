package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
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
 * Defects found while writing the trust regression tests, each fixed: a downgraded hold closed from another thread
 * (refused, the owner still releases it), a refused openFile (closes the descriptor it opened), an interrupted lease
 * holder waiting to read (keeps parking). Each test failed on the code before its fix.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustFindingsTest extends TrustFixture
{
    @Test
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
            try (WriteSection s = space.beginWrite(1, TimeUnit.SECONDS))
            {
                return s != null;
            }
        }), "the mm lock is still held shared after the owner closed its hold");
    }

    @Test
    void aRefusedOpenFileClosesTheDescriptorItOpened() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Path directory = p2.getParent();
        final long before;
        final io.regionmm.region.FileHandle opened;
        try (Lease lease = space.lease(x))
        {
            before = openDescriptors();
            for (int i = 0; i < 5; i++)
            {
                // Refused after the descriptor is open (not a regular file): it must be closed on the way out.
                assertThrows(RegionArgumentException.class, () -> space.openFile(directory, FileAccess.READ_ONLY));
            }
            assertEquals(before, openDescriptors(), "refused openFile calls leaked their descriptors");
            // A lease holder may open a file (it waits for nobody); releasing it is a write, after the lease.
            opened = space.openFile(p2, FileAccess.READ_ONLY);
            assertNotNull(lease.region());
        }
        space.releaseFile(opened);
        assertEquals(before, openDescriptors(), "an opened and released file left its descriptor open");
    }

    private static long openDescriptors() throws Exception
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }

    @Test
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
        awaitTrue(() -> LockSupport.getBlocker(holderOfY.thread) != null, "the holder of y parking");
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

    @Test
    void aLeaseOfARegionItsOwnSectionLockedSaysSoAndChangesNothing() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        try (WriteSection w = space.beginWrite())
        {
            final long y = w.map(f1, pages(4), pages(2), Protection.READ, Sharing.SHARED, MapOptions.DEFAULT);
            final IllegalStateException single = assertThrows(IllegalStateException.class, () -> space.lease(y));
            assertTrue(single.getMessage().contains("write-locked by this thread's open write section"),
                single.getMessage());
            final IllegalStateException range = assertThrows(IllegalStateException.class,
                () -> space.leaseRange(y, pages(2)));
            assertTrue(range.getMessage().contains("write-locked by this thread's open write section"),
                range.getMessage());
            try (Lease other = space.lease(x)) // a region the section left alone can be leased inside it
            {
                assertEquals(x, other.region().start());
            }
        }
        try (Lease after = space.lease(x + pages(4) - PAGE))
        {
            assertEquals(0, after.region().readers() - 1, "no pin left behind by the refusals");
        }
        space.verify();
    }
}
