package io.regionmm.space;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Syscall;
import io.regionmm.kernel.fault.FaultInjectingKernel;
import io.regionmm.kernel.maps.ProcMaps;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A failed write whose undo fails too poisons the space: the error says so, every later write is refused, reads go
 * on, and close still releases the window and every descriptor.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PoisonedSpaceTest
{
    @TempDir
    Path dir;

    @Test
    void aFailedUndoPoisonsWritesButNotReadsAndCloseReleasesEverything() throws Exception
    {
        final Set<String> fdsBefore = fds();
        final FaultInjectingKernel kernel = new FaultInjectingKernel(Kernel.system(), 1);
        final AddressSpace space = AddressSpace.create(kernel, 64 * PAGE);
        final long base = space.windowStart();
        final FileHandle a = space.openFile(StampedFiles.create(dir, 1, 16), FileAccess.READ_WRITE);
        final FileHandle b = space.openFile(StampedFiles.create(dir, 2, 16), FileAccess.READ_WRITE);
        final long priv = space.map(a, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE);   // pages 0..4
        space.map(b, 0, 4 * PAGE, Protection.READ, Sharing.SHARED);                           // pages 4..8
        final long untouched = space.map(b, 8 * PAGE, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED); // 8..12
        try (Lease lease = space.lease(untouched))
        {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, 16, 0x5EEDL);
        }
        // Growing the PRIVATE region must move it (pages 4..8 are taken): mremap(DONTUNMAP) moves its pages, then
        // the file's next part is mapped after them. That mmap fails; the undo, mremap moving the pages back,
        // fails too.
        kernel.resetCounters();
        kernel.failNth(Syscall.MMAP, 1, Errno.ENOMEM);
        kernel.failNth(Syscall.MREMAP, 2, Errno.EAGAIN);
        final WriteSection w = space.beginWrite();
        final MappingException failed = assertThrows(MappingException.class, () -> w.remap(priv, 6 * PAGE, false));
        kernel.clearRules();

        // The error: the original failure, with the poison attached.
        assertEquals("remap", failed.operation());
        assertEquals("ENOMEM", failed.errnoName());
        assertEquals(Syscall.MMAP, failed.kernelCause().call());
        final SpacePoisonedException attached = assertInstanceOf(SpacePoisonedException.class,
            failed.getSuppressed()[0]);
        assertEquals("remap", attached.failedOperation());
        assertEquals("EAGAIN", attached.errnoName());
        assertTrue(attached.getMessage().contains("moving "), attached.getMessage());
        assertTrue(attached.getMessage().contains("mremap("), attached.getMessage());

        // Refused writes: the open section's next operation, then (once it is closed) every way in.
        assertPoisoned(() -> w.unmap(untouched, PAGE), "unmap");
        assertPoisoned(() -> w.split(untouched + PAGE), "split");
        w.close();
        assertPoisoned(space::beginWrite, "beginWrite");
        assertPoisoned(() -> space.beginWrite(1, TimeUnit.SECONDS), "beginWrite");
        assertPoisoned(() -> space.map(a, 8 * PAGE, PAGE, Protection.READ, Sharing.SHARED), "map");
        assertPoisoned(() -> space.unmap(untouched, PAGE), "unmap");
        assertPoisoned(() -> space.remap(untouched, 2 * PAGE, false), "remap");
        assertPoisoned(() -> space.protect(untouched, PAGE, Protection.READ), "protect");
        assertPoisoned(() -> space.lock(untouched, PAGE), "lock");
        assertPoisoned(() -> space.merge(untouched, 4 * PAGE), "merge");
        assertPoisoned(() -> space.releaseFile(a), "releaseFile");

        // Reads of a region the failure did not touch work, through every rung.
        assertEquals(stamp(2, 8), space.readLong(untouched));
        assertEquals(0x5EEDL, space.readLong(untouched + 16));
        assertEquals(stamp(2, 9), space.readLocked(untouched + PAGE, (r, m, off) -> m.get(ValueLayout.JAVA_LONG,
            off)));
        assertEquals(stamp(2, 9), space.read(untouched + PAGE, (r, m, off) -> m.get(ValueLayout.JAVA_LONG, off)));
        try (Lease lease = space.lease(untouched + 2 * PAGE))
        {
            assertEquals(stamp(2, 10), lease.getLong(2 * PAGE));
        }
        final byte[] bytes = new byte[8];
        space.read(untouched + 3 * PAGE, bytes, 0, 8);
        assertEquals(stamp(2, 11), ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getLong());
        assertEquals(3, space.regions().size());
        space.sync(untouched, 4 * PAGE, SyncMode.SYNC); // changes no mapping: still allowed, to flush before close

        // Close releases the window (every VMA of it, whatever the failed undo left) and every descriptor.
        space.close();
        assertTrue(space.isClosed());
        assertTrue(ProcMaps.readWindow(base, base + 64 * PAGE).isEmpty(), () -> "window VMAs left: " +
            ProcMaps.readWindow(base, base + 64 * PAGE));
        assertEquals(fdsBefore, fds());
        assertFalse(space.isFileOpen(a));
        // Closed is what a write hears now.
        assertThrows(SpaceClosedException.class, space::beginWrite);
    }

    @FunctionalInterface
    private interface Write
    {
        void run() throws Exception;
    }

    private static void assertPoisoned(final Write write, final String op)
    {
        final SpacePoisonedException ex = assertThrows(SpacePoisonedException.class, write::run, op);
        assertEquals(op, ex.operation());
        assertEquals("remap", ex.failedOperation());
        assertEquals("EAGAIN", ex.errnoName());
        assertTrue(ex.getMessage().startsWith(op + ": the address space is poisoned: undoing a failed remap failed ("),
            ex.getMessage());
        assertTrue(ex.getMessage().contains("may no longer match the kernel's mappings or the files"),
            ex.getMessage());
        assertTrue(ex.getMessage().contains("close the space"), ex.getMessage());
    }

    private static Set<String> fds() throws IOException
    {
        final Set<String> out = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd")))
        {
            for (final Path p : ds)
            {
                try
                {
                    final String target = Files.readSymbolicLink(p).toString();
                    if (!target.startsWith("/proc/") || !target.endsWith("/fd"))
                    {
                        out.add(p.getFileName() + " " + target);
                    }
                }
                catch (final IOException gone)
                {
                    // the listing's own descriptor
                }
            }
        }
        return out;
    }
}
