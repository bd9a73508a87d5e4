package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trust findings 3, 4 and 5: pins are counted per thread, so a lease holder never waits for a writer that waits for
 * its lease. Its reads under the mm lock barge past queued writers and throw when the writer that holds the lock
 * waits for one of its pins (finding 3: they deadlocked); it cannot write at all, and a section cannot wait for a pin
 * of its own thread (finding 4: self-deadlock); and only the thread that took a lease may close it, once (finding 5:
 * another thread's close dropped the pin from under its owner).
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustPinHolderTest extends TrustFixture
{
    private static final String WAITS_FOR_MY_PIN = "waits for this thread's pin";

    // ------------------------------------------------------------------ finding 3: reads behind a waiting writer

    @Test
    void aLeaseHoldersReadsBehindAWriterThatWaitsForItsPinCompleteOrThrowButNeverHang() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long gap = space.windowStart() + pages(100);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        holder.lease(x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the writer draining x");

        final Map<String, Outcome> o = holder.call(() -> {
            final Map<String, Outcome> m = new LinkedHashMap<>();
            m.put("regions", Outcome.of(space::regions));
            m.put("readLocked", Outcome.of(() -> space.readLocked(y + PAGE, LONG)));
            m.put("readLong x", Outcome.of(() -> space.readLong(x + PAGE)));
            m.put("read(address, f) x", Outcome.of(() -> space.read(x + PAGE, LONG)));
            m.put("bulk read x", Outcome.of(() -> {
                final long[] into = new long[1];
                space.read(x + PAGE, MemorySegment.ofArray(into));
                return into[0];
            }));
            m.put("lease x", Outcome.of(() -> space.lease(x + PAGE)));
            m.put("lease gap", Outcome.of(() -> space.lease(gap)));
            m.put("leaseRange x", Outcome.of(() -> space.leaseRange(x, PAGE)));
            m.put("verify", Outcome.of(() -> {
                space.verify();
                return null;
            }));
            m.put("checkAgainstKernel", Outcome.of(space::checkAgainstKernel));
            m.put("sync", Outcome.of(() -> {
                space.sync(y, PAGE, SyncMode.ASYNC);
                return null;
            }));
            // These need no lock while the writer leaves y alone, or never take it.
            m.put("readLong y", Outcome.of(() -> space.readLong(y + PAGE)));
            m.put("read(address, f) y", Outcome.of(() -> space.read(y + PAGE, LONG)));
            m.put("bulk read gap", Outcome.of(() -> {
                space.read(gap, MemorySegment.ofArray(new long[1]));
                return null;
            }));
            m.put("readNoWait x", Outcome.of(() -> space.readNoWait(x + PAGE, LONG, -1L)));
            m.put("lease y", Outcome.of(() -> {
                try (Lease l = space.lease(y))
                {
                    return l.getLong(PAGE);
                }
            }));
            return m;
        });
        // Under the mm lock, which the writer holds: they would wait for it, so they throw.
        for (final String op : List.of("regions", "readLocked", "lease x", "lease gap", "leaseRange x",
            "verify", "checkAgainstKernel", "sync"))
        {
            final Outcome r = o.get(op);
            assertInstanceOf(IllegalStateException.class, r.thrown(), () -> op + " " + r);
            assertTrue(r.thrown().getMessage().contains(WAITS_FOR_MY_PIN), () -> op + " " + r);
        }
        // The region's own lock word is not set until the drain is over (x cannot change before): these may
        // validate a speculative copy of x, or fall back to the lock and throw like the others.
        for (final String op : List.of("readLong x", "read(address, f) x"))
        {
            final Outcome r = o.get(op);
            assertTrue(Long.valueOf(stamp(1, 1)).equals(r.value()) || r.thrown() instanceof IllegalStateException &&
                r.thrown().getMessage().contains(WAITS_FOR_MY_PIN), () -> op + " " + r);
        }
        // A bulk read inside the holder's own leased region needs no lock at all: its pin keeps the bytes still.
        assertEquals(stamp(1, 1), o.get("bulk read x").value(), o.get("bulk read x")::toString);
        assertEquals(stamp(2, 1), o.get("readLong y").value(), o.get("readLong y")::toString);
        assertEquals(stamp(2, 1), o.get("read(address, f) y").value(), o.get("read(address, f) y")::toString);
        assertInstanceOf(
            RegionArgumentException.class, o.get("bulk read gap").thrown(), o.get("bulk read gap")::toString);
        final Object noWait = o.get("readNoWait x").value();
        assertTrue(Long.valueOf(stamp(1, 1)).equals(noWait) || Long.valueOf(-1L).equals(noWait),
            o.get("readNoWait x")::toString);
        assertEquals(stamp(2, 1), o.get("lease y").value(), o.get("lease y")::toString);

        assertFalse(unmap.isDone(), "the writer went ahead under the lease");
        holder.closePins();
        get(unmap, "the unmap after the lease closed");
        assertNull(space.mm().snapshot().find(x));
        space.verify();
    }

    @Test
    void aLeaseHoldersReadQueuedBehindAWriterThatThenWaitsForItsPinThrowsInsteadOfHanging() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane slow = lane("slow reader");
        final Lane writer = lane("writer");
        holder.lease(x);
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch letGo = new CountDownLatch(1);
        try
        {
            final Future<Long> slowRead = slow.submit(() -> space.readLocked(y, (r, memory, offset) -> {
                inside.countDown();
                awaitUninterruptibly(letGo);
                return LONG.apply(r, memory, offset);
            }));
            await(inside, "the slow reader holding the mm lock shared");
            final Future<Void> unmap = writer.submit(() -> {
                space.unmap(x, pages(4));
                return null;
            });
            awaitTrue(space.mm().lock::hasQueuedThreads, "the writer queueing behind the slow reader");
            // The holder queues fairly behind that writer (barging past it let lease holders starve writers);
            // once the writer has the lock and waits for the holder's pin, the holder's read gives up.
            final Future<List<Region>> list = holder.submit(space::regions);
            letGo.countDown();
            assertEquals(stamp(2, 0), get(slowRead, "the slow reader"));
            final ExecutionException e = assertThrows(ExecutionException.class,
                () -> list.get(BOUND_SECONDS, TimeUnit.SECONDS), "the holder's read under the lock");
            assertInstanceOf(IllegalStateException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains(WAITS_FOR_MY_PIN), e.getCause().getMessage());
            assertFalse(unmap.isDone(), "the writer went ahead under the lease");
            holder.closePins();
            get(unmap, "the unmap after the lease closed");
        }
        finally
        {
            letGo.countDown();
        }
        assertEquals(1, space.regions().size());
        space.verify();
    }

    @Test
    void aLeaseHolderReadsWhatItPinsWhileAWriterWaitsForThatPin() throws Exception
    {
        // Every read of a region this thread pins succeeds while a writer drains that pin: speculation holds (the
        // region's lockSeq is set only after the drain), and a range read, whose speculation fails on the logged
        // region, is served under the thread's own pin; the shared mm lock would be refused (its writer waits for
        // this very pin).
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        holder.lease(x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the writer draining x");
        assertEquals(stamp(1, 0), get(holder.submit(() -> space.read(x, LONG)), "the holder's read"));
        assertEquals(stamp(1, 0), get(holder.submit(() -> space.readNoWait(x, LONG, -1)), "the holder's readNoWait"));
        assertEquals(stamp(1, 0), get(holder.submit(() -> space.readLong(x)), "the holder's readLong"));
        final long before = space.readCounts().pinned();
        final byte[] bulk = new byte[Long.BYTES];
        get(holder.submit(() -> {
            space.read(x, bulk, 0, bulk.length);
            return null;
        }), "the holder's bulk read");
        assertEquals(stamp(1, 0), java.nio.ByteBuffer.wrap(bulk).order(java.nio.ByteOrder.nativeOrder()).getLong());
        assertEquals(before + 1, space.readCounts().pinned(), "the bulk read served under the holder's pin");
        assertFalse(unmap.isDone(), "the writer went ahead under the lease");
        holder.closePins();
        get(unmap, "the unmap after the lease closed");
        assertEquals(0, space.regions().size());
        space.verify();
    }

    @Test
    void aLeaseHoldersReadWaitsForAWriterThatWaitsOnlyForSomeoneElse() throws Exception
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
        final CountDownLatch started = new CountDownLatch(1);
        final Future<List<Region>> list = holderOfY.submit(() -> {
            started.countDown();
            return space.regions();
        });
        await(started, "the holder of y's read");
        // It parks for the mm lock (its pin is not what the writer waits for), and neither throws nor returns.
        awaitTrue(() -> list.isDone() || LockSupport.getBlocker(holderOfY.thread) != null,
            "the holder of y parking for the mm lock");
        assertFalse(list.isDone(), () -> "the holder of y did not wait for the writer: " + Outcome.of(list::get));
        holderOfX.closePins();
        get(unmap, "the unmap after x's lease closed");
        final List<Region> after = get(list, "the holder of y's read");
        assertEquals(1, after.size(), "it read the map as the writer left it");
        assertEquals(y, after.getFirst().start());
    }

    // ------------------------------------------------------------------ finding 4: a lease holder writes

    @Test
    void aLeaseHolderCannotMapNextToItsLeasedRegionAndNothingChanges() throws Exception
    {
        final long a = space.map(f1, 0, PAGE, Protection.READ_WRITE, Sharing.SHARED);
        final List<Region> before = space.regions();
        final Lane holder = lane("holder");
        holder.call(() -> {
            try (Lease lease = space.lease(a))
            {
                // The map would merge with the leased region: write-lock it, i.e. wait for this very lease.
                final IllegalStateException e = assertThrows(IllegalStateException.class, () -> space.map(f1, PAGE,
                    PAGE, Protection.READ_WRITE, Sharing.SHARED, MapOptions.DEFAULT.at(a + PAGE)));
                assertTrue(e.getMessage().contains("pin"), e::getMessage);
                assertThrows(IllegalStateException.class, () -> space.unmap(a, PAGE));
                assertThrows(IllegalStateException.class, () -> space.protect(a, PAGE, Protection.READ));
                assertThrows(IllegalStateException.class, space::beginWrite);
                assertThrows(IllegalStateException.class, () -> space.beginWrite(1, TimeUnit.SECONDS));
                assertEquals(stamp(1, 0), lease.getLong(0));
            }
            return null;
        });
        assertEquals(before, space.regions(), "the refused map changed the map");
        space.verify();
        assertThrows(RegionArgumentException.class, () -> space.readLong(a + PAGE), "a + PAGE was mapped");
        // Without the lease the same map goes through (and merges).
        space.map(f1, PAGE, PAGE, Protection.READ_WRITE, Sharing.SHARED, MapOptions.DEFAULT.at(a + PAGE));
        assertEquals(1, space.regions().size());
        assertEquals(stamp(1, 1), space.readLong(a + PAGE));
    }

    @Test
    void aLeaseHolderCannotWriteOrCloseWhileAWriterWaitsForItsPin() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        holder.lease(x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the writer draining x");
        holder.call(() -> {
            // Even a change far from x: queued for the mm lock, the holder would wait for the writer, which waits
            // for it.
            assertThrows(IllegalStateException.class, () -> space.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED,
                MapOptions.DEFAULT.at(space.windowStart() + pages(100))));
            // Opening a file changes no mapping and waits for nobody: allowed to a lease holder (releasing is a write).
            assertTrue(space.isFileOpen(space.openFile(p2, FileAccess.READ_ONLY)));
            assertThrows(IllegalStateException.class, space::beginWrite);
            assertThrows(IllegalStateException.class, () -> space.beginWrite(1, TimeUnit.SECONDS));
            assertThrows(IllegalStateException.class, space::close);
            assertThrows(IllegalStateException.class, () -> space.close(1, TimeUnit.SECONDS));
            return null;
        });
        assertFalse(space.isClosed());
        assertFalse(unmap.isDone(), "the writer went ahead under the lease");
        holder.closePins();
        get(unmap, "the unmap after the lease closed");
        assertEquals(0, space.regions().size());
        space.verify();
    }

    @Test
    void closeFromALeaseHolderThrowsAndTheSpaceStaysOpen() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane holder = lane("holder");
        holder.call(() -> {
            try (Lease lease = space.lease(x))
            {
                final IllegalStateException e = assertThrows(IllegalStateException.class, space::close);
                assertTrue(e.getMessage().contains("pin"), e::getMessage);
                assertFalse(space.isClosed());
                assertEquals(stamp(1, 1), lease.getLong(PAGE));
            }
            return null;
        });
        assertFalse(space.isClosed());
        assertEquals(stamp(1, 2), space.readLong(x + pages(2)));
        space.verify();
        space.unmap(x, PAGE);
    }

    @Test
    void aLeaseTakenInsideASectionMakesTheSectionsChangeOfItsRegionThrowNotHang() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Region rx = space.mm().snapshot().find(x);
        final Lane section = lane("section");
        section.call(() -> {
            try (WriteSection w = space.beginWrite())
            {
                final Lease lease = space.lease(x + PAGE);
                final IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.unmap(x, pages(4)));
                assertTrue(e.getMessage().contains("pins"), e::getMessage);
                assertThrows(IllegalStateException.class, () -> w.protect(x, PAGE, Protection.READ));
                assertThrows(IllegalStateException.class, () -> space.unmap(x, pages(4)), "a joined one-shot");
                assertEquals(rx, space.mm().snapshot().find(x), "the refused unmap changed the map");
                assertEquals(stamp(1, 1), lease.getLong(PAGE));
                assertEquals(w.sequence(), space.mm().lock.sequence());
                lease.close();
                w.unmap(x, pages(2)); // the lease is gone: the same section can now
            }
            return null;
        });
        assertEquals(pages(2), space.regions().getFirst().length());
        assertEquals(stamp(1, 3), space.readLong(x + pages(3)));
        space.verify();
    }

    // ------------------------------------------------------------------ finding 5: who closes a lease

    @Test
    void aLeaseClosedFromAnotherThreadThrowsKeepsItsPinAndItsOwnerStillClosesIt() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Lane owner = lane("owner");
        final Lease lease = owner.lease(x);
        closeFromAnotherThreadKeepsThePins(owner, lease, x, pages(4), () -> List.of(lease.region()));
    }

    @Test
    void aRangeLeaseClosedFromAnotherThreadThrowsKeepsItsPinsAndItsOwnerStillClosesThem() throws Exception
    {
        final long x = space.map(f1, 0, pages(2), Protection.READ_WRITE, Sharing.SHARED);
        final long y = space.map(f1, pages(2), pages(2), Protection.READ, Sharing.SHARED); // adjacent, no merge
        assertEquals(x + pages(2), y);
        final Lane owner = lane("owner");
        final RangeLease lease = owner.leaseRange(x + PAGE, pages(2));
        assertEquals(2, lease.regions().size());
        closeFromAnotherThreadKeepsThePins(owner, lease, x, pages(4), lease::regions);
    }

    private void closeFromAnotherThreadKeepsThePins(final Lane owner, final PinOwner lease, final long start,
        final long length, final Supplier<List<Region>> pinned) throws Exception
    {
        final Lane other = lane("other");
        final Lane writer = lane("writer");
        final WrongThreadException wrong = other.call(() -> assertThrows(WrongThreadException.class, lease::close));
        assertTrue(wrong.getMessage().contains(owner.name), wrong::getMessage);
        assertFalse(lease.isClosed());
        for (final Region r : pinned.get())
        {
            assertEquals(1, r.readers(), () -> r + " lost its pin");
        }
        // The pin still holds writers off.
        writer.call(() -> {
            try (WriteSection w = space.beginWrite(200, TimeUnit.MILLISECONDS))
            {
                assertThrows(RegionBusyException.class, () -> w.unmap(start, length), "the pin was dropped");
            }
            return null;
        });
        owner.call(() -> {
            lease.close();
            lease.close(); // idempotent
            return null;
        });
        assertTrue(lease.isClosed());
        for (final Region r : pinned.get())
        {
            assertEquals(0, r.readers(), r::toString);
            assertFalse(r.isDetached(), () -> r + " was unpinned twice");
        }
        // Counted once: a new lease pins and unpins the same regions, and a writer goes through.
        owner.call(() -> {
            try (RangeLease again = space.leaseRange(start, length))
            {
                for (final Region r : again.regions())
                {
                    assertEquals(1, r.readers(), r::toString);
                }
            }
            return null;
        });
        writer.call(() -> {
            space.unmap(start, length);
            return null;
        });
        assertEquals(0, space.regions().size());
        space.verify();
    }

    @Test
    @SuppressWarnings("try") // closing inside the try is the point: a second close (and the try's) must change nothing
    void closingALeaseTwiceOnItsThreadDropsItsPinOnce() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Region rx = space.mm().snapshot().find(x);
        try (Lease first = space.lease(x); Lease second = space.lease(x + PAGE))
        {
            assertEquals(2, rx.readers());
            first.close();
            first.close();
            assertEquals(1, rx.readers(), "a second close dropped another lease's pin");
            assertEquals(stamp(1, 1), second.getLong(PAGE));
            assertThrows(IllegalStateException.class, () -> first.getLong(0), "a closed lease still reads");
        }
        assertEquals(0, rx.readers());
        assertFalse(rx.isDetached());
        try (RangeLease range = space.leaseRange(x, pages(4)))
        {
            range.close();
            range.close();
        }
        assertEquals(0, rx.readers());
        assertFalse(rx.isDetached());
        try (Lease again = space.lease(x))
        {
            assertEquals(1, rx.readers());
            assertEquals(stamp(1, 0), again.getLong(0));
        }
        space.unmap(x, pages(4));
        space.verify();
    }

    private static void awaitUninterruptibly(final CountDownLatch latch)
    {
        boolean interrupted = false;
        while (true)
        {
            try
            {
                if (!latch.await(BOUND_SECONDS, TimeUnit.SECONDS))
                {
                    throw new AssertionError("never released");
                }
                break;
            }
            catch (final InterruptedException ex)
            {
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }
}
