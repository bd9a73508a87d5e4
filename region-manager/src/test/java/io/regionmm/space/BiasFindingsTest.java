package io.regionmm.space;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.RacePoint;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Outside review of the reader bias (BRAVO), through the public API.
 *
 * <p>Finding B1 (the tests under "finding B1" FAIL on ad8ae9c): a write that gives up on a lease at its deadline
 * (beginWriteNonBlocking, beginWrite(timeout), close(timeout), and close() itself every ten seconds) clears the
 * region's reader bias and leaves it cleared, while the lease it gave up on is pinned through the visible-readers
 * table, not the count. The next write of the region (the same section's retry, any later section, the next close)
 * loads bias 0, does not scan, finds the count drained and goes ahead: it unmaps, re-protects or closes under an open
 * lease. A lease is pinned through the table from its region's second lease on (the first, counted, biases it).
 *
 * <p>The controls under "holds" pass.
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BiasFindingsTest extends TrustFixture
{
    /**
     * On {@code holder}'s thread: one lease closed (a counted pin, which biases the region), then one kept, pinned
     * through the region's slot.
     */
    private Lease biasedLease(final Lane holder, final long x) throws Exception
    {
        assertEquals(stamp(1, 1), holder.call(() -> {
            try (Lease l = space.lease(x))
            {
                return l.getLong(PAGE);
            }
        }));
        final Region r = space.regionAt(x);
        assertTrue(MmLock.isReaderBiased(r), "a counted lease biases its region");
        final Lease lease = holder.lease(x);
        assertEquals(1, r.readers());
        assertEquals(stamp(1, 1), holder.call(() -> lease.getLong(PAGE)));
        return lease;
    }

    /**
     * Waits (bounded) until the write on {@code lane} completed or its thread parked (draining a lease: the only
     * place these writes park).
     *
     * @return true when it completed without parking.
     */
    private static boolean completedWithoutParking(final Future<?> f, final Lane lane)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
        while (System.nanoTime() < deadline)
        {
            if (f.isDone())
            {
                return true;
            }
            final Thread.State s = lane.thread.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
            {
                return f.isDone(); // an idle lane waits too, but only once its task is done
            }
            Thread.onSpinWait();
        }
        return fail("the writer neither completed nor parked within " + BOUND_SECONDS + " s");
    }

    private static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    // ------------------------------------------------------------------ finding B1 (fail)

    @Test
    void aNonBlockingSectionThatGaveUpOnABiasedLeaseUnmapsItsRegionWhenItTriesAgain() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Region r = space.regionAt(x);
        final Lane holder = lane("holder");
        final Lease lease = biasedLease(holder, x);
        final Outcome retry;
        try (WriteSection w = space.beginWriteNonBlocking())
        {
            assertThrows(RegionBusyException.class, () -> w.unmap(x, pages(4)), "x is leased");
            assertEquals(1, r.readers(), "still leased");
            // "Either way that operation changed nothing and the section stays usable": so the caller tries again.
            retry = Outcome.of(() -> {
                w.unmap(x, pages(4));
                return null;
            });
        }
        final long seen = holder.call(() -> lease.getLong(PAGE));
        assertTrue(retry.thrown() instanceof RegionBusyException, () -> "the retry " + retry + " with " + r +
            " still leased; the lease then read " + hex(seen) + " where its file has " + hex(stamp(1, 1)) +
            " (region detached: " + r.isDetached() + ")");
        assertEquals(stamp(1, 1), seen);
    }

    @Test
    void aBlockingUnmapAfterANonBlockingOneGaveUpDoesNotWaitForTheLease() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        final Lease lease = biasedLease(holder, x);
        // The common pattern: try without waiting, then wait.
        try (WriteSection w = space.beginWriteNonBlocking())
        {
            assertThrows(RegionBusyException.class, () -> w.unmap(x, pages(4)), "x is leased");
        }
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4)); // no timeout: must wait for the lease
            return null;
        });
        await(draining, "the unmap write-locking x");
        final boolean completed = completedWithoutParking(unmap, writer);
        final long seen = holder.call(() -> lease.getLong(PAGE));
        holder.closePins();
        get(unmap, "the unmap");
        assertFalse(completed, () -> "space.unmap went through an open lease on x, which then read " + hex(seen) +
            " (a tombstone) where its file has " + hex(stamp(1, 1)));
        assertEquals(stamp(1, 1), seen);
        assertNull(space.regionAt(x));
    }

    @Test
    void aTimedSectionAfterOneThatGaveUpChangesALeasedRegion() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final Region r = space.regionAt(x);
        final Lane holder = lane("holder");
        biasedLease(holder, x);
        try (WriteSection w = space.beginWrite(1, TimeUnit.MILLISECONDS))
        {
            assertThrows(RegionBusyException.class, () -> w.protect(x, pages(4), Protection.READ), "x is leased");
        }
        // The holder writes nothing from here on: a write to a region protected to READ under it would kill the JVM.
        final Outcome second = Outcome.of(() -> {
            try (WriteSection w = space.beginWrite(200, TimeUnit.MILLISECONDS))
            {
                w.protect(x, pages(4), Protection.READ);
            }
            return null;
        });
        assertTrue(second.thrown() instanceof RegionBusyException, () -> "the second timed section " + second +
            " with " + r + " leased (readers() = " + r.readers() + "); x is now " + space.regionAt(x).protection());
        assertEquals(Protection.READ_WRITE, space.regionAt(x).protection());
    }

    @Test
    void aTimedCloseAfterOneThatGaveUpClosesTheSpaceUnderALease() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lease lease = biasedLease(holder, x);
        assertThrows(RegionBusyException.class, () -> space.close(0, TimeUnit.MILLISECONDS), "x is leased");
        final Outcome second = Outcome.of(() -> {
            space.close(200, TimeUnit.MILLISECONDS);
            return null;
        });
        final Outcome read = Outcome.of(() -> holder.call(() -> lease.getLong(PAGE)));
        assertFalse(space.isClosed(), () -> "close(200 ms) " + second + " and closed the space under an open " +
            "lease; the lease's read then " + read);
        assertTrue(second.thrown() instanceof RegionBusyException, second::toString);
    }

    /**
     * close() without a timeout waits in rounds of ten seconds (exit(10 s), log, again): the first round gives up
     * on the lease and clears the bias, the second goes ahead. Waits 15 s at most for a close that must not come.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void closeWithoutATimeoutClosesTheSpaceUnderABiasedLeaseAfterItsFirstRound() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane closer = lane("closer");
        final Lease lease = biasedLease(holder, x);
        final Future<Void> close = closer.submit(() -> {
            space.close();
            return null;
        });
        boolean closedUnderTheLease;
        try
        {
            close.get(15, TimeUnit.SECONDS);
            closedUnderTheLease = true;
        }
        catch (final TimeoutException ex)
        {
            closedUnderTheLease = false; // still waiting for the lease, as it must
        }
        catch (final ExecutionException ex)
        {
            throw new AssertionError("close threw", ex.getCause());
        }
        final Outcome read = Outcome.of(() -> holder.call(() -> lease.getLong(PAGE)));
        holder.closePins();
        get(close, "close once the lease closed");
        assertFalse(closedUnderTheLease, () -> "close() closed the space while a lease was open; its read then " +
            read);
    }

    /**
     * What B1 costs a writable lease, in a child JVM: a non-blocking section's retry re-protects the leased region to
     * READ, and the lease's next write through its writable segment is a SIGSEGV, which kills the process (the child
     * prints SURVIVED if it lives).
     */
    @Test
    void aWritableLeaseKillsTheJvmAfterANonBlockingRetryReprotectedItsRegion() throws Exception
    {
        final List<String> java = ChildJvm.command(BiasCrashChild.class, List.of("-Xmx64m", "-XX:+UseSerialGC",
            "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log")), dir.toString());
        final List<String> out = ChildJvm.run(java, BOUND_SECONDS);
        assertTrue(out.contains("SURVIVED"), () -> String.join("\n", out));
        assertTrue(out.contains("ATTEMPT 2 BUSY"), () -> String.join("\n", out));
    }

    // ------------------------------------------------------------------ holds

    @Test
    void aBiasedLeaseBlocksEveryWriteUntilItCloses() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        biasedLease(holder, x);
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the unmap write-locking x");
        assertFalse(completedWithoutParking(unmap, writer), "the unmap waits for the lease");
        assertEquals(stamp(1, 1), space.readLong(x + PAGE), "other readers still read x meanwhile");
        holder.closePins();
        get(unmap, "the unmap");
        assertNull(space.regionAt(x));
        space.verify();
    }

    /** Two leases of one region on one thread (its slot, then the count), closed first-taken first. */
    @Test
    void nestedLeasesOfOneRegionClosedOutOfOrderKeepTheRegionPinnedUntilTheLast() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Region r = space.regionAt(x);
        final Lane holder = lane("holder");
        final Lane writer = lane("writer");
        final Lease outer = biasedLease(holder, x);
        final Lease inner = holder.call(() -> space.lease(x));
        assertEquals(2, r.readers());
        holder.call(() -> {
            outer.close();
            return null;
        });
        assertEquals(1, r.readers());
        assertEquals(stamp(1, 2), holder.call(() -> inner.getLong(2 * PAGE)));
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the unmap write-locking x");
        assertFalse(completedWithoutParking(unmap, writer), "the unmap waits for the inner lease");
        holder.call(() -> {
            inner.close();
            return null;
        });
        get(unmap, "the unmap");
        assertEquals(0, r.readers());
        assertTrue(r.isDetached());
    }

    @Test
    void aBiasedLeaseTakenInsideASectionIsRefusedToThatSectionsWrite() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Region r = space.regionAt(x);
        try (Lease l = space.lease(x))
        {
            assertEquals(stamp(1, 0), l.getLong(0));
        }
        assertTrue(MmLock.isReaderBiased(r));
        try (WriteSection w = space.beginWrite())
        {
            try (Lease l = space.lease(x))
            {
                final IllegalStateException ex = assertThrows(IllegalStateException.class,
                    () -> w.unmap(x, pages(4)));
                assertTrue(ex.getMessage().contains("pins"), ex::getMessage);
                assertEquals(1, r.readers());
                assertEquals(stamp(1, 3), l.getLong(3 * PAGE));
            }
            w.unmap(x, pages(4));
        }
        assertEquals(0, r.readers());
        assertTrue(r.isDetached());
    }

    /** A reader held after publishing its slot while a writer unmaps the region: waited for, then refused. */
    @Test
    void aReaderHeldAfterPublishingItsSlotIsWaitedForAndNeverPinsTheUnmappedRegion() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Region r = space.regionAt(x);
        final Lane reader = lane("reader");
        final Lane writer = lane("writer");
        assertEquals(stamp(1, 0), reader.call(() -> {
            try (Lease l = space.lease(x))
            {
                return l.getLong(0);
            }
        }));
        assertTrue(MmLock.isReaderBiased(r));
        final CountDownLatch published = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        final boolean[] used = new boolean[1];
        onRacePoint(p -> {
            if (p == RacePoint.READER_AFTER_INCREMENT && Thread.currentThread() == reader.thread && !used[0])
            {
                used[0] = true;
                published.countDown();
                try
                {
                    go.await(BOUND_SECONDS, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            }
        });
        final Future<Outcome> lease = reader.submit(() -> Outcome.of(() -> {
            try (Lease l = space.lease(x))
            {
                return l.getLong(0);
            }
        }));
        await(published, "the reader publishing its slot");
        assertEquals(1, r.readers(), "the published slot counts until the reader backs off");
        final CountDownLatch draining = drainingOn(writer);
        final Future<Void> unmap = writer.submit(() -> {
            space.unmap(x, pages(4));
            return null;
        });
        await(draining, "the unmap write-locking x");
        assertFalse(completedWithoutParking(unmap, writer), "the unmap waits for the published slot");
        go.countDown();
        get(unmap, "the unmap");
        final Outcome o = get(lease, "the lease");
        assertTrue(o.thrown() instanceof RegionArgumentException, () -> "the lease " + o + " of an unmapped address");
        assertEquals(0, r.readers());
        assertTrue(r.isDetached());
    }
}
