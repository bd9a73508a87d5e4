package io.regionmm.space;

import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.MergeConflict;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public API used as a hurried database author would (written by an outside review of the split of the space
 * into Mm, Window, ReadLadder, WriterGate, WriteSection, Rollback and MapEdit): bad arguments change nothing (the
 * map against /proc/self/maps, file sizes), sections joined and refused, leases across writes, use after release
 * and after close, remap in every direction, and range leases against concurrent writers.
 */
class PublicApiProbeTest
{
    @TempDir
    Path dir;

    private AddressSpace space;
    private Path p1;
    private Path p2;
    private Path pr;
    private FileHandle f1;
    private FileHandle f2;
    private FileHandle ro;
    private ExecutorService pool;

    @BeforeEach
    void setUp() throws Exception
    {
        space = AddressSpace.create(io.regionmm.kernel.Kernel.system(), 256 * PAGE);
        p1 = StampedFiles.create(dir, 1, 16);
        p2 = StampedFiles.create(dir, 2, 16);
        pr = StampedFiles.create(dir, 3, 16);
        f1 = space.openFile(p1, FileAccess.READ_WRITE);
        f2 = space.openFile(p2, FileAccess.READ_WRITE);
        ro = space.openFile(pr, FileAccess.READ_ONLY);
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        pool.shutdownNow();
        pool.awaitTermination(5, TimeUnit.SECONDS);
        space.close(5, TimeUnit.SECONDS);
    }

    /** Asserts the call throws {@code type} and changes neither the map, the kernel's view nor the files' sizes. */
    private <T extends Throwable> T refusedUnchanged(final Class<T> type, final Executable call) throws Exception
    {
        final List<Region> before = space.regions();
        final long s1 = Files.size(p1);
        final long s2 = Files.size(p2);
        final T ex = assertThrows(type, call);
        assertEquals(before, space.regions(), () -> "changed by a refused call: " + ex);
        assertEquals(s1, Files.size(p1), "file 1 size changed by a refused call");
        assertEquals(s2, Files.size(p2), "file 2 size changed by a refused call");
        space.verify();
        return ex;
    }

    // ------------------------------------------------------------------ bad arguments

