package io.regionmm.space;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Syscall;
import io.regionmm.kernel.fault.FaultInjectingKernel;
import io.regionmm.kernel.maps.MapsEntry;
import io.regionmm.kernel.maps.ProcMaps;
import io.regionmm.lock.RacePoint;
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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AddressSpaceTest
{
    private static final long WINDOW = 1024 * PAGE;

    @TempDir
    Path dir;

    private FaultInjectingKernel kernel;
    private AddressSpace space;
    private FileHandle f1;
    private FileHandle f2;
    private Path p1;

    @BeforeEach
    void open() throws Exception
    {
        kernel = new FaultInjectingKernel(Kernel.system(), 7);
        space = AddressSpace.create(kernel, WINDOW);
        p1 = StampedFiles.create(dir, 1, 64);
        f1 = space.openFile(p1, FileAccess.READ_WRITE);
        f2 = space.openFile(StampedFiles.create(dir, 2, 64), FileAccess.READ_WRITE);
    }

    @AfterEach
    void close()
    {
        space.close();
    }

    private long base()
    {
        return space.windowStart();
    }

    private List<Region> regions()
    {
        return space.regions();
    }

    private void verifyAll()
    {
        space.verify();
        for (final Region r : regions())
        {
            for (long a = r.start(); a < r.end(); a += PAGE)
            {
                final long at = a;
                final long expected = stamp(r.file().id(), r.fileOffsetOf(at) / PAGE);
                assertEquals(expected, space.readLong(at), () -> "stamp at " + Long.toHexString(at) + " in " + r);
            }
        }
    }

    private MapsEntry kernelVmaAt(final long address)
    {
        return ProcMaps.readWindow(address, address + PAGE).getFirst();
    }

    @Test
    void mapPlacesInTheLowestGapAndTheKernelAgrees() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final long b = space.map(f2, 8 * PAGE, 2 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE);
        assertEquals(base(), a);
        assertEquals(base() + 4 * PAGE, b);
        assertEquals(2, regions().size());
        verifyAll();
        assertEquals("r--s", kernelVmaAt(a).permissions());
        assertEquals("rw-p", kernelVmaAt(b).permissions());
        space.unmap(a, 4 * PAGE);
        assertEquals(base(), space.map(f2, 0, 2 * PAGE, Protection.READ, Sharing.SHARED), "gap reused");
        verifyAll();
    }

    @Test
    void mapMergesWithPrevNextAndBoth() throws Exception
    {
        final long b = base();
        space.map(f1, 0, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b));
        space.map(f1, 4 * PAGE, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b + 4 * PAGE));
        assertEquals(2, regions().size());
        space.map(f1, 2 * PAGE, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b + 2 * PAGE));
        assertEquals(1, regions().size(), regions().toString());
        assertEquals(6 * PAGE, regions().getFirst().length());
        verifyAll();
    }

    @Test
    void noMergeAcrossFileOffsetProtectionOrSharing() throws Exception
    {
        final long b = base();
        space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b));
        space.map(f2, PAGE, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b + PAGE));         // file
        space.map(f2, 5 * PAGE, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(b + 2 * PAGE)); // offset
        space.map(f2, 6 * PAGE, PAGE, Protection.READ_WRITE, Sharing.SHARED, MapOptions.DEFAULT.at(b + 3 * PAGE));
        space.map(f2, 7 * PAGE, PAGE, Protection.READ_WRITE, Sharing.PRIVATE, MapOptions.DEFAULT.at(b + 4 * PAGE));
        assertEquals(5, regions().size());
        verifyAll();
        final IncompatibleRegionsException ex =
            assertThrows(IncompatibleRegionsException.class, () -> space.merge(b + 3 * PAGE, 2 * PAGE));
        assertTrue(ex.getMessage().contains("sharing differs"), ex.getMessage());
        assertEquals(MergeConflict.SHARING_DIFFERS, ex.conflict());
        final IncompatibleRegionsException files =
            assertThrows(IncompatibleRegionsException.class, () -> space.merge(b, 2 * PAGE));
        assertTrue(files.getMessage().contains("different files"));
        assertEquals(MergeConflict.DIFFERENT_FILES, files.conflict());
        final IncompatibleRegionsException offsets =
            assertThrows(IncompatibleRegionsException.class, () -> space.merge(b + PAGE, 2 * PAGE));
        assertTrue(offsets.getMessage().contains("offsets not contiguous"));
        assertEquals(MergeConflict.FILE_OFFSETS_NOT_CONTIGUOUS, offsets.conflict());
        final IncompatibleRegionsException protection =
            assertThrows(IncompatibleRegionsException.class, () -> space.merge(b + 2 * PAGE, 2 * PAGE));
        assertTrue(protection.getMessage().contains("protection differs"));
        assertEquals(MergeConflict.PROTECTION_DIFFERS, protection.conflict());
        assertEquals(5, regions().size());
        verifyAll();
    }

    @Test
    void protectOfAMiddleRangeSplitsInThreeAndRestoringMergesBack() throws Exception
    {
        final long a = space.map(f1, 0, 8 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.protect(a + 2 * PAGE, 3 * PAGE, Protection.READ);
        final List<Region> rs = regions();
        assertEquals(3, rs.size());
        assertEquals(Protection.READ, rs.get(1).protection());
        assertEquals(2 * PAGE, rs.get(1).fileOffset());
        assertEquals("r--s", kernelVmaAt(a + 2 * PAGE).permissions());
        verifyAll();
        space.protect(a + 2 * PAGE, 3 * PAGE, Protection.READ_WRITE);
        assertEquals(1, regions().size());
        verifyAll();
    }

    @Test
    void adviseAndLockOfAMiddleRangeSplitAndRestoringMerges() throws Exception
    {
        final long a = space.map(f1, 0, 8 * PAGE, Protection.READ, Sharing.SHARED);
        space.advise(a + PAGE, 2 * PAGE, Advice.RANDOM);
        assertEquals(3, regions().size());
        assertEquals(Advice.RANDOM, regions().get(1).advice());
        space.advise(a, 8 * PAGE, Advice.WILLNEED); // one-off: no split
        assertEquals(3, regions().size());
        space.advise(a + PAGE, 2 * PAGE, Advice.NORMAL);
        assertEquals(1, regions().size());
        try
        {
            space.lock(a + 4 * PAGE, 2 * PAGE);
        }
        catch (final MappingException ex)
        {
            assertTrue(List.of("EPERM", "ENOMEM", "EAGAIN").contains(ex.errnoName()), ex.getMessage());
            assertEquals(1, regions().size(), "a refused lock changes nothing");
            return;
        }
        assertEquals(3, regions().size());
        assertTrue(regions().get(1).locked());
        verifyAll();
        space.unlock(a, 8 * PAGE);
        assertEquals(1, regions().size());
        verifyAll();
    }

    @Test
    void anExplicitSplitStaysUntilAnExplicitMerge() throws Exception
    {
        final long a = space.map(f1, 0, 8 * PAGE, Protection.READ, Sharing.SHARED);
        space.split(a + 3 * PAGE);
        assertEquals(2, regions().size());
        verifyAll(); // the kernel keeps one VMA; the comparison merges both sides by the kernel's rules
        space.advise(a + 6 * PAGE, PAGE, Advice.NORMAL); // touches no boundary: the split stays
        assertEquals(2, regions().size());
        assertThrows(RegionArgumentException.class, () -> space.split(a + 3 * PAGE));
        space.merge(a, 8 * PAGE);
        assertEquals(1, regions().size());
        verifyAll();
    }

    @Test
    void unmapCutsRegionsAndLeavesAReadableTombstone() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        space.unmap(a + 2 * PAGE, 4 * PAGE);
        final List<Region> rs = regions();
        assertEquals(2, rs.size());
        assertEquals(a + 2 * PAGE, rs.get(0).end());
        assertEquals(b + 2 * PAGE, rs.get(1).start());
        assertEquals(2 * PAGE, rs.get(1).fileOffset());
        final MapsEntry hole = kernelVmaAt(a + 3 * PAGE);
        assertEquals("r--p", hole.permissions());
        assertTrue(hole.anonymous());
        assertThrows(RegionArgumentException.class, () -> space.readLong(a + 3 * PAGE));
        verifyAll();
    }

    @Test
    void remapShrinksGrowsInPlaceAndMovesKeepingNeighboursIntact() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final long b = space.map(f2, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        assertEquals(a, space.remap(a, 2 * PAGE, false));
        assertEquals("r--p", kernelVmaAt(a + 3 * PAGE).permissions());
        verifyAll();
        assertEquals(a, space.remap(a, 4 * PAGE, false), "grows back into its own hole");
        verifyAll();
        final long moved = space.remap(a, 6 * PAGE, false);
        assertEquals(b + 4 * PAGE, moved, "blocked by b, so moved to the lowest gap after it");
        assertEquals("r--p", kernelVmaAt(a).permissions());
        assertEquals(2, regions().size());
        verifyAll();
    }

    @Test
    void growingIntoAHoleMergesWithTheNextRegion() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ, Sharing.SHARED);
        space.map(f1, 4 * PAGE, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + 4 * PAGE));
        assertEquals(2, regions().size());
        assertEquals(a, space.remap(a, 4 * PAGE, false));
        assertEquals(1, regions().size());
        verifyAll();
    }

    @Test
    void aMovedPrivateRegionKeepsItsPrivatePages() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE);
        space.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED);
        try (Lease lease = space.lease(a))
        {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, PAGE + 8, 0xC0FFEEL);
        }
        final long moved = space.remap(a, 3 * PAGE, false);
        assertNotEquals(a, moved);
        assertEquals(0xC0FFEEL, space.readLong(moved + PAGE + 8));
        assertEquals(stamp(1, 2), space.readLong(moved + 2 * PAGE));
        assertEquals(stamp(1, 1) ^ 8, StampedFiles.readStampFromFile(p1, PAGE + 8), "private write stays private");
        space.verify();
    }

    @Test
    void aSharedWriteReachesTheFileAfterSync() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        try (Lease lease = space.lease(a + PAGE))
        {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, PAGE + 16, 42L);
        }
        space.sync(a, 2 * PAGE, SyncMode.SYNC);
        assertEquals(42L, StampedFiles.readStampFromFile(p1, PAGE + 16));
    }

    @Test
    void mappingPastTheEndOfTheFileNeedsGrowAndThenFallocates() throws Exception
    {
        final RegionArgumentException ex = assertThrows(RegionArgumentException.class,
            () -> space.map(f1, 60 * PAGE, 8 * PAGE, Protection.READ, Sharing.SHARED));
        assertTrue(ex.getMessage().contains("past the end"), ex.getMessage());
        assertTrue(regions().isEmpty());
        final long a = space.map(f1, 60 * PAGE, 8 * PAGE, Protection.READ_WRITE, Sharing.SHARED,
            MapOptions.DEFAULT.growingFile());
        assertEquals(68 * PAGE, Files.size(p1));
        assertEquals(0, space.readLong(a + 7 * PAGE));
        assertEquals(1, kernel.calls(Syscall.FALLOCATE));
        space.verify();
        final long grown = space.remap(a, 10 * PAGE, true);
        assertEquals(a, grown);
        assertEquals(70 * PAGE, Files.size(p1));
    }

    @Test
    void aReadMappingMayEndInsideTheFilesLastPage() throws Exception
    {
        final Path odd = dir.resolve("odd");
        final byte[] bytes = new byte[(int) PAGE + 100];
        Arrays.fill(bytes, (byte) 7);
        Files.write(odd, bytes);
        final FileHandle f = space.openFile(odd, FileAccess.READ_WRITE);
        final long a = space.map(f, 0, 2 * PAGE, Protection.READ, Sharing.SHARED);
        assertEquals(0x0707070707070707L, space.readLong(a + PAGE + 92), "the file's last bytes");
        assertEquals(0L, space.readLong(a + PAGE + 100), "the rest of its last page reads as zeros");
        assertEquals(PAGE + 100, Files.size(odd), "the file did not grow");
        assertTrue(assertThrows(RegionArgumentException.class,
            () -> space.map(f, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED)).getMessage()
            .contains("past the end"), "writes past the end would be lost");
        assertTrue(assertThrows(RegionArgumentException.class,
            () -> space.map(f, 0, 3 * PAGE, Protection.READ, Sharing.SHARED)).getMessage()
            .contains("past the end"), "a page wholly past the end faults");
        final List<Region> before = regions();
        assertTrue(assertThrows(RegionArgumentException.class,
            () -> space.protect(a, 2 * PAGE, Protection.READ_WRITE)).getMessage()
            .contains("past the end"), "nor may it become writable later");
        assertEquals(before, regions(), "nothing changed");
        space.protect(a, PAGE, Protection.READ_WRITE); // the first page is wholly inside the file: fine
        space.verify();
    }

    @Test
    void badInputIsRefusedByNameAndChangesNothing() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final List<Region> before = regions();
        assertRefused("map", () -> space.map(f1, 1, PAGE, Protection.READ, Sharing.SHARED), "offset=1");
        assertRefused("map", () -> space.map(f1, -PAGE, PAGE, Protection.READ, Sharing.SHARED), "offset=");
        assertRefused("map", () -> space.map(f1, 0, 0, Protection.READ, Sharing.SHARED), "length=0");
        assertRefused("map", () -> space.map(f1, 0, 100, Protection.READ, Sharing.SHARED), "length=100");
        assertRefused("map", () -> space.map(f1, Long.MAX_VALUE - PAGE + 1, 2 * PAGE, Protection.READ,
            Sharing.SHARED), "");
        assertRefused("map", () -> space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(a + PAGE)), "overlaps");
        assertRefused("map", () -> space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(space.windowEnd())), "outside the window");
        assertRefused("unmap", () -> space.unmap(a + 1, PAGE), "not page-aligned");
        assertRefused("unmap", () -> space.unmap(a, -PAGE), "length=");
        assertRefused("unmap", () -> space.unmap(Long.MAX_VALUE - PAGE + 1, 2 * PAGE), "");
        assertRefused("protect", () -> space.protect(a, 8 * PAGE, Protection.READ_WRITE), "not entirely mapped");
        assertRefused("split", () -> space.split(a + 4 * PAGE), "no region covers");
        assertRefused("remap", () -> space.remap(a + PAGE, 8 * PAGE, false), "no region starts");
        assertRefused("remap", () -> space.remap(a, 0, false), "newLength=0");
        // Long enough to wrap the region's end around: refused as an argument, before any lease is waited for or
        // the file system's size limit is asked (it used to end as fallocate's EFBIG).
        assertRefused("remap", () -> space.remap(a, Long.MAX_VALUE & -PAGE, true), "larger than the window");
        assertRefused("merge", () -> space.merge(a, 2 * PAGE), "inside");

        final FileHandle ro = space.openFile(p1, FileAccess.READ_ONLY);
        assertRefused("map", () -> space.map(ro, 0, PAGE, Protection.READ_WRITE, Sharing.SHARED), "read-only");
        final long r = space.map(ro, 8 * PAGE, PAGE, Protection.READ, Sharing.SHARED);
        assertRefused("protect", () -> space.protect(r, PAGE, Protection.READ_WRITE), "read-only");
        space.unmap(r, PAGE);

        assertRefused("openFile", () -> space.openFile(dir, FileAccess.READ_ONLY), "directory");
        final MappingException missing =
            assertThrows(MappingException.class, () -> space.openFile(dir.resolve("nope"), FileAccess.READ_ONLY));
        assertEquals("ENOENT", missing.errnoName());
        assertEquals(before.size(), regions().size());
        assertSame(before.getFirst(), regions().getFirst(), "the region object itself is untouched");
        space.verify();

        space.close();
        assertThrows(SpaceClosedException.class, () -> space.map(f1, 0, PAGE, Protection.READ, Sharing.SHARED));
        assertThrows(SpaceClosedException.class, () -> space.lease(a));
        assertThrows(SpaceClosedException.class, () -> space.readLong(a));
        assertThrows(SpaceClosedException.class, () -> space.unmap(a, PAGE));
    }

    @Test
    void anUnreadableFileIsATypedErrorThatNamesTheCall() throws Exception
    {
        // Tests run as root here, which reads any file: the kernel's EACCES is injected at open, as it would come.
        final Path secret = StampedFiles.create(dir, 9, 1).resolveSibling("secret.dat");
        Files.writeString(secret, "x");
        kernel.failWhen(Syscall.OPEN, c -> c.path().endsWith("secret.dat"), Errno.EACCES);
        final MappingException ex =
            assertThrows(MappingException.class, () -> space.openFile(secret, FileAccess.READ_ONLY));
        assertEquals("EACCES", ex.errnoName());
        assertTrue(ex.getMessage().startsWith("openFile: open(path=\"" + secret), ex.getMessage());
        assertTrue(ex.getMessage().contains("check the file's permissions"), ex.getMessage());
        assertTrue(regions().isEmpty());
    }

    private static void assertRefused(final String op, final org.junit.jupiter.api.function.Executable call,
        final String mention)
    {
        final RegionArgumentException ex = assertThrows(RegionArgumentException.class, call);
        assertEquals(op, ex.operation());
        assertTrue(ex.getMessage().startsWith(op + ": ") && ex.getMessage().contains(mention), ex.getMessage());
    }

    @Test
    void aFailedSyscallUndoesTheWholeOperation() throws Exception
    {
        final long a = space.map(f1, 0, 8 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.split(a + 4 * PAGE);
        final List<Region> before = regions();

        kernel.failWhen(Syscall.MPROTECT, c -> c.arg(0) >= a + 4 * PAGE && c.arg(2) == Protection.READ.prot(),
            Errno.ENOMEM);
        final MappingException protect =
            assertThrows(MappingException.class, () -> space.protect(a, 8 * PAGE, Protection.READ));
        assertEquals("ENOMEM", protect.errnoName());
        assertTrue(protect.getMessage().startsWith("protect: mprotect("), protect.getMessage());
        assertEquals(before, regions());
        assertEquals("rw-s", kernelVmaAt(a).permissions(), "the first piece was put back");
        space.verify();
        kernel.clearRules();

        space.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + 8 * PAGE));
        final List<Region> before2 = regions();
        kernel.failWhen(Syscall.MMAP, c -> c.arg(4) == -1 && c.arg(0) == a, Errno.ENOMEM); // the tombstone after a move
        assertThrows(MappingException.class, () -> space.remap(a, 6 * PAGE, false));
        assertEquals(before2, regions());
        space.verify();
        kernel.clearRules();

        kernel.failNth(Syscall.MMAP, kernel.calls(Syscall.MMAP) + 1, Errno.ENOMEM);
        final long sizeBefore = Files.size(p1);
        assertThrows(MappingException.class, () -> space.map(f1, 60 * PAGE, 16 * PAGE, Protection.READ,
            Sharing.SHARED, MapOptions.DEFAULT.growingFile()));
        assertEquals(sizeBefore, Files.size(p1), "the file is shrunk back");
        assertEquals(before2, regions());
        space.verify();
    }

    @Test
    void aLeaseReadsItsRegionThroughTheWindowAndOnlyItsRegion() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ, Sharing.SHARED);
        space.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + 2 * PAGE));
        final Lease lease = space.lease(a + PAGE);
        assertEquals(a, lease.region().start());
        assertEquals(stamp(1, 1), lease.getLong(PAGE), "the stamp of page 1 of file 1");
        assertEquals(lease.segment().get(ValueLayout.JAVA_INT_UNALIGNED, PAGE + 3), lease.getInt(PAGE + 3));
        assertEquals(lease.segment().get(ValueLayout.JAVA_BYTE, 5), lease.getByte(5));
        final MemorySegment copy = MemorySegment.ofArray(new byte[16]);
        lease.copyTo(PAGE, copy);
        assertEquals(stamp(1, 1), copy.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        // The next region (file 2) is adjacent in the window, but not the lease's to read.
        assertThrows(IndexOutOfBoundsException.class, () -> lease.getLong(2 * PAGE - 4));
        assertThrows(IndexOutOfBoundsException.class, () -> lease.getByte(2 * PAGE));
        assertThrows(IndexOutOfBoundsException.class, () -> lease.getLong(-8));
        assertThrows(IndexOutOfBoundsException.class, () -> lease.copyTo(2 * PAGE - 8, copy));
        lease.close();
        assertThrows(IllegalStateException.class, () -> lease.getLong(0));
        space.verify();
    }

    @Test
    void aWriterWaitsForALeaseAndTheLeaseViewDiesWithIt() throws Exception
    {
        final long a = space.map(f1, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final Lease lease = space.lease(a + PAGE);
        final MemorySegment w = lease.writableSegment();
        final CountDownLatch waiting = new CountDownLatch(1);
        final AtomicBoolean done = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread writer = new Thread(() -> {
            try
            {
                space.protect(a, 4 * PAGE, Protection.READ);
                done.set(true);
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        });
        RacePoint.install(p -> {
            if (p == RacePoint.WRITER_WAITING_FOR_READERS && Thread.currentThread() == writer)
            {
                waiting.countDown();
            }
        });
        writer.start();
        waiting.await(); // the writer has flagged the region and waits for our pin
        assertFalse(done.get());
        w.set(ValueLayout.JAVA_LONG, 0, 7L); // still writable: the region cannot be re-protected under us
        lease.close();
        writer.join();
        RacePoint.install(null);
        assertNull(failure.get());
        assertTrue(done.get());
        assertThrows(IllegalStateException.class, () -> w.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(7L, space.readLong(a));
        space.verify();
    }

    @Test
    void aRangeLeasePinsEveryRegionOfTheRangeUntilItCloses() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ, Sharing.SHARED);
        space.map(f2, 4 * PAGE, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + 2 * PAGE));
        assertRefused("leaseRange", () -> space.leaseRange(a, 8 * PAGE), "not inside mapped regions");
        final RangeLease lease = space.leaseRange(a + PAGE, 2 * PAGE);
        assertEquals(2, lease.regions().size());
        assertEquals(stamp(1, 1), lease.segment().get(ValueLayout.JAVA_LONG, 0));
        assertEquals(stamp(2, 4), lease.segment().get(ValueLayout.JAVA_LONG, PAGE));
        final CountDownLatch waiting = new CountDownLatch(1);
        final AtomicBoolean closing = new AtomicBoolean();
        final Thread writer = new Thread(() -> {
            try
            {
                space.unmap(a + 2 * PAGE, PAGE); // the second pinned region
            }
            catch (final MappingException ex)
            {
                throw new AssertionError(ex);
            }
        });
        RacePoint.install(p -> {
            if (p == RacePoint.WRITER_WAITING_FOR_READERS && Thread.currentThread() == writer)
            {
                waiting.countDown();
            }
        });
        try
        {
            writer.start();
            waiting.await();
            closing.set(true);
            lease.close();
            writer.join();
        }
        finally
        {
            RacePoint.install(null);
        }
        assertTrue(closing.get());
        assertThrows(IllegalStateException.class, lease::segment);
        space.verify();
    }

    @Test
    void aRangeLeaseWritesAcrossItsRegionsOnlyWhileOpenAndOnlyWhenAllAreWritable() throws Exception
    {
        final long a = space.map(f1, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
        space.map(f2, 0, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED, MapOptions.DEFAULT.at(a + 2 * PAGE));
        space.map(f2, 2 * PAGE, PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(a + 4 * PAGE));
        final MemorySegment w;
        try (RangeLease lease = space.leaseRange(a + PAGE, 2 * PAGE))
        {
            w = lease.writableSegment();
            assertEquals(2 * PAGE, w.byteSize());
            // A record straddling the two regions (two files): its bytes land in both.
            w.set(ValueLayout.JAVA_LONG_UNALIGNED, PAGE - 4, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, lease.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, PAGE - 4));
            final AtomicReference<Throwable> elsewhere = new AtomicReference<>();
            final Thread other = new Thread(() -> {
                try
                {
                    w.get(ValueLayout.JAVA_LONG, 0);
                }
                catch (final Throwable t)
                {
                    elsewhere.set(t);
                }
            });
            other.start();
            other.join();
            assertTrue(elsewhere.get() instanceof WrongThreadException, "confined to the leasing thread: " +
                elsewhere.get());
        }
        assertThrows(IllegalStateException.class, () -> w.get(ValueLayout.JAVA_LONG, 0), "dies with the lease");
        try (RangeLease again = space.leaseRange(a, 4 * PAGE))
        {
            assertEquals(0x1122334455667788L, again.segment().get(ValueLayout.JAVA_LONG_UNALIGNED, 2 * PAGE - 4));
        }
        try (RangeLease lease = space.leaseRange(a + 3 * PAGE, 2 * PAGE))
        {
            assertThrows(IllegalStateException.class, lease::writableSegment, "a READ region in the range");
            assertEquals(stamp(2, 2), lease.segment().get(ValueLayout.JAVA_LONG, PAGE), "still readable");
        }
        space.verify();
    }

    @Test
    @SuppressWarnings("try") // the hold is what the test is about: it only has to be open in its block
    void aDowngradedSectionReleasesItsRegionsButKeepsWritersOut() throws Exception
    {
        final WriteSection w = space.beginWrite();
        final long a = w.map(f1, 0, 2 * PAGE, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT);
        try (ReadHold hold = w.downgrade())
        {
            try (Lease lease = space.lease(a))
            {
                assertEquals(stamp(1, 0), lease.segment().get(ValueLayout.JAVA_LONG, 0), "regions are released");
            }
            final AtomicReference<Throwable> other = new AtomicReference<>();
            final Thread t = new Thread(() -> {
                try (WriteSection ignored = space.beginWrite(50, java.util.concurrent.TimeUnit.MILLISECONDS))
                {
                    other.set(new AssertionError("a writer got in while the downgraded hold lasts"));
                }
                catch (final RegionBusyException | InterruptedException ex)
                {
                    other.set(ex);
                }
            });
            t.start();
            t.join();
            assertInstanceOf(RegionBusyException.class, other.get(), "no writer while the downgraded hold lasts");
        }
        try (WriteSection next = space.beginWrite(10, java.util.concurrent.TimeUnit.SECONDS))
        {
            assertTrue(next.sequence() % 2 == 1);
        }
    }

    @Test
    void closeReleasesTheWindowAndTheFiles() throws Exception
    {
        space.map(f1, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);
        final long start = space.windowStart();
        space.close();
        assertTrue(!space.isFileOpen(f1) && !space.isFileOpen(f2));
        assertTrue(ProcMaps.readWindow(start, start + WINDOW).isEmpty());
        space.close(); // idempotent
    }
}
