package io.regionmm.view;

import io.regionmm.region.Protection;
import io.regionmm.space.Lease;
import io.regionmm.space.RangeLease;
import io.regionmm.space.RegionArgumentException;
import io.regionmm.space.WriteSection;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Agrona views of a lease, on real mappings of real files. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgronaViewTest
{
    private static final int SIZE = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void writableViewWritesReachTheFile() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE))
        {
            try (Lease lease = f.space.lease(f.address))
            {
                final MutableDirectBuffer b = AgronaView.writable(lease);
                assertEquals(SIZE, b.capacity());
                b.putLong(8, 0x1122334455667788L);
                b.putStringAscii(4096, "regionmm");
                assertEquals(0x1122334455667788L, AgronaView.readOnly(lease).getLong(8), "a second view sees it");
                final MutableDirectBuffer window = AgronaView.writable(lease, 8192, 16);
                window.putInt(0, 7); // index 0 of a window is its offset in the region
            }
            assertEquals(0x1122334455667788L, f.fileLong(8));
            final DirectBuffer expected = new UnsafeBuffer(new byte[12]);
            ((UnsafeBuffer)expected).putStringAscii(0, "regionmm");
            assertArrayEquals(expected.byteArray(), f.fileBytes(4096, 12));
            assertEquals(7, (int)f.fileLong(8192));
        }
    }

    @Test
    void everyAccessAfterCloseIsAClearErrorNamingTheLease() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE))
        {
            final DirectBuffer reader;
            final MutableDirectBuffer writer;
            try (Lease lease = f.space.lease(f.address))
            {
                reader = AgronaView.readOnly(lease);
                writer = AgronaView.writable(lease);
                writer.putLong(0, 1);
            }
            // The range is remapped read-only: a write reaching it now would be a SIGSEGV, a read would see the new
            // mapping; both must stop at the guard.
            f.space.unmap(f.address, SIZE);
            try (LeasedFile other = LeasedFile.map(dir.resolve("ro"), SIZE, Protection.READ))
            {
                assertTrue(other.address != 0);
                assertClosed(() -> reader.getLong(0), "getLong");
                assertClosed(() -> reader.getBytes(0, new byte[16]), "getBytes");
                assertClosed(() -> reader.getStringAscii(0), "getStringAscii");
                assertClosed(reader::addressOffset, "addressOffset");
                assertClosed(() -> writer.putLong(0, 2), "putLong");
                assertClosed(() -> writer.setMemory(0, 64, (byte)1), "setMemory");
                assertClosed(() -> writer.putBytes(0, reader, 0, 8), "putBytes");
                assertTrue(reader.toString().contains("closed"), reader.toString());
            }
        }
    }

    private static void assertClosed(final Runnable access, final String op)
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class, access::run, op);
        assertTrue(e.getMessage().startsWith(op + ": the lease on 0x") && e.getMessage().contains("is closed"),
            e.getMessage());
    }

    @Test
    void aReadRegionGetsNoWritableViewAndItsFileIsUnchanged() throws Exception
    {
        final byte[] content = new byte[SIZE];
        Arrays.fill(content, (byte)0x5A);
        final Path path = dir.resolve("ro");
        try (LeasedFile f = LeasedFile.map(path, SIZE, Protection.READ))
        {
            f.writeFile(0, content);
            try (Lease lease = f.space.lease(f.address))
            {
                final IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> AgronaView.writable(lease));
                assertTrue(e.getMessage().startsWith("AgronaView.writable: region 0x") &&
                    e.getMessage().contains("read-only"), e.getMessage());
                assertThrows(IllegalStateException.class, () -> AgronaView.writable(lease, 0, 8));
                final DirectBuffer b = AgronaView.readOnly(lease);
                assertFalse(b instanceof MutableDirectBuffer, "a read-only view cannot be cast to a mutable one");
                assertEquals((byte)0x5A, b.getByte(SIZE - 1));
                assertThrows(UnsupportedOperationException.class, () -> b.wrap(new byte[8]));
            }
            assertArrayEquals(content, f.fileBytes(0, SIZE));
        }
    }

    @Test
    void aRangeLeaseOverSeveralRegionsIsOneView() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), 3 * SIZE, Protection.READ_WRITE))
        {
            try (WriteSection w = f.space.beginWrite())
            {
                w.split(f.address + SIZE);
                w.split(f.address + 2 * SIZE);
            }
            assertEquals(3, f.space.regions().size());
            try (RangeLease lease = f.space.leaseRange(f.address, 3 * SIZE))
            {
                assertEquals(3, lease.regions().size());
                final MutableDirectBuffer b = AgronaView.writable(lease);
                assertEquals(3 * SIZE, b.capacity());
                b.putLong(SIZE - 4, -2L); // straddles the first two regions
                b.putLong(3 * SIZE - 8, 99);
                assertEquals(-2L, AgronaView.readOnly(lease, SIZE - 4, 8).getLong(0));
            }
            assertEquals(-2L, f.fileLong(SIZE - 4));
            assertEquals(99, f.fileLong(3 * SIZE - 8));

            f.space.protect(f.address + SIZE, SIZE, Protection.READ);
            try (RangeLease lease = f.space.leaseRange(f.address, 3 * SIZE))
            {
                final IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> AgronaView.writable(lease));
                assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                assertEquals(-2L, AgronaView.readOnly(lease).getLong(SIZE - 4));
            }
        }
    }

    @Test
    void badInputIsRefusedWithTheOperationAndTheArgument() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE))
        {
            try (Lease lease = f.space.lease(f.address))
            {
                final RegionArgumentException outside = assertThrows(RegionArgumentException.class,
                    () -> AgronaView.readOnly(lease, SIZE - 8, 16));
                assertEquals("AgronaView.readOnly", outside.operation());
                assertTrue(outside.getMessage().contains("[" + (SIZE - 8) + ", +16)"), outside.getMessage());
                assertThrows(RegionArgumentException.class, () -> AgronaView.writable(lease, -1, 8));
                assertThrows(RegionArgumentException.class, () -> AgronaView.writable(lease, 0, -1));
                final MutableDirectBuffer b = AgronaView.writable(lease);
                assertThrows(IndexOutOfBoundsException.class, () -> b.putLong(SIZE - 4, 1));
                assertThrows(IndexOutOfBoundsException.class, () -> b.getLong(-1));
                assertThrows(UnsupportedOperationException.class, () -> b.wrap(0L, 8));
                final NullPointerException none =
                    assertThrows(NullPointerException.class, () -> AgronaView.readOnly((Lease)null));
                assertEquals("AgronaView.readOnly: lease", none.getMessage());
            }
        }
    }

    @Test
    void aLeaseOverTwoGigabytesIsViewedInWindows() throws Exception
    {
        final long big = (3L << 30) + SIZE; // a sparse file: nothing is read but one page
        try (LeasedFile f = LeasedFile.map(dir.resolve("big"), big, Protection.READ);
             Lease lease = f.space.lease(f.address))
        {
            final RegionArgumentException e =
                assertThrows(RegionArgumentException.class, () -> AgronaView.readOnly(lease));
            assertTrue(e.getMessage().contains(big + " bytes") && e.getMessage().contains("windows"),
                e.getMessage());
            final DirectBuffer tail = AgronaView.readOnly(lease, big - SIZE, SIZE);
            assertEquals(0, tail.getLong(SIZE - 8));
        }
    }

    @Test
    void aViewIsConfinedToTheLeasesThreadLikeTheLease() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE);
             Lease lease = f.space.lease(f.address))
        {
            final MutableDirectBuffer b = AgronaView.writable(lease);
            b.putLong(0, 5);
            final Throwable read = CompletableFuture.supplyAsync(() -> thrown(() -> b.getLong(0)))
                .get(30, TimeUnit.SECONDS);
            final Throwable write = CompletableFuture.supplyAsync(() -> thrown(() -> b.putLong(0, 6)))
                .get(30, TimeUnit.SECONDS);
            assertInstanceOf(WrongThreadException.class, read);
            assertInstanceOf(WrongThreadException.class, write);
            assertTrue(read.getMessage().contains("belong to thread " + Thread.currentThread().getName()),
                read.getMessage());
            assertEquals(5, b.getLong(0), "the other thread changed nothing; the owner's view still works");
            assertEquals(5, lease.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG, 0),
                "the lease's read-only segment is the one to share");
        }
    }

    private static Throwable thrown(final Runnable r)
    {
        try
        {
            r.run();
            return null;
        }
        catch (final RuntimeException e)
        {
            return e;
        }
    }
}