    @Test
    void badArgumentsChangeNothing() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.PRIVATE);
        final long w0 = space.windowStart();
        final long w1 = space.windowEnd();
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, -PAGE, PAGE, Protection.READ,
            Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 1, PAGE, Protection.READ,
            Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, PAGE + 1, Protection.READ,
            Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, 0, Protection.READ,
            Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, Long.MAX_VALUE & -PAGE, PAGE,
            Protection.READ, Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, PAGE, Protection.READ,
            Sharing.SHARED, MapOptions.DEFAULT.at(a + PAGE)));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, PAGE, Protection.READ,
            Sharing.SHARED, MapOptions.DEFAULT.at(w1)));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, PAGE, Protection.READ,
            Sharing.SHARED, MapOptions.DEFAULT.at(w0 - PAGE)));
        refusedUnchanged(RegionArgumentException.class, () -> space.map(f1, 0, 32 * PAGE, Protection.READ,
            Sharing.SHARED)); // past the file's end, no growth asked
        refusedUnchanged(RegionArgumentException.class, () -> space.map(ro, 0, 32 * PAGE, Protection.READ,
            Sharing.SHARED, MapOptions.DEFAULT.growingFile())); // read-only file cannot grow
        refusedUnchanged(RegionArgumentException.class, () -> space.map(ro, 0, PAGE, Protection.READ_WRITE,
            Sharing.SHARED));
        refusedUnchanged(RegionArgumentException.class, () -> space.unmap(a + 1, PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.unmap(a, -PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.unmap(w0 - PAGE, 2 * PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.unmap(Long.MAX_VALUE & -PAGE, PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.split(a));
        refusedUnchanged(RegionArgumentException.class, () -> space.split(a + 1));
        refusedUnchanged(RegionArgumentException.class, () -> space.split(b + 8 * PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.merge(a + PAGE, PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.merge(a, 5 * PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.protect(a, 16 * PAGE, Protection.READ));
        refusedUnchanged(RegionArgumentException.class, () -> space.advise(b + 4 * PAGE, PAGE, Advice.WILLNEED));
        refusedUnchanged(RegionArgumentException.class, () -> space.lock(b + 4 * PAGE, PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.remap(a + PAGE, 8 * PAGE, true));
        refusedUnchanged(RegionArgumentException.class, () -> space.remap(a, 3 * PAGE + 1, true));
        refusedUnchanged(RegionArgumentException.class, () -> space.remap(a, 0, true));
        refusedUnchanged(RegionArgumentException.class, () -> space.remap(a, 64 * PAGE, false));
        refusedUnchanged(RegionArgumentException.class, () -> space.sync(a + 1, PAGE, SyncMode.SYNC));
        refusedUnchanged(RegionArgumentException.class, () -> space.leaseRange(a, 0));
        refusedUnchanged(RegionArgumentException.class, () -> space.leaseRange(a, 9 * PAGE));
        refusedUnchanged(RegionArgumentException.class, () -> space.readLong(b + 8 * PAGE));
        // Straddles a and b: not inside one region.
        refusedUnchanged(RegionArgumentException.class, () -> space.readLong(a + 4 * PAGE - 4));
        refusedUnchanged(NullPointerException.class, () -> space.map(f1, 0, PAGE, null, Sharing.SHARED));
        refusedUnchanged(NullPointerException.class, () -> space.protect(a, PAGE, null));
    }

    @Test
    void remapToAnOverflowingLengthChangesNothing() throws Exception
    {
        // newLength passes fileOffset + newLength's overflow check, but r.start() + newLength would overflow: it is
        // refused as longer than the window, with or without growth (it once ran into fallocate's EFBIG).
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final long huge = Long.MAX_VALUE & -PAGE;
        final RegionArgumentException fixed = refusedUnchanged(RegionArgumentException.class,
            () -> space.remap(a, huge, false));
        assertTrue(fixed.getMessage().contains("larger than the window"), fixed::getMessage);
        final RegionArgumentException grow = refusedUnchanged(RegionArgumentException.class,
            () -> space.remap(a, huge, true));
        assertTrue(grow.getMessage().contains("larger than the window"), grow::getMessage);
    }

    @Test
    void mapChecksItsArgumentsInTheirOrder() throws Exception
    {
        // Several bad arguments: the first in the signature's order is named (offset before the file's mode).
        final RegionArgumentException ex = refusedUnchanged(RegionArgumentException.class,
            () -> space.map(ro, 1, PAGE, Protection.READ_WRITE, Sharing.SHARED));
        assertTrue(ex.getMessage().contains("offset=1 is not page-aligned"), ex::getMessage);
        final RegionArgumentException neg = refusedUnchanged(RegionArgumentException.class,
            () -> space.unmap(-PAGE, PAGE));
        assertTrue(neg.getMessage().contains("is negative"), neg::getMessage);
    }

    // ------------------------------------------------------------------ merge

    @Test
    void mergeOfIncompatibleRegionsNamesTheTypedReason() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.split(a + PAGE);
        space.advise(a + PAGE, PAGE, Advice.RANDOM);
        final IncompatibleRegionsException adv = refusedUnchanged(IncompatibleRegionsException.class,
            () -> space.merge(a, 2 * PAGE));
        assertEquals(MergeConflict.ADVICE_DIFFERS, adv.conflict());
        assertTrue(adv.getMessage().contains("advice differs (NORMAL vs RANDOM)"), adv::getMessage);
        space.advise(a + PAGE, PAGE, Advice.NORMAL); // merges back as the kernel would
        assertEquals(1, space.regions().size());
        final long b = space.map(f1, 2 * PAGE, PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(a + 2 * PAGE));
        assertEquals(2, space.regions().size());
        final IncompatibleRegionsException prot = refusedUnchanged(IncompatibleRegionsException.class,
            () -> space.merge(a, 3 * PAGE));
        assertEquals(MergeConflict.PROTECTION_DIFFERS, prot.conflict());
        final Region ra = space.regionAt(a);
        final Region rb = space.regionAt(b);
        assertEquals(ra.mergeConflict(rb).orElseThrow(), prot.conflict());
        assertFalse(ra.canMergeWith(rb));
        assertTrue(rb.mergeConflict(ra).isPresent());
        assertEquals(MergeConflict.NOT_ADJACENT, rb.mergeConflict(ra).get());
        space.verify();
    }

    // ------------------------------------------------------------------ nesting and one-shots in a section

    @Test
    void oneShotsJoinTheOpenSectionAndNestingIsRefused() throws Exception
    {
        try (WriteSection w = space.beginWrite())
        {
            final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
            assertEquals(w.sequence(), space.mm().lock.sequence());
            assertThrows(IllegalStateException.class, space::beginWrite);
            assertThrows(IllegalStateException.class, () -> space.beginWrite(10, TimeUnit.MILLISECONDS));
            assertThrows(RegionArgumentException.class, () -> space.split(a + 1)); // refused, section still usable
            space.split(a + PAGE);
            w.merge(a, 2 * PAGE);
            space.releaseFile(f2); // joins
            assertThrows(IllegalStateException.class, () -> space.lease(a), "a lease of a region this section made");
            assertThrows(IllegalStateException.class, space::close);
            assertEquals(w.sequence(), space.mm().lock.sequence(), "still in the same section");
        }
        assertEquals(0, space.mm().lock.sequence() & 1);
        assertFalse(space.isFileOpen(f2));
        assertThrows(RegionArgumentException.class, () -> space.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED));
        space.verify();
    }

    @Test
    void sectionUsedAfterCloseAndFromAnotherThread() throws Exception
    {
        final WriteSection w = space.beginWrite();
        final Future<Throwable> other = pool.submit(() -> {
            try
            {
                w.close();
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        assertInstanceOf(WrongThreadException.class, other.get(5, TimeUnit.SECONDS));
        final Future<Throwable> otherOp = pool.submit(() -> {
            try
            {
                w.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT);
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        assertInstanceOf(WrongThreadException.class, otherOp.get(5, TimeUnit.SECONDS));
        assertEquals(1, space.mm().lock.sequence() & 1, "section still open after a wrong-thread close");
        w.close();
        w.close();
        assertThrows(IllegalStateException.class, () -> w.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT));
        assertThrows(IllegalStateException.class, w::downgrade);
        // the one-shot after the section closed opens its own
        space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED);
        assertEquals(0, space.mm().lock.sequence() & 1);
        space.verify();
    }

    @Test
    void downgradedHoldRefusesWritesOnItsThread() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final WriteSection w = space.beginWrite();
        w.unmap(a + PAGE, PAGE);
        try (ReadHold _ = w.downgrade())
        {
            assertThrows(IllegalStateException.class, () -> space.unmap(a, PAGE));
            assertThrows(IllegalStateException.class, space::beginWrite);
            assertThrows(IllegalStateException.class, () -> space.releaseFile(f2));
            assertEquals(stamp(1, 0), space.readLong(a));
            try (Lease l = space.lease(a))
            {
                assertEquals(stamp(1, 0), l.getLong(0));
            }
            assertEquals(1, space.regions().size());
        }
        space.unmap(a, PAGE);
        assertEquals(0, space.regions().size());
        space.verify();
    }

    // ------------------------------------------------------------------ timeouts and busy writers

    @Test
    void beginWriteWithTimeoutWhileAnotherThreadHoldsTheLock() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final Future<?> holder = pool.submit(() -> {
            try (WriteSection _ = space.beginWrite())
            {
                held.countDown();
                release.await();
            }
            return null;
        });
        assertTrue(held.await(5, TimeUnit.SECONDS));
        final long t0 = System.nanoTime();
        final RegionBusyException busy = assertThrows(RegionBusyException.class,
            () -> space.beginWrite(50, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(40));
        assertTrue(busy.getMessage().contains("beginWrite"), busy::getMessage);
        // still no lock held by this thread
        assertFalse(space.mm().lock.isWriteLockedByCurrentThread());
        assertThrows(RegionBusyException.class, () -> space.close(50, TimeUnit.MILLISECONDS));
        assertFalse(space.isClosed());
        release.countDown();
        holder.get(5, TimeUnit.SECONDS);
        try (WriteSection w = space.beginWrite(1, TimeUnit.SECONDS))
        {
            w.unmap(a, PAGE);
        }
        assertEquals(1, space.regions().size());
        space.verify();
    }

    @Test
    void leaseHeldAcrossAWriteOfAnotherThread() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        try (Lease lease = space.lease(a + PAGE))
        {
            final Future<Throwable> w = pool.submit(() -> {
                try (WriteSection s = space.beginWrite(100, TimeUnit.MILLISECONDS))
                {
                    s.unmap(b, PAGE); // not leased: fine
                    try
                    {
                        s.protect(a, PAGE, Protection.READ); // leased region: busy after 100 ms
                        return null;
                    }
                    catch (final RegionBusyException ex)
                    {
                        s.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b)); // usable after
                        return ex;
                    }
                }
                catch (final Throwable t)
                {
                    return t;
                }
            });
            assertInstanceOf(RegionBusyException.class, w.get(5, TimeUnit.SECONDS));
            assertEquals(stamp(1, 0), lease.getLong(0));
            assertEquals(Protection.READ_WRITE, space.regionAt(a).protection());
            // this thread holds a lease: writes refused, reads of what it pins fine
            assertThrows(IllegalStateException.class, () -> space.unmap(b, PAGE));
            assertThrows(IllegalStateException.class, () -> space.releaseFile(f2));
            assertThrows(IllegalStateException.class, space::close);
            assertEquals(stamp(1, 1), space.readLong(a + PAGE));
        }
        assertEquals(3, space.regions().size());
        space.verify();
    }

    @Test
    void closeFromAnotherThreadWhileALeaseIsHeld() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final Lease lease = space.lease(a);
        final Future<Throwable> closer = pool.submit(() -> {
            try
            {
                space.close(100, TimeUnit.MILLISECONDS);
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        final Throwable t = closer.get(5, TimeUnit.SECONDS);
        assertInstanceOf(RegionBusyException.class, t);
        assertFalse(space.isClosed());
        assertEquals(stamp(1, 0), lease.getLong(0));
        // lease closed from the wrong thread: refused, stays open
        assertInstanceOf(WrongThreadException.class, pool.submit(() -> {
            try
            {
                lease.close();
                return null;
            }
            catch (final Throwable x)
            {
                return x;
            }
        }).get(5, TimeUnit.SECONDS));
        assertFalse(lease.isClosed());
        lease.close();
        // handle used after release
        assertThrows(IllegalStateException.class, () -> lease.getLong(0));
        assertThrows(IllegalStateException.class, lease::segment);
        assertThrows(IllegalStateException.class, lease::writableSegment);
        lease.close(); // idempotent
        space.verify();
        pool.submit(() -> {
            space.close();
            return null;
        }).get(5, TimeUnit.SECONDS);
        assertTrue(space.isClosed());
    }

    @Test
    void writableSegmentDiesWithItsLease() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final MemorySegment seg;
        try (Lease lease = space.lease(a))
        {
            seg = lease.writableSegment();
            seg.set(ValueLayout.JAVA_LONG, 8, 42L);
        }
        assertThrows(IllegalStateException.class, () -> seg.set(ValueLayout.JAVA_LONG, 8, 43L));
        assertEquals(42L, space.readLong(a + 8));
    }

    // ------------------------------------------------------------------ after close

    @Test
    void readsAndWritesAfterClose() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final Region r = space.regionAt(a);
        space.close();
        space.close();
        assertTrue(space.isClosed());
        assertThrows(SpaceClosedException.class, () -> space.readLong(a));
        assertThrows(SpaceClosedException.class, () -> space.read(a, (reg, mem, off) -> 0));
        assertThrows(SpaceClosedException.class, () -> space.readNoWait(a, (reg, mem, off) -> 0, -1));
        assertThrows(SpaceClosedException.class, () -> space.readLocked(a, (reg, mem, off) -> 0));
        assertThrows(SpaceClosedException.class, () -> space.read(a, new byte[8], 0, 8));
        assertThrows(SpaceClosedException.class, () -> space.lease(a));
        assertThrows(SpaceClosedException.class, () -> space.leaseRange(a, PAGE));
        assertThrows(SpaceClosedException.class, () -> space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED));
        assertThrows(SpaceClosedException.class, () -> space.unmap(a, PAGE));
        assertThrows(SpaceClosedException.class, () -> space.split(a + PAGE));
        assertThrows(SpaceClosedException.class, () -> space.merge(a, PAGE));
        assertThrows(SpaceClosedException.class, () -> space.remap(a, PAGE, false));
        assertThrows(SpaceClosedException.class, space::beginWrite);
        assertThrows(SpaceClosedException.class, () -> space.beginWrite(1, TimeUnit.MILLISECONDS));
        assertThrows(SpaceClosedException.class, () -> space.sync(a, PAGE, SyncMode.SYNC));
        assertThrows(SpaceClosedException.class, () -> space.releaseFile(f1));
        assertThrows(SpaceClosedException.class, () -> space.fileSize(f1));
        assertThrows(SpaceClosedException.class, () -> space.openFile(p1, FileAccess.READ_ONLY));
        assertThrows(SpaceClosedException.class, space::verify);
        assertNull(space.regionAt(a));
        assertTrue(space.regions().isEmpty());
        assertFalse(space.isFileOpen(f1));
        // the region object a caller kept: its fields stay, its memory is gone
        assertEquals(a, r.start());
        assertThrows(IllegalStateException.class, () -> r.view().get(ValueLayout.JAVA_LONG, 0));
    }

    @Test
    void closeWhileAnotherThreadWaitsToWrite() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final WriteSection w = space.beginWrite();
        final Future<Throwable> waiter = pool.submit(() -> {
            try
            {
                space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED);
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        final Future<Throwable> timed = pool.submit(() -> {
            try (WriteSection _ = space.beginWrite(5, TimeUnit.SECONDS))
            {
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        final Future<Throwable> closer = pool.submit(() -> {
            try
            {
                space.close();
                return null;
            }
            catch (final Throwable t)
            {
                return t;
            }
        });
        while (!space.mm().lock.hasQueuedThreads())
        {
            Thread.onSpinWait();
        }
        // However many of the three have queued by now, each outcome below is allowed: no sleep to order them.
        w.close();
        assertNull(closer.get(5, TimeUnit.SECONDS));
        final Throwable t1 = waiter.get(5, TimeUnit.SECONDS);
        final Throwable t2 = timed.get(5, TimeUnit.SECONDS);
        // Each either ran before the close or was refused as closed; none may hang or see anything else.
        assertTrue(t1 == null || t1 instanceof SpaceClosedException, String.valueOf(t1));
        assertTrue(t2 == null || t2 instanceof SpaceClosedException, String.valueOf(t2));
        assertTrue(space.isClosed());
        assertThrows(SpaceClosedException.class, () -> space.readLong(a));
    }

    // ------------------------------------------------------------------ remap with growth

    @Test
    void remapGrowInPlaceAndMoveWithFileGrowth() throws Exception
    {
        final Path p = StampedFiles.create(dir, 7, 2);
        final FileHandle f = space.openFile(p, FileAccess.READ_WRITE);
        final long a = space.map(f, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        // in place, growing the file
        assertEquals(a, space.remap(a, 4 * PAGE, true));
        assertEquals(4 * PAGE, Files.size(p));
        assertEquals(stamp(7, 1), space.readLong(a + PAGE));
        assertEquals(0L, space.readLong(a + 3 * PAGE));
        space.verify();
        // block in-place growth, then grow: moves
        final long blocker = space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(a + 4 * PAGE));
        try (Lease l = space.lease(a))
        {
            l.writableSegment().set(ValueLayout.JAVA_LONG, 16, 0xBEEFL);
        }
        final long moved = space.remap(a, 8 * PAGE, true);
        assertTrue(moved != a);
        assertEquals(8 * PAGE, Files.size(p));
        assertEquals(stamp(7, 0), space.readLong(moved));
        assertEquals(0xBEEFL, space.readLong(moved + 16));
        assertThrows(RegionArgumentException.class, () -> space.readLong(a), "old range is no region any more");
        assertNull(space.regionAt(a));
        assertEquals(blocker, space.regionAt(blocker).start());
        space.verify();
        // private move keeps private pages
        final long q = space.map(f2, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE);
        space.map(f1, 8 * PAGE, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(q + 2 * PAGE));
        try (Lease l = space.lease(q))
        {
            l.writableSegment().set(ValueLayout.JAVA_LONG, 0, 0x1234L);
        }
        final long q2 = space.remap(q, 4 * PAGE, false);
        assertTrue(q2 != q);
        assertEquals(0x1234L, space.readLong(q2));
        assertEquals(stamp(2, 3), space.readLong(q2 + 3 * PAGE));
        assertEquals(stamp(2, 0), StampedFiles.readStampFromFile(p2, 0), "private write reached the file");
        space.verify();
        // shrink
        assertEquals(q2, space.remap(q2, PAGE, false));
        assertThrows(RegionArgumentException.class, () -> space.readLong(q2 + PAGE));
        space.verify();
    }

    @Test
    void remapThatCannotFindRoomChangesNothing() throws Exception
    {
        final Path p = StampedFiles.create(dir, 8, 1);
        final FileHandle f = space.openFile(p, FileAccess.READ_WRITE);
        final long a = space.map(f, 0, PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + PAGE));
        final long sz = Files.size(p);
        final MappingException ex = refusedUnchanged(MappingException.class, () -> space.remap(a, 255 * PAGE, true));
        assertTrue(ex.getMessage().contains("to move"), ex::getMessage);
        assertEquals(sz, Files.size(p), "the file grew for a remap that found no room");
    }

    // ------------------------------------------------------------------ concurrency

    @Test
    void leaseRangeAcrossRegionsDuringWrites() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(a + 4 * PAGE));
        space.split(a + 2 * PAGE);
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong leases = new AtomicLong();
        final List<Future<?>> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++)
        {
            readers.add(pool.submit(() -> {
                try
                {
                    while (!stop.get())
                    {
                        try (RangeLease rl = space.leaseRange(a + PAGE, 6 * PAGE))
                        {
                            final MemorySegment s = rl.segment();
                            assertEquals(stamp(1, 1), s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                            assertEquals(stamp(1, 3), s.get(ValueLayout.JAVA_LONG_UNALIGNED, 2 * PAGE));
                            assertEquals(stamp(2, 1), s.get(ValueLayout.JAVA_LONG_UNALIGNED, 4 * PAGE));
                            assertEquals(stamp(2, 1), space.readLong(b + PAGE));
                            final byte[] bulk = new byte[(int)(6 * PAGE)];
                            space.read(a + PAGE, bulk, 0, bulk.length); // range read under own pins if needed
                            leases.incrementAndGet();
                        }
                        assertEquals(stamp(1, 2), space.readLong(a + 2 * PAGE));
                    }
                }
                catch (final Throwable x)
                {
                    failure.compareAndSet(null, x);
                }
                return null;
            }));
        }
        final long c = space.windowStart() + 64 * PAGE;
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
        int writes = 0;
        while (System.nanoTime() < deadline && failure.get() == null)
        {
            try (WriteSection w = space.beginWrite(200, TimeUnit.MILLISECONDS))
            {
                w.map(f1, 8 * PAGE, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(c));
                w.unmap(c, PAGE);
                w.unmap(c + PAGE, PAGE);
                try
                {
                    w.advise(a, 8 * PAGE, Advice.RANDOM); // touches leased regions: may be busy
                    w.advise(a, 8 * PAGE, Advice.NORMAL);
                }
                catch (final RegionBusyException busy)
                {
                    // fine: nothing changed
                }
            }
            catch (final RegionBusyException busy)
            {
                // a writer timing out on the lock: fine
            }
            writes++;
        }
        stop.set(true);
        for (final Future<?> f : readers)
        {
            f.get(10, TimeUnit.SECONDS);
        }
        if (failure.get() != null)
        {
            throw new AssertionError("reader failed after " + leases.get() + " leases, " + writes + " writes",
                failure.get());
        }
        assertTrue(leases.get() > 0);
        space.verify();
    }

    @Test
    void readNoWaitReturnsIfBusyWhileAnotherSectionChangesTheRegion() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final CountDownLatch locked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final Future<?> writer = pool.submit(() -> {
            try (WriteSection w = space.beginWrite())
            {
                w.protect(a, PAGE, Protection.READ);
                locked.countDown();
                release.await();
            }
            return null;
        });
        assertTrue(locked.await(5, TimeUnit.SECONDS));
        final long v = space.readNoWait(a, (r, m, off) -> m.get(ValueLayout.JAVA_LONG, off), -7);
        // the region at a was replaced in that section and the new one is locked: busy
        assertEquals(-7, v);
        release.countDown();
        writer.get(5, TimeUnit.SECONDS);
        assertEquals(stamp(1, 0), space.readNoWait(a, (r, m, off) -> m.get(ValueLayout.JAVA_LONG, off), -7));
        space.verify();
    }

    @Test
    void fileHandleAfterRelease() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.releaseFile(f1);
        assertTrue(space.isFileOpen(f1), "a region still maps it");
        assertThrows(RegionArgumentException.class, () -> space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED));
        assertThrows(RegionArgumentException.class, () -> space.fileSize(f1));
        assertThrows(RegionArgumentException.class, () -> space.releaseFile(f1));
        // remap grows it (growth needs the descriptor: kept open by the region)
        space.unmap(a, 2 * PAGE);
        assertFalse(space.isFileOpen(f1));
        space.verify();
        // a handle of another space
        try (AddressSpace other = AddressSpace.create(io.regionmm.kernel.Kernel.system(), 16 * PAGE))
        {
            final FileHandle h = other.openFile(p2, FileAccess.READ_ONLY);
            refusedUnchanged(RegionArgumentException.class, () -> space.map(h, 0, PAGE, Protection.READ,
                Sharing.SHARED));
        }
    }
}
