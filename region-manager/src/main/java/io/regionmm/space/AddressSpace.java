package io.regionmm.space;

import io.regionmm.kernel.Fcntl;
import io.regionmm.kernel.FileStat;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.lock.MmLock;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A window of virtual addresses that this object owns, and the file regions mapped inside it: the front door of a
 * space. The window is reserved at creation as one read-only, never-populated anonymous mapping (MAP_NORESERVE: it
 * costs no memory) and every region is placed inside it with MAP_FIXED; nothing outside the window is ever touched.
 *
 * <p>Every range of the window that is not a region reads as zeros and never faults: unmapping or moving a region
 * puts a read-only anonymous "tombstone" over its old range in the same system call that removes it. So a
 * reader that raced a writer and read a stale address gets zeros, fails validation, and never crashes the JVM.
 *
 * <p>Writers: the one-shot methods ({@link #map}, {@link #unmap}, ...) each open and close a write section;
 * {@link #beginWrite()} opens one for several operations. Readers: {@link #readLong} / {@link #read} (speculative,
 * then pinned, then locked), {@link #lease} (pin a region and use its memory directly), {@link #regions()} (the
 * shared mm lock). The protocol is in {@link MmLock}; the readers' fallbacks in {@code ReadLadder}; each write
 * operation and its commit in {@link WriteSection}, its undo in {@code Rollback}.
 *
 * <p>{@link #close()} waits for leases, unmaps everything and releases the window; region memory is reached
 * through one segment of a shared {@link java.lang.foreign.Arena}, whose closing guarantees no thread is inside an
 * access.
 */
public final class AddressSpace implements AutoCloseable
{
    /** Default window: 64 GiB of addresses (no memory). */
    public static final long DEFAULT_WINDOW = 64L << 30;

    private static final Logger LOG = LoggerFactory.getLogger(AddressSpace.class);
    private static final long CLOSE_REPORT_SECONDS = 10;

    private final Mm mm;
    private final MmLock lock;
    private final Window window;
    private final ReadLadder ladder;
    private final Rollback rollback;
    // The open write section, set and cleared by its thread under the write lock: one-shot calls made by that thread
    // join it instead of opening a second section (which would make the sequence even while the first is open).
    private WriteSection section;

    private AddressSpace(final Kernel kernel, final long windowSize) throws MappingException
    {
        window = Window.reserve(kernel, windowSize);
        mm = new Mm(kernel, window);
        lock = mm.lock;
        ladder = new ReadLadder(mm);
        rollback = new Rollback(mm);
    }

    /**
     * @return a space with the default window, on the real kernel.
     * @throws MappingException when the window cannot be reserved.
     */
    public static AddressSpace create() throws MappingException
    {
        return create(Kernel.system(), DEFAULT_WINDOW);
    }

    /**
     * @param kernel     the kernel to use (the real one, or a fault-injecting wrapper).
     * @param windowSize bytes of address space to reserve, a multiple of the page size.
     * @return the space.
     * @throws MappingException when the window cannot be reserved.
     */
    public static AddressSpace create(final Kernel kernel, final long windowSize) throws MappingException
    {
        return new AddressSpace(kernel, windowSize);
    }

    /** @return the page size. */
    public long pageSize()
    {
        return window.page;
    }

    /** @return the window's first address. */
    public long windowStart()
    {
        return window.base;
    }

    /** @return the window's end. */
    public long windowEnd()
    {
        return window.end;
    }

    // ------------------------------------------------------------------ files

    /**
     * Opens a file for mapping.
     *
     * @param path   the file.
     * @param access read-only, or read-write (created if missing).
     * @return a handle regions share; release it with {@link #releaseFile} when no new regions will need it.
     * @throws MappingException when the kernel refuses (missing file, permissions, ...).
     */
    public FileHandle openFile(final Path path, final FileAccess access) throws MappingException
    {
        mm.checkOpen("openFile");
        final int flags = (access == FileAccess.READ_WRITE ? Fcntl.O_RDWR | Fcntl.O_CREAT : Fcntl.O_RDONLY) |
            Fcntl.O_CLOEXEC;
        final int fd;
        try
        {
            fd = mm.kernel.open(path.toString(), flags, 0644);
        }
        catch (final KernelException ex)
        {
            throw new MappingException("openFile", ex);
        }
        boolean kept = false;
        try
        {
            final FileStat st = mm.kernel.fstat(fd);
            if (!st.isRegularFile())
            {
                throw new RegionArgumentException("openFile", "path=" + path + " is not a regular file" +
                    (st.isDirectory() ? " (a directory)" : ""));
            }
            // No write section: adding to the file table changes no mapping and waits for no lease.
            final FileHandle h = mm.files.add(path, fd, access == FileAccess.READ_WRITE, st.inode(), st.devMajor(),
                st.devMinor());
            kept = true;
            return h;
        }
        catch (final KernelException ex)
        {
            throw new MappingException("openFile", ex);
        }
        finally
        {
            if (!kept)
            {
                FileTable.closeQuietly(mm.kernel, fd); // refused for any reason (closed space, a lease held): no leak
            }
        }
    }

    /**
     * Releases the caller's hold on a file: its descriptor closes once no region maps it. A write (it takes the mm
     * lock exclusively, or joins this thread's section): no section can be using the descriptor as it closes; so,
     * like other writes, it is refused to a thread that holds a lease in this space.
     *
     * @param file the handle.
     */
    public void releaseFile(final FileHandle file)
    {
        mm.checkOpen("releaseFile");
        final boolean opened = enterWrite("releaseFile");
        try
        {
            mm.files.release("releaseFile", file);
        }
        finally
        {
            exitWrite(opened);
        }
    }

    /**
     * @param file a handle of this space, not released.
     * @return the file's current length.
     * @throws MappingException        when fstat fails.
     * @throws RegionArgumentException when the handle is not this space's, or was released.
     */
    public long fileSize(final FileHandle file) throws MappingException
    {
        mm.checkOpen("fileSize");
        mm.files.checkMappable("fileSize", file);
        return mm.fileSize("fileSize", file);
    }

    /**
     * @param file a handle of this space.
     * @return true while its descriptor is open: until it is released and no region maps it any more.
     */
    public boolean isFileOpen(final FileHandle file)
    {
        return mm.files.isOpen(file);
    }

    // ------------------------------------------------------------------ writers

    /**
     * Opens a write section: the mm lock, exclusively. Close it (try-with-resources) to release every region it
     * locked at once. Sections do not nest: while one is open, the one-shot methods ({@link #map}, {@link #unmap},
     * ...) called on its thread join it (their changes are released when it closes), and a second
     * {@code beginWrite} on that thread throws.
     *
     * @return the section; close it on this thread.
     * @throws IllegalStateException when this thread already has a section open, holds the mm lock shared (a
     *                               downgraded section, a read under the lock) or holds a lease: each would make
     *                               the writer wait for this very thread.
     */
    public WriteSection beginWrite()
    {
        mm.checkOpen("beginWrite");
        return opened("beginWrite", lock.beginWrite(), 0);
    }

    /**
     * Like {@link #beginWrite()}, giving up after a timeout; the same timeout bounds how long the section's
     * operations wait for leases on what they change (they then throw {@link RegionBusyException} and change
     * nothing).
     *
     * @param timeout how long to wait, for the lock and for leases.
     * @param unit    its unit.
     * @return the section; close it on this thread.
     * @throws RegionBusyException   when another writer held the lock past the timeout (nothing changed).
     * @throws InterruptedException  if interrupted while waiting for the lock.
     * @throws IllegalStateException as {@link #beginWrite()}.
     */
    public WriteSection beginWrite(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        mm.checkOpen("beginWrite");
        final long s = lock.tryBeginWrite(timeout, unit);
        if (s == 0)
        {
            throw new RegionBusyException("beginWrite", "another thread held the mm lock for " +
                unit.toNanos(timeout) + " ns");
        }
        return opened("beginWrite", s, unit.toNanos(timeout));
    }

    private WriteSection opened(final String op, final long s, final long timeoutNs)
    {
        if (mm.isClosed())
        {
            lock.endWrite();
            throw new SpaceClosedException(op);
        }
        section = new WriteSection(mm, rollback, s, timeoutNs, this::sectionEnded);
        return section;
    }

    /** Called by the section as it ends, still holding the write lock. */
    private void sectionEnded(final WriteSection w)
    {
        if (section == w)
        {
            section = null;
        }
    }

    /** A one-shot write operation: run in this thread's open section, or in one of its own. */
    @FunctionalInterface
    private interface SectionCall<T>
    {
        T run(WriteSection w) throws MappingException;
    }

    private <T> T oneShot(final SectionCall<T> call) throws MappingException
    {
        final WriteSection open = lock.isWriteLockedByCurrentThread() ? section : null;
        if (open != null)
        {
            return call.run(open); // joins: released with the rest of that section when it closes
        }
        try (WriteSection w = beginWrite())
        {
            return call.run(w);
        }
    }

    private <T> T oneShotUnchecked(final String op, final SectionCall<T> call)
    {
        try
        {
            return oneShot(call);
        }
        catch (final MappingException ex)
        {
            throw new IllegalStateException(op + ": " + ex.getMessage(), ex); // split and merge make no system call
        }
    }

    /**
     * Takes the write lock for a change of the file table, joining this thread's open section if there is one.
     *
     * @return true when the caller must release it ({@link #exitWrite}).
     */
    private boolean enterWrite(final String op)
    {
        if (lock.isWriteLockedByCurrentThread())
        {
            return false;
        }
        lock.beginWrite();
        if (mm.isClosed())
        {
            lock.endWrite();
            throw new SpaceClosedException(op);
        }
        return true;
    }

    private void exitWrite(final boolean opened)
    {
        if (opened)
        {
            lock.endWrite();
        }
    }

    /**
     * Maps a file range at the lowest free address that fits. See {@link WriteSection#map}.
     *
     * @param file       the file.
     * @param offset     file offset, page-aligned.
     * @param length     bytes, page-aligned, &gt; 0.
     * @param protection READ or READ_WRITE.
     * @param sharing    SHARED or PRIVATE.
     * @return the region's start address.
     * @throws MappingException when the kernel refuses; nothing changed.
     */
    public long map(final FileHandle file, final long offset, final long length, final Protection protection,
        final Sharing sharing) throws MappingException
    {
        return map(file, offset, length, protection, sharing, MapOptions.DEFAULT);
    }

    /**
     * Maps a file range. See {@link WriteSection#map}.
     *
     * @param file       the file.
     * @param offset     file offset.
     * @param length     bytes.
     * @param protection protection.
     * @param sharing    sharing.
     * @param options    placement and file growth.
     * @return the region's start address.
     * @throws MappingException when the kernel refuses; nothing changed.
     */
    public long map(final FileHandle file, final long offset, final long length, final Protection protection,
        final Sharing sharing, final MapOptions options) throws MappingException
    {
        return oneShot(w -> w.map(file, offset, length, protection, sharing, options));
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#unmap
     */
    public void unmap(final long start, final long length) throws MappingException
    {
        oneShot(w -> {
            w.unmap(start, length);
            return null;
        });
    }

    /**
     * @param address where to split.
     * @see WriteSection#split
     */
    public void split(final long address)
    {
        oneShotUnchecked("split", w -> {
            w.split(address);
            return null;
        });
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @see WriteSection#merge
     */
    public void merge(final long start, final long length)
    {
        oneShotUnchecked("merge", w -> {
            w.merge(start, length);
            return null;
        });
    }

    /**
     * @param regionStart the region's start.
     * @param newLength   its new length.
     * @param growFile    whether the file may grow.
     * @return the region's (possibly new) start.
     * @throws MappingException when the kernel refuses or no room is left; nothing changed.
     * @see WriteSection#remap
     */
    public long remap(final long regionStart, final long newLength, final boolean growFile) throws MappingException
    {
        return oneShot(w -> w.remap(regionStart, newLength, growFile));
    }

    /**
     * @param start      range start.
     * @param length     range length.
     * @param protection new protection.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#protect
     */
    public void protect(final long start, final long length, final Protection protection) throws MappingException
    {
        oneShot(w -> {
            w.protect(start, length, protection);
            return null;
        });
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @param advice the advice.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#advise
     */
    public void advise(final long start, final long length, final Advice advice) throws MappingException
    {
        oneShot(w -> {
            w.advise(start, length, advice);
            return null;
        });
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses (e.g. RLIMIT_MEMLOCK); nothing changed.
     * @see WriteSection#lock
     */
    public void lock(final long start, final long length) throws MappingException
    {
        oneShot(w -> {
            w.lock(start, length);
            return null;
        });
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#unlock
     */
    public void unlock(final long start, final long length) throws MappingException
    {
        oneShot(w -> {
            w.unlock(start, length);
            return null;
        });
    }

    /**
     * Writes a range back to its files (msync). Takes the mm lock shared: it changes no mapping.
     *
     * @param start  range start, page-aligned.
     * @param length range length.
     * @param mode   SYNC (durable on return), ASYNC or INVALIDATE.
     * @throws MappingException when msync fails.
     */
    public void sync(final long start, final long length, final SyncMode mode) throws MappingException
    {
        mm.checkOpen("sync");
        lock.readLock();
        try
        {
            mm.checkOpen("sync");
            mm.sync(start, length, mode);
        }
        finally
        {
            lock.readUnlock();
        }
    }

    // ------------------------------------------------------------------ readers (the ladder: ReadLadder)

    /**
     * The region covering an address in the newest map, found without a lock and without waiting. It may be
     * replaced the moment this returns (its fields stay true of what it was); to use its memory, take a
     * {@link #lease}.
     *
     * @param address any address.
     * @return the region, or null when none covers the address.
     */
    public Region regionAt(final long address)
    {
        return mm.snapshot().find(address);
    }

    /**
     * Reads 8 bytes (native order) at an address inside a region: speculatively (also while a writer changes other
     * regions), else by pinning the region, else under the shared mm lock.
     *
     * @param address the address.
     * @return the value.
     * @throws RegionArgumentException when the 8 bytes are not inside one region.
     */
    public long readLong(final long address)
    {
        return ladder.readLong(address);
    }

    /**
     * Runs {@code f} on the region covering {@code address} and its memory, returning a result computed from a
     * consistent view: speculatively first, then under a pin, then under the shared mm lock.
     *
     * @param address an address inside a region.
     * @param f       the computation; speculative runs are discarded unless validated, so it must only compute.
     * @return its validated result.
     * @throws RegionArgumentException when no region covers the address.
     */
    public long read(final long address, final RegionFunction f)
    {
        return ladder.read(address, f, true, 0);
    }

    /**
     * Like {@link #read(long, RegionFunction)} but never takes the mm lock and never waits: speculatively, then by
     * pinning the region; when a writer holds it, returns {@code ifBusy} at once so the caller can retry (a reader
     * that must never share a lock with writers).
     *
     * @param address an address inside a region.
     * @param f       the computation.
     * @param ifBusy  what to return when a writer holds the region now.
     * @return the validated result, or {@code ifBusy}.
     * @throws RegionArgumentException when no region covers the address (and no writer is active).
     */
    public long readNoWait(final long address, final RegionFunction f, final long ifBusy)
    {
        return ladder.read(address, f, false, ifBusy);
    }

    /**
     * Runs {@code f} under the shared mm lock (the slow path): no writer can change any mapping meanwhile.
     *
     * @param address an address inside a region.
     * @param f       the computation.
     * @return its result.
     * @throws RegionArgumentException when no region covers the address.
     */
    public long readLocked(final long address, final RegionFunction f)
    {
        return ladder.readLocked(address, f);
    }

    /**
     * Copies bytes from the space into {@code dst}: speculatively (also while a writer changes other regions), else
     * under the shared mm lock. The range may span several adjacent regions, but every byte must be mapped.
     *
     * @param address first address.
     * @param dst     where to copy; its size is the length.
     * @throws RegionArgumentException when part of the range is not mapped.
     */
    public void read(final long address, final MemorySegment dst)
    {
        ladder.read(address, dst);
    }

    /**
     * Copies bytes into an array; see {@link #read(long, MemorySegment)}.
     *
     * @param address first address.
     * @param dst     destination.
     * @param offset  offset in dst.
     * @param length  bytes.
     */
    public void read(final long address, final byte[] dst, final int offset, final int length)
    {
        ladder.read(address, MemorySegment.ofArray(dst).asSlice(offset, length));
    }

    /**
     * Pins the region covering {@code address}: until the lease closes, the region cannot be unmapped, moved,
     * shrunk or re-protected, and its memory may be used directly through the lease's segments. Never blocks a
     * writer for longer than the lease is held; falls back to the shared mm lock only to take the pin.
     *
     * @param address an address inside a region.
     * @return the lease; close it on the thread that took it.
     * @throws RegionArgumentException when no region covers the address.
     */
    public Lease lease(final long address)
    {
        return ladder.lease(address);
    }

    /**
     * Pins every region of [start, start + length), which must be mapped without gaps (it may span several adjacent
     * regions). Pins are taken in address order and never waited for: if one is refused, those taken are dropped
     * and all are taken again under the shared mm lock, so two range leases cannot deadlock.
     *
     * @param start  first address.
     * @param length bytes, &gt; 0.
     * @return the lease; close it on the thread that took it.
     * @throws RegionArgumentException when part of the range is not mapped.
     */
    public RangeLease leaseRange(final long start, final long length)
    {
        return ladder.leaseRange(start, length);
    }

    /**
     * @return the regions, in address order, read under the shared mm lock (a consistent list).
     */
    public List<Region> regions()
    {
        lock.readLock();
        try
        {
            return List.copyOf(mm.snapshot().regions());
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /**
     * @return how often reads left the speculative fast path.
     */
    public ReadCounts readCounts()
    {
        return ladder.counts();
    }

    /**
     * Compares the region map with the kernel's VMAs of the window (under the shared mm lock).
     *
     * @return the comparison, with both tables.
     */
    public KernelCheck.Report checkAgainstKernel()
    {
        lock.readLock();
        try
        {
            mm.checkOpen("checkAgainstKernel");
            return KernelCheck.compare(mm.snapshot(), window.base, window.end);
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /**
     * Like {@link #checkAgainstKernel()}, throwing when they differ.
     *
     * @throws IllegalStateException with both tables when the region map and the kernel disagree.
     */
    public void verify()
    {
        final KernelCheck.Report report = checkAgainstKernel();
        if (!report.agrees())
        {
            throw new IllegalStateException("region map and kernel disagree:\n" + report.table());
        }
    }

    /** @return the mm lock (for this package's tests). */
    MmLock mmLock()
    {
        return lock;
    }

    /** @return the newest map version (for this package's tests). */
    RegionMap snapshot()
    {
        return mm.snapshot();
    }

    // ------------------------------------------------------------------ lifecycle

    /** @return true once closed. */
    public boolean isClosed()
    {
        return mm.isClosed();
    }

    /**
     * Waits for leases to close, unmaps every region, releases the window and closes the files. Idempotent. While
     * leases keep it waiting it logs, every {@value #CLOSE_REPORT_SECONDS} seconds, which regions are still pinned;
     * {@link #close(long, TimeUnit)} gives up instead.
     *
     * @throws IllegalStateException when called by a thread that has a write section open, holds the mm lock
     *                               shared or holds a lease (the close would wait for that thread itself).
     */
    @Override
    public void close()
    {
        boolean interrupted = false;
        try
        {
            while (true)
            {
                try
                {
                    close(CLOSE_REPORT_SECONDS, TimeUnit.SECONDS);
                    return;
                }
                catch (final RegionBusyException ex)
                {
                    LOG.warn("close is waiting: {}", ex.getMessage());
                }
                catch (final InterruptedException ex)
                {
                    interrupted = true; // closing is not interruptible; the status goes back to the caller
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
     * Closes the space like {@link #close()}, but waits at most {@code timeout} for the mm lock and the leases.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @throws RegionBusyException   when leases (or another writer) kept the space busy past the timeout; it names
     *                               the pinned regions, and the space is still open and unchanged.
     * @throws InterruptedException  when interrupted while waiting for the mm lock (the space is unchanged).
     * @throws IllegalStateException as {@link #close()}.
     */
    public void close(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        if (mm.isClosed())
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
            if (mm.isClosed())
            {
                return;
            }
            final RegionMap m = mm.snapshot();
            for (int i = 0; i < m.size(); i++)
            {
                // Every region first, within the deadline: until the last one is locked nothing has changed, so a
                // timeout leaves an open space behind.
                if (!lock.writeLock(m.get(i)))
                {
                    throw RegionBusyException.pinned("close", m, i, unit.toNanos(timeout));
                }
            }
            // From here on nothing waits and nothing can leave the space half closed.
            mm.markClosed();
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
                mm.files.closeAll();
            }
            LOG.debug("address space [{}, {}) closed at sequence {}", Window.hex(window.base), Window.hex(window.end),
                s);
        }
        finally
        {
            lock.endWrite();
        }
    }
}
