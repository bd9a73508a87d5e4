package io.regionmm.space;

import io.regionmm.region.Advice;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trust finding 2: advise(DONTNEED) changes memory readers see (a PRIVATE mapping's dirty pages revert to the file's
 * bytes), so it write-locks every region it touches before madvise: a lease blocks it, a timed section gives up with
 * nothing changed, and speculation across it fails. The bug: it took no region lock, so it dropped pages under a
 * lease, and a bulk read across it validated a copy with one page dropped and the next still dirty.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustDontNeedTest extends TrustFixture
{
    private static final long DIRTY0 = 0xD1D1_0000_0000_0000L;
    private static final long DIRTY1 = 0xD1D1_0000_0000_0001L;

    /** A PRIVATE, writable two-page region of file 1 (pages 0 and 1). */
    private long privateRegion() throws MappingException
    {
        return space.map(f1, 0, pages(2), Protection.READ_WRITE, Sharing.PRIVATE);
    }

    @Test
    void aTimedSectionsDontNeedIsBusyWhileALeaseIsHeldAndTheLeasesDirtyPageKeepsItsValue() throws Exception
    {
        final long p = privateRegion();
        final Lane holder = lane("holder");
        final Lease lease = holder.lease(p);
        holder.call(() -> {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, 0, DIRTY0); // a private copy of page 0
            return null;
        });
        final List<Region> before = space.regions();
        try (WriteSection w = space.beginWrite(200, TimeUnit.MILLISECONDS))
        {
            assertNotNull(w);
            final RegionBusyException busy = assertThrows(RegionBusyException.class,
                () -> w.advise(p, pages(2), Advice.DONTNEED));
            assertEquals("advise", busy.operation());
            assertTrue(busy.getMessage().contains(lease.region().toString()), busy::getMessage);
        }
        assertEquals(DIRTY0, holder.call(() -> lease.getLong(0)), "the lease's write was dropped");
        assertEquals(before, space.regions());
        space.verify();
        holder.closePins();
        assertEquals(DIRTY0, space.readLong(p), "the dirty page was dropped after all");
        // Without the lease the same advice goes through, and does drop the private copy.
        space.advise(p, pages(2), Advice.DONTNEED);
        assertEquals(stamp(1, 0), space.readLong(p));
    }

    @Test
    void aOneShotDontNeedWaitsForALeaseOnItsRegion() throws Exception
    {
        final long p = privateRegion();
        final Lane holder = lane("holder");
        final Lease lease = holder.lease(p);
        holder.call(() -> {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, 0, DIRTY0);
            return null;
        });
        final Lane writer = lane("writer");
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> advise = writer.submit(() -> {
            space.advise(p, pages(2), Advice.DONTNEED);
            return null;
        });
        awaitTrue(() -> draining.getCount() == 0 || advise.isDone(), "the writer drained the lease or finished");
        assertFalse(advise.isDone(), "DONTNEED went ahead while a lease pinned its region");
        assertEquals(DIRTY0, holder.call(() -> lease.getLong(0)), "the lease's write was dropped under it");
        holder.closePins();
        get(advise, "the DONTNEED after the lease closed");
        assertEquals(stamp(1, 0), space.readLong(p), "the private copy was dropped once the lease was gone");
        space.verify();
    }

    @Test
    void aBulkReadAcrossADontNeedNeverValidatesADroppedPageNextToADirtyOne() throws Exception
    {
        final long p = privateRegion();
        try (Lease lease = space.lease(p))
        {
            final MemorySegment ws = lease.writableSegment();
            ws.set(ValueLayout.JAVA_LONG, 0, DIRTY0);
            ws.set(ValueLayout.JAVA_LONG, PAGE, DIRTY1);
        }
        final Lane reader = lane("reader");
        final AtomicReference<Future<long[]>> read = new AtomicReference<>();
        // The kernel drops the pages one after the other: stop the writer with page 0 dropped and page 1 still
        // dirty, and read both there. The read must not validate now; it waits for the section (or retries after).
        kernel.midNextDontNeed(() -> {
            final Future<long[]> f = reader.submit(() -> {
                final long[] words = new long[(int)(PAGE / Long.BYTES) + 1];
                space.read(p, MemorySegment.ofArray(words)); // the first word of both pages
                return new long[] {words[0], words[words.length - 1]};
            });
            read.set(f);
            awaitDoneOrQueued(f, "the bulk reader");
        });
        space.advise(p, pages(2), Advice.DONTNEED);
        assertNotNull(read.get(), "the DONTNEED reached the kernel");
        final long[] words = get(read.get(), "the bulk reader");
        final String seen = Long.toHexString(words[0]) + ", " + Long.toHexString(words[1]);
        assertFalse(words[0] == stamp(1, 0) && words[1] == DIRTY1, () -> "a torn copy validated: " + seen);
        assertEquals(stamp(1, 0), words[0], seen);
        assertEquals(stamp(1, 1), words[1], seen);
    }
}
