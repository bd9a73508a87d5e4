package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.regionmm.space.StampedFiles.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Trust finding 7, leak detection: a lease that becomes garbage while open is reported (SLF4J WARN, "became
 * unreachable", with the thread and where it was taken), and its pin stays, so the report is what explains why
 * writers of its region wait. Needs {@code -Dregionmm.leaseTracking=all} (set for surefire in the root pom): in the
 * default sampling mode only one lease in 256 is watched.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustLeaseLeakTest
{
    @TempDir
    Path dir;

    @Test
    void aLeaseDroppedWithoutCloseIsReportedWithItsThreadAndWhereItWasTaken() throws Exception
    {
        assumeTrue("all".equals(System.getProperty("regionmm.leaseTracking")),
            "needs -Dregionmm.leaseTracking=all: sampled tracking watches one lease in " + PinOwner.SAMPLE_EVERY);
        // Not closed at the end: the leaked pin would keep close waiting for ever. The space is garbage after the
        // test (its window stays reserved, which costs no memory).
        final AddressSpace space = AddressSpace.create(Kernel.system(), 64 * PAGE);
        final FileHandle f = space.openFile(StampedFiles.create(dir, 1, 4), FileAccess.READ_WRITE);
        final long a = space.map(f, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final Region r = space.mm().snapshot().find(a);
        final PrintStream err = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new Tee(err, captured), true, StandardCharsets.UTF_8));
        try
        {
            final Thread closer = new Thread(() -> closeALease(space, a), "closer-of-its-lease");
            closer.start();
            closer.join();
            final Thread leaker = new Thread(() -> leakALease(space, a), "leaker-of-its-lease");
            leaker.start();
            leaker.join();
            assertEquals(1, r.readers(), "the leaked lease's pin");
            // The lease is garbage now; collect until its report comes (a bounded poll for the collector, which
            // offers nothing to wait on).
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // The report's stack follows its first line from the cleaner's thread: wait for the site too.
            while (!text(captured).contains(TrustLeaseLeakTest.class.getName() + ".leakALease") &&
                System.nanoTime() < deadline)
            {
                System.gc();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        finally
        {
            System.setErr(err);
        }
        final String log = text(captured);
        assertTrue(log.contains("became unreachable"), () -> "no leak report within 30 s; stderr had:\n" + log);
        assertTrue(log.contains("WARN"), log);
        assertTrue(log.contains("lease on " + r), log);
        assertTrue(log.contains("leaker-of-its-lease"), log);
        assertTrue(log.contains("the lease was taken here"), log);
        assertTrue(log.contains(TrustLeaseLeakTest.class.getName() + ".leakALease"), () -> "no site in:\n" + log);
        assertFalse(log.contains("closer-of-its-lease"), () -> "a closed lease was reported:\n" + log);
        assertEquals(1, log.split("became unreachable", -1).length - 1, log);
        // Its pin stays: a bounded close says which region is still pinned.
        assertEquals(1, r.readers());
        final RegionBusyException busy = assertThrows(RegionBusyException.class,
            () -> space.close(100, TimeUnit.MILLISECONDS));
        assertTrue(busy.getMessage().contains(r + " (1 lease(s))"), busy::getMessage);
        assertFalse(space.isClosed());
    }

    private static void closeALease(final AddressSpace space, final long a)
    {
        try (Lease lease = space.lease(a))
        {
            lease.getLong(0);
        }
    }

    private static void leakALease(final AddressSpace space, final long a)
    {
        space.lease(a).getLong(0); // never closed
    }

    private static String text(final ByteArrayOutputStream captured)
    {
        synchronized (captured)
        {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    /** Writes to the real stream and to a capture. */
    private static final class Tee extends OutputStream
    {
        private final OutputStream out;
        private final ByteArrayOutputStream copy;

        Tee(final OutputStream out, final ByteArrayOutputStream copy)
        {
            this.out = out;
            this.copy = copy;
        }

        @Override
        public void write(final int b)
        {
            synchronized (copy)
            {
                copy.write(b);
            }
            try
            {
                out.write(b);
            }
            catch (final java.io.IOException ignored)
            {
                // the copy is what the test reads
            }
        }

        @Override
        public void write(final byte[] b, final int off, final int len)
        {
            synchronized (copy)
            {
                copy.write(b, off, len);
            }
            try
            {
                out.write(b, off, len);
            }
            catch (final java.io.IOException ignored)
            {
                // the copy is what the test reads
            }
        }
    }
}
