package io.regionmm.space;

import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Trust findings 6 and 7: a writer draining leases keeps parking when interrupted (and keeps the interrupt for its
 * caller), a section's timeout bounds its drains, and close can be bounded: all three give up or wait without
 * changing anything. The bugs: an interrupted writer spun at full CPU until the lease closed; drains and close waited
 * without bound.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustDrainAndCloseTest extends TrustFixture
{
    /** A parked writer wakes every 200 us at most; spinning, it burns the whole window. */
    private static final long WINDOW_MS = 300;
    private static final long MAX_CPU_MS = 100;

    // ------------------------------------------------------------------ finding 6

    @Test
    void anInterruptedWriterKeepsParkingUntilTheLeaseClosesAndKeepsItsInterrupt() throws Exception
    {
        final CpuClock cpu = CpuClock.get();
        assumeTrue(cpu != null, "no per-thread CPU time on this JVM");
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        holder.lease(x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Boolean> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return Thread.currentThread().isInterrupted();
        });
        await(draining, "the writer draining x");
        writer.thread.interrupt();
        // Measure, not order: how much CPU the writer burns in a fixed stretch of wall-clock time.
        final long id = writer.thread.threadId();
        final long cpu0 = cpu.nanos(id);
        final long wall0 = System.nanoTime();
        final long end = wall0 + TimeUnit.MILLISECONDS.toNanos(WINDOW_MS);
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime())
        {
            LockSupport.parkNanos(left);
        }
        final long cpuMs = (cpu.nanos(id) - cpu0) / 1_000_000;
        final long wallMs = (System.nanoTime() - wall0) / 1_000_000;
        System.out.printf("interrupted draining writer: %d ms of CPU in %d ms%n", cpuMs, wallMs);
        assertFalse(unmap.isDone(), "the interrupt cut the drain short");
        assertTrue(cpuMs < MAX_CPU_MS, () -> "the interrupted writer spun: " + cpuMs + " ms of CPU in " + wallMs +
            " ms waiting for the lease");
        holder.closePins();
        assertTrue(get(unmap, "the unmap after the lease closed"), "the interrupt was swallowed");
        assertNull(space.mm().snapshot().find(x));
        space.verify();
    }

    @Test
    void aTimedSectionGivesUpDrainingAtItsTimeoutBeforeChangingAnything() throws Exception
    {
        // y (free) below x (leased): the unmap locks y, then gives up on x; neither may have changed.
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        assertEquals(y + pages(4), x);
        final Region rx = space.mm().snapshot().find(x);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        final Lease lease = holder.lease(x);
        final List<Region> before = space.regions();
        final long[] elapsedNs = new long[1];
        final RegionBusyException busy = writer.call(() -> {
            final long t0 = System.nanoTime();
            try (WriteSection w = space.beginWrite(200, TimeUnit.MILLISECONDS))
            {
                assertNotNull(w);
                final RegionBusyException e = assertThrows(RegionBusyException.class, () -> w.unmap(y, pages(8)));
                elapsedNs[0] = System.nanoTime() - t0;
                return e;
            }
        });
        final long ms = elapsedNs[0] / 1_000_000;
        assertTrue(ms >= 190 && ms < 5_000, () -> "gave up after " + ms + " ms, not about 200");
        assertEquals("unmap", busy.operation());
        assertTrue(busy.getMessage().contains(rx.toString()), busy::getMessage);
        // Nothing changed: the map, the kernel's mappings, the memory, the file.
        assertEquals(before, space.regions());
        space.verify();
        assertEquals(stamp(2, 1), space.readLong(y + PAGE));
        assertEquals(stamp(1, 1), space.readLong(x + PAGE));
        assertEquals(stamp(1, 1), holder.call(() -> lease.getLong(PAGE)));
        assertEquals(stamp(1, 1), StampedFiles.readStampFromFile(p1, PAGE));
        // The space stays usable: y changes at once, x once its lease is gone.
        space.protect(y, PAGE, Protection.READ_WRITE);
        holder.closePins();
        space.unmap(y, pages(8));
        assertEquals(0, space.regions().size());
        space.verify();
    }

    /**
     * ThreadMXBean.getThreadCpuTime, through reflection: the tests are compiled into the library's module, which
     * does not read java.management (reflection needs no read edge).
     */
    private record CpuClock(Object bean, Method cpuTime)
    {
        static CpuClock get()
        {
            try
            {
                final Object bean = Class.forName("java.lang.management.ManagementFactory")
                    .getMethod("getThreadMXBean").invoke(null);
                final Class<?> type = Class.forName("java.lang.management.ThreadMXBean");
                if (!(boolean)type.getMethod("isThreadCpuTimeSupported").invoke(bean))
                {
                    return null;
                }
                type.getMethod("setThreadCpuTimeEnabled", boolean.class).invoke(bean, true);
                return new CpuClock(bean, type.getMethod("getThreadCpuTime", long.class));
            }
            catch (final ReflectiveOperationException | LinkageError ex)
            {
                return null;
            }
        }

        long nanos(final long threadId) throws ReflectiveOperationException
        {
            return (long)cpuTime.invoke(bean, threadId);
        }
    }

    // ------------------------------------------------------------------ finding 7

    @Test
    void closeWithATimeoutWhileAnotherThreadHoldsALeaseNamesItsRegionAndLeavesTheSpaceUsable() throws Exception
    {
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Region rx = space.mm().snapshot().find(x);
        final Lane holder = lane("holder");
        final Lane closer = lane("closer");
        final Lease lease = holder.lease(x);
        final RegionBusyException busy = closer.call(
            () -> assertThrows(RegionBusyException.class, () -> space.close(200, TimeUnit.MILLISECONDS)));
        assertEquals("close", busy.operation());
        assertTrue(busy.getMessage().contains(rx + " (1 lease(s))"), busy::getMessage);
        assertFalse(space.isClosed());
        // Fully usable: reads on every path, leases, changes, verification.
        assertEquals(stamp(2, 1), space.readLong(y + PAGE));
        assertEquals(stamp(1, 2), space.read(x + pages(2), LONG));
        assertEquals(stamp(1, 3), space.readLocked(x + pages(3), LONG));
        final long[] words = new long[2];
        space.read(x - Long.BYTES, MemorySegment.ofArray(words));
        assertEquals(stamp(2, 3) ^ (PAGE - Long.BYTES), words[0]);
        assertEquals(stamp(1, 0), words[1]);
        assertEquals(stamp(1, 1), holder.call(() -> lease.getLong(PAGE)));
        final long z = space.map(f2, pages(8), pages(2), Protection.READ, Sharing.SHARED);
        try (Lease l = space.lease(z))
        {
            assertEquals(stamp(2, 8), l.getLong(0));
        }
        space.protect(y, PAGE, Protection.READ_WRITE);
        space.unmap(z, pages(2));
        space.verify();
        assertEquals(3, space.regions().size());
        // Once the lease is gone, the same close goes through.
        holder.closePins();
        closer.call(() -> {
            space.close(BOUND_SECONDS, TimeUnit.SECONDS);
            return null;
        });
        assertTrue(space.isClosed());
        assertThrows(SpaceClosedException.class, () -> space.readLong(y));
    }

    @Test
    void closeWithATimeoutWhileAnotherThreadHasASectionOpenGivesUpAndChangesNothing() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane writer = lane("writer");
        final CountDownLatch open = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final Future<Void> section = writer.submit(() -> {
            try (WriteSection w = space.beginWrite())
            {
                w.protect(x, PAGE, Protection.READ);
                open.countDown();
                assertTrue(done.await(BOUND_SECONDS, TimeUnit.SECONDS));
            }
            return null;
        });
        try
        {
            await(open, "the writer's section");
            final Lane closer = lane("closer");
            final RegionBusyException busy = closer.call(
                () -> assertThrows(RegionBusyException.class, () -> space.close(200, TimeUnit.MILLISECONDS)));
            assertEquals("close", busy.operation());
            assertFalse(space.isClosed());
        }
        finally
        {
            done.countDown();
        }
        get(section, "the writer's section");
        assertEquals(Protection.READ, space.regions().getFirst().protection());
        assertEquals(stamp(1, 1), space.readLong(x + PAGE));
        space.verify();
    }
}
