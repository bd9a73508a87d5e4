package io.regionmm.view.chronicle;

import io.regionmm.region.Protection;
import io.regionmm.space.Lease;
import io.regionmm.space.RangeLease;
import io.regionmm.space.RegionArgumentException;
import io.regionmm.space.WriteSection;
import io.regionmm.view.LeasedFile;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Chronicle views of a lease, on real mappings of real files. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ChronicleViewTest
{
    private static final int SIZE = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void writableStoreWritesReachTheFile() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE))
        {
            try (Lease lease = f.space.lease(f.address))
            {
                final BytesStore<?, Void> store = ChronicleView.writable(lease);
                assertEquals(SIZE, store.capacity());
                store.writeLong(8, 0x1122334455667788L);
                store.write(4096, new byte[] {1, 2, 3, 4});
                final Bytes<Void> out = store.bytesForWrite();
                out.writePosition(8192);
                out.writeInt(7);
                out.writeLong(-3L);
                assertEquals(0x1122334455667788L, ChronicleView.readOnly(lease).readLong(8), "a second view sees it");
                final Bytes<Void> in = ChronicleView.bytesForRead(lease);
                in.readPosition(8192);
                assertEquals(7, in.readInt());
                assertEquals(-3L, in.readLong());
            }
            assertEquals(0x1122334455667788L, f.fileLong(8));
            assertArrayEquals(new byte[] {1, 2, 3, 4}, f.fileBytes(4096, 4));
            assertEquals(7, (int)f.fileLong(8192));
            assertEquals(-3L, f.fileLong(8196));
        }
    }

    @Test
    void everyAccessAfterCloseIsAClearErrorNamingTheLease() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE))
        {
            final BytesStore<?, Void> reader;
            final BytesStore<?, Void> writer;
            final Bytes<Void> bytes;
            try (Lease lease = f.space.lease(f.address))
            {
                reader = ChronicleView.readOnly(lease);
                writer = ChronicleView.writable(lease);
                bytes = writer.bytesForWrite();
                writer.writeLong(0, 1);
            }
            // The range becomes a read-only tombstone: a write reaching it would be a SIGSEGV.
            f.space.unmap(f.address, SIZE);
            assertClosed(() -> reader.readLong(0));
            assertClosed(() -> reader.readByte(SIZE - 1));
            assertClosed(() -> reader.read(0, new byte[16], 0, 16));
            assertClosed(() -> reader.addressForRead(0));
            assertClosed(() -> writer.writeLong(0, 2));
            assertClosed(() -> writer.writeInt(0, 2));
            assertClosed(() -> writer.write(0, new byte[8], 0, 8));
            assertClosed(() -> writer.zeroOut(0, 64));
            assertClosed(() -> bytes.writeLong(3));
            assertTrue(reader.toString().contains("closed"), reader.toString());
        }
    }

    private static void assertClosed(final Runnable access)
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class, access::run);
        assertTrue(e.getMessage().contains(": the lease on 0x") && e.getMessage().contains("is closed"),
            e.getMessage());
    }

    @Test
    void aReadRegionsStoreRefusesEveryStoreAndItsFileIsUnchanged() throws Exception
    {
        final byte[] content = new byte[SIZE];
        Arrays.fill(content, (byte)0x5A);
        try (LeasedFile f = LeasedFile.map(dir.resolve("ro"), SIZE, Protection.READ))
        {
            f.writeFile(0, content);
            try (Lease lease = f.space.lease(f.address))
            {
                final IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> ChronicleView.writable(lease));
                assertTrue(e.getMessage().startsWith("ChronicleView.writable: region 0x") &&
                    e.getMessage().contains("read-only"), e.getMessage());
                final BytesStore<?, Void> store = ChronicleView.readOnly(lease);
                assertEquals((byte)0x5A, store.readByte(SIZE - 1));
                assertReadOnly(() -> store.writeLong(0, 1));
                assertReadOnly(() -> store.writeByte(0, (byte)1));
                assertReadOnly(() -> store.write(0, new byte[8], 0, 8));
                assertReadOnly(() -> store.zeroOut(0, SIZE));
                assertReadOnly(() -> store.compareAndSwapLong(0, 0x5A5A5A5A5A5A5A5AL, 1));
                assertReadOnly(() -> store.addressForWrite(0));
                assertReadOnly(store::bytesForWrite);
            }
            assertArrayEquals(content, f.fileBytes(0, SIZE));
        }
    }

    private static void assertReadOnly(final Runnable store)
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class, store::run);
        assertTrue(e.getMessage().contains("is read-only"), e.getMessage());
    }

    @Test
    void aRangeLeaseOverSeveralRegionsIsOneStore() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), 3 * SIZE, Protection.READ_WRITE))
        {
            try (WriteSection w = f.space.beginWrite())
            {
                w.split(f.address + SIZE);
                w.split(f.address + 2 * SIZE);
            }
            try (RangeLease lease = f.space.leaseRange(f.address, 3 * SIZE))
            {
                assertEquals(3, lease.regions().size());
                final BytesStore<?, Void> store = ChronicleView.writable(lease);
                assertEquals(3 * SIZE, store.capacity());
                store.writeLong(2 * SIZE - 4, -2L); // straddles the last two regions
                assertEquals(-2L, ChronicleView.readOnly(lease).readLong(2 * SIZE - 4));
            }
            assertEquals(-2L, f.fileLong(2 * SIZE - 4));
            f.space.protect(f.address, SIZE, Protection.READ);
            try (RangeLease lease = f.space.leaseRange(f.address, 3 * SIZE))
            {
                assertThrows(IllegalStateException.class, () -> ChronicleView.writable(lease));
                assertEquals(-2L, ChronicleView.readOnly(lease).readLong(2 * SIZE - 4));
            }
        }
    }

    @Test
    void badInputIsRefused() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE);
             Lease lease = f.space.lease(f.address))
        {
            final BytesStore<?, Void> store = ChronicleView.writable(lease);
            final IndexOutOfBoundsException past =
                assertThrows(IndexOutOfBoundsException.class, () -> store.writeLong(SIZE - 4, 1));
            assertTrue(past.getMessage().startsWith("writeLong: [" + (SIZE - 4) + ", +8)"), past.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> store.writeInt(-1, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> store.write(SIZE - 2, new byte[4], 0, 4));
            assertThrows(UnsupportedOperationException.class,
                () -> ((net.openhft.chronicle.bytes.PointerBytesStore)store).set(0x1000, 8));
            assertThrows(NullPointerException.class, () -> ChronicleView.readOnly((Lease)null));
            assertEquals(0, store.readLong(SIZE - 8), "the refused stores changed nothing");
        }
    }

    @Test
    void aStoreIsConfinedToTheLeasesThreadLikeTheLease() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE);
             Lease lease = f.space.lease(f.address))
        {
            final BytesStore<?, Void> store = ChronicleView.writable(lease);
            store.writeLong(0, 5);
            final Throwable read = CompletableFuture.supplyAsync(() -> thrown(() -> store.readLong(0)))
                .get(30, TimeUnit.SECONDS);
            final Throwable write = CompletableFuture.supplyAsync(() -> thrown(() -> store.writeLong(0, 6)))
                .get(30, TimeUnit.SECONDS);
            assertInstanceOf(WrongThreadException.class, read);
            assertInstanceOf(WrongThreadException.class, write);
            assertEquals(5, store.readLong(0), "the other thread changed nothing; the owner's store still works");
        }
    }

    @Test
    void aLeaseFromAnotherThreadGetsNoView() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("rw"), SIZE, Protection.READ_WRITE);
             Lease lease = f.space.lease(f.address))
        {
            final Throwable t = CompletableFuture.supplyAsync(() -> thrown(() -> ChronicleView.readOnly(lease)))
                .get(30, TimeUnit.SECONDS);
            assertInstanceOf(WrongThreadException.class, t);
            assertInstanceOf(RegionArgumentException.class, thrown(() -> io.regionmm.view.AgronaView.readOnly(lease,
                SIZE, 1)));
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
