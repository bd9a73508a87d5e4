package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.lock.MmLock;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.SyncMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * What one address space's front door, readers and write sections share (the kernel's {@code mm_struct}): the
 * mm lock, the published region map, the window, the file table and whether the space is closed. Neither
 * {@link AddressSpace} nor {@link WriteSection} owns it; both use it under the protocol written in {@link MmLock}.
 *
 * <p>The map is published with a release store and read with an acquire load (the only pair of accesses to it):
 * a map version is built completely, regions and views included, before it is published, so a reader that finds
 * a version sees every region in it fully built. Only a write section publishes, with the mm lock held
 * exclusively, so versions never race each other.
 */
final class Mm
{
    private static final Logger LOG = LoggerFactory.getLogger(Mm.class);
    private static final long CLOSE_REPORT_SECONDS = 10;
    private static final VarHandle MAP;

    static
    {
        try
        {
            MAP = MethodHandles.lookup().findVarHandle(Mm.class, "map", RegionMap.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final Kernel kernel;
    final MmLock lock = new MmLock();
    final Window window;
    /** Changed under the mm lock (its own monitor guards each call too: see FileTable). */
    final FileTable files;
    @SuppressWarnings("unused") // through MAP
    private RegionMap map;
    // Set under the write lock; volatile so a lock-free reader that finds the empty map can say "closed".
    private volatile boolean closed;
    // Set (once: the first reason stays) under the write lock when an undo fails; volatile so a writer's check
    // before it takes the lock (beginWrite) sees it too. Never cleared: only close ends a poisoned space.
    private volatile Poison poison;

    /** Why writes are refused: which operation's undo failed, which undo and its failed system call. */
    private record Poison(String operation, String undo, KernelException cause)
    {
        SpacePoisonedException refuse(final String op)
        {
            return new SpacePoisonedException(op, operation, undo, cause);
        }
    }

    /** The window's mappings against vm.max_map_count; changed under the mm lock, exclusively. */
    final MapCount mapCount;
    /** Range subscriptions: told before a write changes memory they cache pointers into. */
    final Subscribers subscribers = new Subscribers(this);

    Mm(final Kernel kernel, final Window window)
    {
        this.kernel = kernel;
        this.window = window;
        this.files = new FileTable(kernel);
        this.mapCount = new MapCount(window.base, window.end);
        MAP.setRelease(this, RegionMap.empty(window.base, window.end));
    }

    /** @return the current version of the region map (lock-free; may be superseded at any moment). */
    RegionMap snapshot()
    {
        // acquire: pairs with publish's release; the regions in the map, and their views, are fully constructed.
        return (RegionMap)MAP.getAcquire(this);
    }

    /** Publishes the next map version; called with the mm lock held exclusively. */
    void publish(final RegionMap next)
    {
        // release: a reader that finds this version sees every region in it fully built.
        MAP.setRelease(this, next);
    }

    boolean isClosed()
    {
        return closed;
    }

    /** Marks the space closed and publishes the empty map; called with the mm lock held exclusively. */
    void markClosed()
    {
        closed = true; // before the empty map: a reader that finds no region then knows why
        publish(RegionMap.empty(window.base, window.end));
    }

    void checkOpen(final String op)
    {
        if (closed)
        {
            throw new SpaceClosedException(op);
        }
    }

    /**
     * Refuses a write to a closed space ({@link SpaceClosedException}) or to a poisoned one
     * ({@link SpacePoisonedException}).
     */
    void checkWritable(final String op)
    {
        checkOpen(op);
        final Poison p = poison;
        if (p != null)
        {
            throw p.refuse(op);
        }
    }

    /**
     * Poisons the space: an undo failed, so the map may no longer match the kernel or the files. Called by
     * {@code Rollback} under the write lock; the first reason stays.
     *
     * @param op   the write operation whose undo failed.
     * @param undo what the undo was doing.
     * @param ex   its failed system call.
     */
    void poison(final String op, final String undo, final KernelException ex)
    {
        LOG.error("{}: {} failed, the address space is poisoned (writes are refused; close it): {}", op, undo,
            ex.getMessage());
        if (poison == null)
        {
            poison = new Poison(op, undo, ex);
        }
    }

    /**
     * @return the exception for a failed write operation; when its undo failed (the space is poisoned: any earlier
     *         poison would have refused the operation), the refusal is attached as a suppressed exception.
     */
    MappingException failed(final String op, final KernelException ex)
    {
        final MappingException m = new MappingException(op, ex);
        final Poison p = poison;
        if (p != null)
        {
            m.addSuppressed(p.refuse(op));
        }
        return m;
    }

    /** @return the file's length; the caller holds the mm lock or has checked the handle is mappable. */
    long fileSize(final String op, final FileHandle file) throws MappingException
    {
        try
        {
            return files.size(op, file); // under the table's monitor: the descriptor cannot close meanwhile
        }
        catch (final KernelException ex)
        {
            throw new MappingException(op, ex);
        }
    }

    /** msync of a mapped range; the caller holds the mm lock (shared is enough: no mapping changes). */
    void sync(final long start, final long length, final SyncMode mode) throws MappingException
    {
        window.checkRange("sync", start, length);
        Window.requireCovered("sync", snapshot(), start, start + length);
        try
        {
            kernel.msync(start, length, mode.flags());
        }
        catch (final KernelException ex)
        {
            throw new MappingException("sync", ex);
        }
    }

    /** A call that changes no mapping. */
    @FunctionalInterface
    interface SharedCall
    {
        void run() throws MappingException;
    }

    /**
     * Runs a call that changes no mapping (msync, read-ahead) under the mm lock shared: it sees a map that does not
     * change under it, and waits for no other such call. Not from a listener (the shared lock could wait for the
     * section it runs in).
     */
    void shared(final String op, final SharedCall call) throws MappingException
    {
        subscribers.refuseInListener(op);
        checkOpen(op);
        lock.readLock();
        try
        {
            checkOpen(op);
            call.run();
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /** MADV_WILLNEED over a mapped range; called with the mm lock held (shared is enough: nothing changes). */
    void willNeed(final long start, final long length) throws MappingException
    {
        window.checkRange("advise", start, length);
        Window.requireCovered("advise", snapshot(), start, start + length);
        try
        {
            kernel.madvise(start, length, Advice.WILLNEED.madv());
        }
        catch (final KernelException ex)
        {
            throw new MappingException("advise", ex);
        }
    }

    /**
     * {@link #exit(long, TimeUnit)} without a deadline: while leases keep it waiting it logs, every
     * {@value #CLOSE_REPORT_SECONDS} seconds, which regions are still pinned. Not interruptible: an interrupt is
     * kept for the caller.
     */
    void exit()
    {
        boolean interrupted = false;
        try
        {
            while (true)
            {
                try
                {
                    exit(CLOSE_REPORT_SECONDS, TimeUnit.SECONDS);
                    return;
                }
                catch (final RegionBusyException ex)
                {
                    LOG.warn("close is waiting: {}", ex.getMessage());
                }
                catch (final InterruptedException ex)
                {
                    interrupted = true;
                }
            }
        }
        finally
        {
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Tears the space down (the kernel's exit_mmap): takes the mm lock and every region's write lock within the
     * deadline (until the last one is locked nothing has changed, so a timeout leaves an open space behind), then
     * marks the space closed, detaches every region, closes the window's arena (the JDK's handshake with every
     * thread; the reservation goes with it) and the files. Idempotent.
     *
     * @throws IllegalStateException when this thread has a section open or holds a lease: the teardown would wait
     *                               for the thread itself.
     * @throws RegionBusyException  when another writer or a lease kept it busy past the timeout; nothing changed.
     * @throws InterruptedException when interrupted waiting for the mm lock; nothing changed.
     */
    void exit(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        if (closed)
        {
            return;
        }
        if (lock.isWriteLockedByCurrentThread())
        {
            throw new IllegalStateException("close: a write section is open on this thread; close it first");
        }
        final String pins = lock.pinsOfCurrentThread();
        if (pins != null)
        {
            throw new IllegalStateException("close: this thread holds " + pins + "; close would wait for it forever: " +
                "close the lease first");
        }
        final long s = lock.tryBeginWrite(timeout, unit);
        if (s == 0)
        {
            throw new RegionBusyException("close", "another thread held the mm lock for " + unit.toNanos(timeout) +
                " ns");
        }
        try
        {
            if (closed)
            {
                return;
            }
            final RegionMap m = snapshot();
            for (int i = 0; i < m.size(); i++)
            {
                // Every region first, within the deadline: until the last one is locked nothing has changed, so a
                // timeout leaves an open space behind.
                if (!lock.writeLock(m.get(i)))
                {
                    throw RegionBusyException.pinned("close", m, i, unit.toNanos(timeout));
                }
            }
            // From here on nothing waits and nothing can leave the space half closed. Subscribers now, not before
            // the regions are locked as other writes do: a close that gave up at its deadline must not have told
            // every listener CLOSE. (Listeners take no leases, so locking first cannot wait for one.) The
            // invalidation ends after the teardown, with the write lock still held, so a subscriber's readBegin
            // that waited for it finds the space closed.
            subscribers.invalidateForClose(window.base, window.end);
            markClosed();
            mapCount.release();
            for (int i = 0; i < m.size(); i++)
            {
                lock.detach(m.get(i)); // locked above: no reader can pin it any more, nothing to wait for
            }
            try
            {
                window.close(); // handshake with every thread, then the reservation goes
            }
            finally
            {
                files.closeAll();
            }
            LOG.debug("address space [{}, {}) closed at sequence {}", Window.hex(window.base), Window.hex(window.end),
                s);
        }
        finally
        {
            subscribers.endAll();
            lock.endWrite();
        }
    }
}
