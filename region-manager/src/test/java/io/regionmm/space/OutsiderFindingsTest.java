package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an outside review of the trust fixes found, each reproduced here: a lease holder's read in another space
 * behind a writer that drains its pin (deadlock), lease holders that starved writers by barging past them, reads
 * racing close that threw the JDK's "Already closed", a truncated file that surfaced as a bare InternalError.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OutsiderFindingsTest extends TrustFixture
{
    @Test
    @SuppressWarnings("try") // the writer's section only has to be open around the unmap
    void aLeaseHoldersReadInAnotherSpaceBehindAWriterDrainingItsPinThrowsInsteadOfHanging() throws Exception
    {
        try (AddressSpace other = AddressSpace.create(Kernel.system(), 64 * PAGE))
        {
            final long a = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
            final FileHandle g = other.openFile(p2, FileAccess.READ_ONLY);
            other.map(g, 0, pages(2), Protection.READ, Sharing.SHARED);
            final Lane holder = lane("holder");
            final Lane writer = lane("writer");
            holder.lease(a);
            final CountDownLatch draining = drainingOn(writer);
            // The writer holds other's mm lock and, inside, unmaps the holder's region of this space.
            final Future<Void> unmap = writer.submit(() -> {
                try (WriteSection w = other.beginWrite())
                {
                    space.unmap(a, pages(4));
                }
                return null;
            });
            await(draining, "the writer draining the holder's pin");
            final Future<List<Region>> list = holder.submit(other::regions);
            final ExecutionException e = assertThrows(ExecutionException.class,
                () -> list.get(BOUND_SECONDS, TimeUnit.SECONDS), "the holder's read of the other space");
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("waits for this thread's pin"), e.getCause().getMessage());
            holder.closePins();
            get(unmap, "the writer after the lease closed");
            assertNull(space.regionAt(a));
            space.verify();
            other.verify();
        }
    }

    @Test
    void leaseHoldersReadingUnderTheLockInALoopDoNotStarveAWriter() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final AtomicBoolean stop = new AtomicBoolean();
        final LongAdder reads = new LongAdder();
        final List<Future<Void>> readers = new ArrayList<>();
        final CountDownLatch running = new CountDownLatch(3);
        for (int t = 0; t < 3; t++)
        {
            final Lane reader = lane("reader " + t);
            reader.lease(x);
            readers.add(reader.submit(() -> {
                running.countDown();
                while (!stop.get())
                {
                    space.readLocked(x, (r, memory, offset) -> {
                        final long until = System.nanoTime() + 200_000; // a reader that keeps the lock a while
                        while (System.nanoTime() < until)
                        {
                            Thread.onSpinWait();
                        }
                        return 0;
                    });
                    reads.increment();
                }
                return null;
            }));
        }
        await(running, "the readers");
        try (WriteSection w = space.beginWrite(5, TimeUnit.SECONDS))
        {
            // The readers barged past the queued writer before: it gave up after 3 s while they read 15 000 times.
            assertNotNull(w, "the writer did not get the mm lock within 5 s past " + reads.sum() + " locked reads");
            w.unmap(y, pages(4));
        }
        finally
        {
            stop.set(true);
        }
        for (final Future<Void> r : readers)
        {
            get(r, "a reader");
        }
        assertNull(space.regionAt(y));
        space.verify();
    }

    @Test
    void readsRacingCloseSayTheSpaceIsClosed() throws Exception
    {
        final Lane reader = lane("reader");
        final AtomicReference<Throwable> odd = new AtomicReference<>();
        long reads = 0;
        for (int round = 0; round < 40 && odd.get() == null; round++)
        {
            final AddressSpace s = AddressSpace.create(Kernel.system(), 16 * PAGE);
            final long x = s.map(s.openFile(p1, FileAccess.READ_ONLY), 0, pages(4), Protection.READ,
                Sharing.SHARED);
            final boolean bulk = (round & 1) == 1;
            final CountDownLatch reading = new CountDownLatch(1);
            final Future<Long> loop = reader.submit(() -> {
                final MemorySegment dst = MemorySegment.ofArray(new long[4]);
                for (long i = 0; ; i++)
                {
                    try
                    {
                        if (bulk)
                        {
                            s.read(x + PAGE, dst);
                        }
                        else
                        {
                            s.readLong(x + PAGE);
                        }
                    }
                    catch (final SpaceClosedException ex)
                    {
                        return i;
                    }
                    catch (final RuntimeException ex)
                    {
                        odd.set(ex);
                        return i;
                    }
                    if (i == 1000)
                    {
                        reading.countDown();
                    }
                }
            });
            await(reading, "the reader");
            s.close();
            reads += get(loop, "the reader");
        }
        final long total = reads;
        assertNull(odd.get(), () -> "a read racing close threw " + odd.get() + " (" + total + " reads)");
    }

    @Test
    void aReadOfAMappingWhoseFileWasTruncatedNamesTheRegionAndTheSpaceStaysUsable() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(1), Protection.READ, Sharing.SHARED);
        try (FileChannel ch = FileChannel.open(p1, StandardOpenOption.WRITE))
        {
            ch.truncate(PAGE); // another process shrinks the file under the mapping
        }
        final long past = x + 2 * PAGE;
        final RegionFaultException viaReadLong = assertThrows(RegionFaultException.class, () -> space.readLong(past));
        assertEquals(past, viaReadLong.address());
        assertTrue(viaReadLong.getMessage().contains("f1:") && viaReadLong.getMessage().contains("file offset " +
            2 * PAGE), viaReadLong.getMessage());
        assertInstanceOf(InternalError.class, viaReadLong.getCause());
        assertThrows(RegionFaultException.class, () -> space.read(past, MemorySegment.ofArray(new long[2])));
        assertThrows(RegionFaultException.class, () -> space.read(past, TrustFixture.LONG));
        try (Lease lease = space.lease(x))
        {
            final RegionFaultException viaLease = assertThrows(RegionFaultException.class,
                () -> lease.getLong(2 * PAGE));
            assertTrue(viaLease.getMessage().startsWith("lease.getLong"), viaLease.getMessage());
            assertEquals(stamp(1, 0), lease.getLong(0), "the page the file still has");
        }
        assertEquals(stamp(2, 0), space.readLong(y));
        space.unmap(x, pages(4));
        space.verify();
    }

    @Test
    void aTimedOutSectionNeverReportsANegativeWait() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane holder = lane("holder");
        holder.lease(x);
        try (WriteSection w = space.beginWrite(-1, TimeUnit.MILLISECONDS))
        {
            assertNotNull(w);
            final RegionBusyException e = assertThrows(RegionBusyException.class, () -> w.unmap(x, pages(4)));
            assertTrue(e.getMessage().contains("after 0 ms"), e.getMessage());
            assertFalse(e.getMessage().contains("after -"), e.getMessage());
        }
        holder.closePins();
        space.verify();
    }
}
