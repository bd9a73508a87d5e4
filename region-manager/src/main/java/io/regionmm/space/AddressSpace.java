package io.regionmm.space;

import io.regionmm.kernel.Fcntl;
import io.regionmm.kernel.FileStat;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;
import io.regionmm.lock.MmLock;
import io.regionmm.lock.StartRead;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A window of virtual addresses that this object owns, and the file regions mapped inside it (the kernel's
 * {@code mm_struct}). The window is reserved at creation as one read-only, never-populated anonymous mapping
 * (MAP_NORESERVE: it costs no memory) and every region is placed inside it with MAP_FIXED; nothing outside the
 * window is ever touched.
 *
 * <p>Every range of the window that is not a region reads as zeros and never faults: unmapping or moving a region
 * puts a read-only anonymous "tombstone" over its old range in the same system call that removes it. So a
 * reader that raced a writer and read a stale address gets zeros, fails validation, and never crashes the JVM.
 *
 * <p>Writers: the one-shot methods ({@link #map}, {@link #unmap}, ...) each open and close a write section;
 * {@link #beginWrite()} opens one for several operations. Readers: {@link #readLong} / {@link #read} (speculative,
 * then pinned, then locked), {@link #lease} (pin a region and use its memory directly), {@link #regions()} (the
 * shared mm lock). The protocol is in {@link MmLock}.
 *
 * <p>{@link #close()} waits for leases, unmaps everything and releases the window; region memory is reached
 * through one segment of a shared {@link Arena}, whose closing guarantees no thread is inside an access.
 */
public final class AddressSpace implements AutoCloseable
{
    /** Default window: 64 GiB of addresses (no memory). */
    public static final long DEFAULT_WINDOW = 64L << 30;

    private static final Logger LOG = LoggerFactory.getLogger(AddressSpace.class);
    private static final VarHandle MAP;
    private static final int SPECULATION_ATTEMPTS = 4;
    private static final int PIN_ATTEMPTS = 8;
    private static final long CLOSE_REPORT_SECONDS = 10;

    static
    {
        try
        {
            MAP = MethodHandles.lookup().findVarHandle(AddressSpace.class, "map", RegionMap.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final Kernel kernel;
    final long page;
    final long base;
    final long end;
    final MmLock mm = new MmLock();
    private final Arena arena;
    private final MemorySegment window;
    private final MemorySegment readOnlyWindow; // made once: leases read through it
    @SuppressWarnings("unused") // through MAP
    private RegionMap map;
    // Guarded by the mm lock.
    final FileTable files;
    // The open write section, set and cleared by its thread under the write lock: one-shot calls made by that thread
    // join it instead of opening a second section (which would make the sequence even while the first is open).
    private WriteSection section;
    private volatile boolean closed;

    private final LongAdder speculationRetries = new LongAdder();
    private final LongAdder pinnedReads = new LongAdder();
    private final LongAdder lockedReads = new LongAdder();

    private AddressSpace(final Kernel kernel, final long windowSize) throws MappingException
    {
        this.kernel = kernel;
        this.files = new FileTable(kernel);
        this.page = kernel.pageSize();
        if (windowSize <= 0 || windowSize % page != 0)
        {
            throw new RegionArgumentException("create", "windowSize=" + windowSize +
                " must be positive and a multiple of the page size " + page);
        }
        try
        {
            base = kernel.mmap(0, windowSize, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS |
                Mman.MAP_NORESERVE, -1, 0);
        }
        catch (final KernelException ex)
        {
            throw new MappingException("create", ex);
        }
        end = base + windowSize;
        arena = Arena.ofShared();
        // The cleanup runs when the arena closes, after the JDK's handshake: no thread is inside an access then.
        window = MemorySegment.ofAddress(base).reinterpret(windowSize, arena, ignored -> releaseWindow());
        readOnlyWindow = window.asReadOnly();
        MAP.setRelease(this, RegionMap.empty(base, end));
        LOG.debug("address space reserved [{}, {}) ({} bytes)", hex(base), hex(end), windowSize);
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
        return page;
    }

    /** @return the window's first address. */
    public long windowStart()
    {
        return base;
    }

    /** @return the window's end. */
    public long windowEnd()
    {
        return end;
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
        checkOpen("openFile");
        final int flags = (access == FileAccess.READ_WRITE ? Fcntl.O_RDWR | Fcntl.O_CREAT : Fcntl.O_RDONLY) |
            Fcntl.O_CLOEXEC;
        final int fd;
        try
        {
            fd = kernel.open(path.toString(), flags, 0644);
        }
        catch (final KernelException ex)
        {
            throw new MappingException("openFile", ex);
        }
        boolean kept = false;
        try
        {
            final FileStat st = kernel.fstat(fd);
            if (!st.isRegularFile())
            {
                throw new RegionArgumentException("openFile", "path=" + path + " is not a regular file" +
                    (st.isDirectory() ? " (a directory)" : ""));
            }
            // No write section: adding to the file table changes no mapping and waits for no lease.
            final FileHandle h = files.add(path, fd, access == FileAccess.READ_WRITE, st.inode(), st.devMajor(),
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
                FileTable.closeQuietly(kernel, fd); // refused for any reason (closed space, a lease held): no leak
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
        checkOpen("releaseFile");
        final boolean opened = enterWrite("releaseFile");
        try
        {
            files.release("releaseFile", file);
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
        checkOpen("fileSize");
        files.checkMappable("fileSize", file);
        return fileSizeLocked(file);
    }

    long fileSizeLocked(final FileHandle file) throws MappingException
    {
        try
        {
            return files.size("fileSize", file); // under the table's monitor: the descriptor cannot close meanwhile
        }
        catch (final KernelException ex)
        {
            throw new MappingException("fileSize", ex);
        }
    }

    /**
     * @param file a handle of this space.
     * @return true while its descriptor is open: until it is released and no region maps it any more.
     */
    public boolean isFileOpen(final FileHandle file)
    {
        return files.isOpen(file);
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
        checkOpen("beginWrite");
        return opened("beginWrite", mm.beginWrite(), 0);
    }

    /**
     * Like {@link #beginWrite()}, giving up after a timeout; the same timeout bounds how long the section's
     * operations wait for leases on what they change (they then throw {@link RegionBusyException} and change
     * nothing).
     *
     * @param timeout how long to wait, for the lock and for leases.
     * @param unit    its unit.
     * @return the section, or null when the lock was not acquired in time.
     * @throws InterruptedException  if interrupted while waiting for the lock.
     * @throws IllegalStateException as {@link #beginWrite()}.
     */
    public WriteSection tryBeginWrite(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        checkOpen("tryBeginWrite");
        final long s = mm.tryBeginWrite(timeout, unit);
        return s == 0 ? null : opened("tryBeginWrite", s, unit.toNanos(timeout));
    }

    private WriteSection opened(final String op, final long s, final long timeoutNs)
    {
        if (closed)
        {
            mm.endWrite();
            throw new SpaceClosedException(op);
        }
        section = new WriteSection(this, s, timeoutNs);
        return section;
    }

    /** Called by the section as it ends, still holding the write lock. */
    void sectionEnded(final WriteSection w)
    {
        if (section == w)
        {
            section = null;
        }
    }

    /** A one-shot write operation: run in this thread's open section, or in one of its own. */
    @FunctionalInterface
    interface SectionCall<T>
    {
        T run(WriteSection w) throws MappingException;
    }

    private <T> T oneShot(final String op, final SectionCall<T> call) throws MappingException
    {
        final WriteSection open = mm.isWriteLockedByCurrentThread() ? section : null;
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
            return oneShot(op, call);
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
        if (mm.isWriteLockedByCurrentThread())
        {
            return false;
        }
        mm.beginWrite();
        if (closed)
        {
            mm.endWrite();
            throw new SpaceClosedException(op);
        }
        return true;
    }

    private void exitWrite(final boolean opened)
    {
        if (opened)
        {
            mm.endWrite();
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
        return oneShot("map", w -> w.map(file, offset, length, protection, sharing, options));
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#unmap
     */
    public void unmap(final long start, final long length) throws MappingException
    {
        oneShot("unmap", w -> {
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
        return oneShot("remap", w -> w.remap(regionStart, newLength, growFile));
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
        oneShot("protect", w -> {
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
        oneShot("advise", w -> {
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
        oneShot("lock", w -> {
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
        oneShot("unlock", w -> {
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
        checkOpen("sync");
        mm.readLock();
        try
        {
            checkOpen("sync");
            syncLocked(start, length, mode);
        }
        finally
        {
            mm.readUnlock();
        }
    }

    void syncLocked(final long start, final long length, final SyncMode mode) throws MappingException
    {
        checkRange("sync", start, length);
        requireCovered("sync", snapshot(), start, start + length);
        try
        {
            kernel.msync(start, length, mode.flags());
        }
        catch (final KernelException ex)
        {
            throw new MappingException("sync", ex);
        }
    }

    // ------------------------------------------------------------------ map access for sections and readers

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
        return snapshot().find(address);
    }

    /**
     * @return the current version of the region map (lock-free; may be superseded at any moment).
     */
    RegionMap snapshot()
    {
        // acquire: pairs with publish's release; the regions in the map are fully constructed.
        return (RegionMap)MAP.getAcquire(this);
    }

    void publish(final RegionMap next)
    {
        // release: a reader that finds this version sees every region in it fully built.
        MAP.setRelease(this, next);
    }

    // ------------------------------------------------------------------ readers

    /**
     * A computation over one region's memory, run by {@link #read(long, RegionFunction)}: speculatively (its result
     * is discarded unless the sequence validates, so it must only compute, never act), else under a pin.
     */
    @FunctionalInterface
    public interface RegionFunction
    {
        /**
         * @param region the region covering the address.
         * @param memory the region's memory, read-only; index 0 is {@code region.start()}.
         * @param offset the address's offset in the region.
         * @return the result.
         */
        long apply(Region region, MemorySegment memory, long offset);
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
        // The hottest read gets its own speculative attempt through the window segment, and never loads the region
        // object or its view (each a cache miss in a large map: through the view, 33 ns became ~120 ns at 20 000
        // regions in LookupBenchmark.speculativeFindAndRead; through the region's own lock word while a writer
        // works, the reader kept 67% of its no-writer throughput instead of ~100%). A mapped page in the index, 8
        // bytes inside that page, and range speculation (the open section's lock log instead of the region's lock
        // word) decide. Anything else (a read across a page boundary, a logged range, a failed check) goes the
        // general way.
        final long s = mm.speculateBegin();
        final RegionMap m = snapshot();
        if (((address - base) & (page - 1)) <= page - Long.BYTES && m.isMapped(address))
        {
            final long v;
            try
            {
                v = window.get(ValueLayout.JAVA_LONG_UNALIGNED, address - base);
            }
            catch (final IllegalStateException | InternalError ex)
            {
                throw accessFailed("readLong", address, Long.BYTES, ex);
            }
            if (!mm.speculateRangeRetry(address, address + Long.BYTES, s))
            {
                return v;
            }
            speculationRetries.increment();
        }
        return readVia(address, LONG_AT, true, 0);
    }

    private static final RegionFunction LONG_AT = (region, memory, offset) -> {
        if (offset > region.length() - Long.BYTES)
        {
            throw notMapped("readLong", region.start() + offset, Long.BYTES);
        }
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    };

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
        return readVia(address, f, true, 0);
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
        return readVia(address, f, false, ifBusy);
    }

    private long readVia(final long address, final RegionFunction f, final boolean mayLock, final long ifBusy)
    {
        for (int attempt = 0; attempt < SPECULATION_ATTEMPTS; attempt++)
        {
            final long s = mm.speculateBegin();
            final Region r = snapshot().find(address);
            if (r == null)
            {
                checkOpen("read"); // a closed space has an empty map: say closed, not "not mapped"
                if ((s & 1) == 0 && !mm.speculateRetry(s))
                {
                    throw notMapped("read", address, 1); // validated: no region there
                }
                break; // a writer is active: the locked path decides
            }
            if (!mm.speculateRegion(r, s))
            {
                break; // write-locked by the open section
            }
            long v = 0;
            RuntimeException thrown = null;
            try
            {
                v = f.apply(r, r.view(), address - r.start());
            }
            catch (final RuntimeException ex)
            {
                thrown = ex; // may come from inconsistent data: decided by the validation below
            }
            catch (final InternalError ex)
            {
                thrown = accessFailed("read", address, 1, ex); // a fault of a stale mapping: validated below too
            }
            if (!mm.speculateRetry(r, s))
            {
                if (thrown != null)
                {
                    throw thrown;
                }
                return v;
            }
            speculationRetries.increment();
        }
        for (int attempt = 0; attempt < PIN_ATTEMPTS; attempt++)
        {
            final Region r = snapshot().find(address);
            if (r == null)
            {
                break;
            }
            final StartRead result = mm.tryStartRead(r);
            if (result == StartRead.PINNED)
            {
                try
                {
                    pinnedReads.increment();
                    return f.apply(r, r.view(), address - r.start());
                }
                catch (final InternalError ex)
                {
                    throw accessFailed("read", address, 1, ex);
                }
                finally
                {
                    mm.endRead(r);
                }
            }
            if (result == StartRead.WRITE_LOCKED)
            {
                break;
            }
        }
        return mayLock ? readLocked(address, f) : ifBusy;
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
        mm.readLock();
        try
        {
            final Region r = findLocked("readLocked", address);
            lockedReads.increment();
            try
            {
                return f.apply(r, r.view(), address - r.start());
            }
            catch (final InternalError ex)
            {
                throw accessFailed("readLocked", address, 1, ex);
            }
        }
        finally
        {
            mm.readUnlock();
        }
    }

    /** Under the shared mm lock: the region covering {@code address}, or why there is none. */
    private Region findLocked(final String op, final long address)
    {
        checkOpen(op);
        final Region r = snapshot().find(address);
        if (r == null)
        {
            throw notMapped(op, address, 1);
        }
        return r;
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
        final long length = dst.byteSize();
        for (int attempt = 0; attempt < SPECULATION_ATTEMPTS; attempt++)
        {
            // Range speculation, as readLong: while a section is open the copy is checked against every range the
            // section has locked, so a bulk read of regions the writer leaves alone does not wait for it. Every
            // region of the range that changed during the copy was logged before its memory changed.
            final long s = mm.speculateBegin();
            final boolean inside = snapshot().isMapped(address, address + length);
            if (inside)
            {
                copyOut(address, dst);
            }
            if (!mm.speculateRangeRetry(address, address + length, s))
            {
                if (!inside)
                {
                    checkOpen("read"); // a closed space has an empty map: say closed, not "not mapped"
                    throw notMapped("read", address, length);
                }
                return;
            }
            speculationRetries.increment();
        }
        if (mm.pinsCover(address, address + length))
        {
            // This thread's own leases pin the whole range: nothing can change it, and the shared lock may be held
            // by a writer that waits for those very leases.
            copyOut(address, dst);
            pinnedReads.increment();
            return;
        }
        mm.readLock();
        try
        {
            checkOpen("read");
            if (!snapshot().isMapped(address, address + length))
            {
                throw notMapped("read", address, length);
            }
            copyOut(address, dst);
            lockedReads.increment();
        }
        finally
        {
            mm.readUnlock();
        }
    }

    private void copyOut(final long address, final MemorySegment dst)
    {
        try
        {
            MemorySegment.copy(window, address - base, dst, 0, dst.byteSize());
        }
        catch (final IllegalStateException | InternalError ex)
        {
            throw accessFailed("read", address, dst.byteSize(), ex);
        }
    }

    /**
     * What a failed access of the window means: the space closed under a racing reader (the window's arena is
     * gone), or the file was truncated under a mapping (SIGBUS, which the JVM reports as an InternalError).
     */
    RuntimeException accessFailed(final String op, final long address, final long length, final Throwable ex)
    {
        if (ex instanceof InternalError fault)
        {
            return new RegionFaultException(op, address, length, snapshot().find(address), fault);
        }
        if (closed)
        {
            final SpaceClosedException c = new SpaceClosedException(op);
            c.addSuppressed(ex);
            return c;
        }
        return (RuntimeException)ex;
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
        read(address, MemorySegment.ofArray(dst).asSlice(offset, length));
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
        for (int attempt = 0; attempt < PIN_ATTEMPTS; attempt++)
        {
            final Region r = snapshot().find(address);
            if (r == null)
            {
                break; // not mapped, or being moved: the locked path decides
            }
            final StartRead result = mm.tryStartRead(r);
            if (result == StartRead.PINNED)
            {
                // Regions are immutable and never recycled: a pinned, attached region still covers the address.
                return new Lease(mm, r, readOnlyWindow, base);
            }
            if (result == StartRead.WRITE_LOCKED)
            {
                break;
            }
            // DETACHED: a newer map has replaced it; look again.
        }
        mm.readLock();
        try
        {
            final Region r = findLocked("lease", address);
            // No other writer can be active while we hold the mm lock shared; only this thread's own section can
            // have locked the region (it holds the write lock too).
            final StartRead result = mm.tryStartRead(r);
            if (result != StartRead.PINNED)
            {
                throw lockedByOwnSection("lease", r.toString(), result);
            }
            lockedReads.increment();
            return new Lease(mm, r, readOnlyWindow, base);
        }
        finally
        {
            mm.readUnlock();
        }
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
        if (length <= 0 || start < base || start > end - length)
        {
            throw new RegionArgumentException("leaseRange", "[" + hex(start) + ", +" + length +
                ") is not a range inside the window");
        }
        final List<Region> pinned = new ArrayList<>();
        for (int attempt = 0; attempt < PIN_ATTEMPTS; attempt++)
        {
            if (pinAll(snapshot(), start, start + length, pinned))
            {
                return new RangeLease(mm, pinned, windowView(start, length));
            }
        }
        mm.readLock();
        try
        {
            checkOpen("leaseRange");
            if (!pinAll(snapshot(), start, start + length, pinned))
            {
                if (snapshot().isMapped(start, start + length))
                {
                    throw lockedByOwnSection("leaseRange", "[" + hex(start) + ", +" + length + ")", null);
                }
                throw notMapped("leaseRange", start, length);
            }
            lockedReads.increment();
            return new RangeLease(mm, pinned, windowView(start, length));
        }
        finally
        {
            mm.readUnlock();
        }
    }

    /** Pins the regions covering [from, to) of one map version; on any refusal or gap drops them all. */
    private boolean pinAll(final RegionMap m, final long from, final long to, final List<Region> pinned)
    {
        pinned.clear();
        long at = from;
        while (at < to)
        {
            final Region r = m.find(at); // the page index: the region that covers at, or null at a gap
            if (r == null || mm.tryStartRead(r) != StartRead.PINNED)
            {
                break;
            }
            pinned.add(r);
            at = r.end();
        }
        if (at >= to)
        {
            return true;
        }
        for (final Region r : pinned)
        {
            mm.endRead(r);
        }
        pinned.clear();
        return false;
    }

    private IllegalStateException lockedByOwnSection(final String op, final String what, final StartRead result)
    {
        if (mm.isWriteLockedByCurrentThread())
        {
            return new IllegalStateException(op + ": " + what + " is write-locked by this thread's open write " +
                "section (it created or changed it); take the lease after the section closes");
        }
        return new IllegalStateException(op + ": pin refused under the mm read lock: " + result);
    }

    /**
     * @return the regions, in address order, read under the shared mm lock (a consistent list).
     */
    public List<Region> regions()
    {
        mm.readLock();
        try
        {
            return List.copyOf(snapshot().regions());
        }
        finally
        {
            mm.readUnlock();
        }
    }

    /**
     * @return how often reads left the speculative fast path (which itself is not counted: a shared counter would
     *         cost it more than the read).
     */
    public ReadCounts readCounts()
    {
        return new ReadCounts(speculationRetries.sum(), pinnedReads.sum(), lockedReads.sum());
    }

    /**
     * How often reads left the fast path.
     *
     * @param retries speculations that failed validation and were retried.
     * @param pinned  reads that fell back to pinning their region.
     * @param locked  reads and leases served under the shared mm lock.
     */
    public record ReadCounts(long retries, long pinned, long locked)
    {
    }

    /**
     * Compares the region map with the kernel's VMAs of the window (under the shared mm lock).
     *
     * @return the comparison, with both tables.
     */
    public KernelCheck.Report checkAgainstKernel()
    {
        mm.readLock();
        try
        {
            checkOpen("checkAgainstKernel");
            return KernelCheck.compare(snapshot(), base, end);
        }
        finally
        {
            mm.readUnlock();
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

    // ------------------------------------------------------------------ helpers shared with WriteSection

    void checkOpen(final String op)
    {
        if (closed)
        {
            throw new SpaceClosedException(op);
        }
    }

    void checkRange(final String op, final long start, final long length)
    {
        if (length <= 0 || length % page != 0)
        {
            throw new RegionArgumentException(op, "length=" + length + " must be positive and a multiple of " + page);
        }
        if (start % page != 0)
        {
            throw new RegionArgumentException(op, "start=" + hex(start) + " is not page-aligned");
        }
        final long rangeEnd;
        try
        {
            rangeEnd = Math.addExact(start, length);
        }
        catch (final ArithmeticException ex)
        {
            throw new RegionArgumentException(op, "start=" + hex(start) + " + length=" + length + " overflows");
        }
        if (start < base || rangeEnd > end)
        {
            throw new RegionArgumentException(op, "[" + hex(start) + ", " + hex(rangeEnd) +
                ") is outside the window [" + hex(base) + ", " + hex(end) + ")");
        }
    }

    MemorySegment windowView(final long start, final long length)
    {
        return readOnlyWindow.asSlice(start - base, length);
    }

    static void requireCovered(final String op, final RegionMap m, final long start, final long stop)
    {
        if (!m.isMapped(start, stop))
        {
            throw new RegionArgumentException(op, "[" + hex(start) + ", " + hex(stop) +
                ") is not entirely mapped by regions");
        }
    }

    static RegionArgumentException notMapped(final String op, final long address, final long length)
    {
        return new RegionArgumentException(op, "[" + hex(address) + ", +" + length + ") is not inside mapped regions");
    }

    /**
     * Puts a tombstone over a range: a read-only, anonymous, never-populated mapping, in one MAP_FIXED call, so the
     * range is never unmapped for an instant.
     */
    void tombstone(final long start, final long length) throws KernelException
    {
        kernel.mmap(start, length, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE |
            Mman.MAP_FIXED, -1, 0);
    }

    static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    // ------------------------------------------------------------------ lifecycle

    /** @return true once closed. */
    public boolean isClosed()
    {
        return closed;
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
        if (closed)
        {
            return;
        }
        if (mm.isWriteLockedByCurrentThread())
        {
            throw new IllegalStateException("close: a write section is open on this thread; close it first");
        }
        final String pins = mm.pinsOfCurrentThread();
        if (pins != null)
        {
            throw new IllegalStateException("close: this thread holds " + pins + "; close would wait for it forever: " +
                "close the lease first");
        }
        final long s = mm.tryBeginWrite(timeout, unit);
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
                if (!mm.writeLock(m.get(i)))
                {
                    throw RegionBusyException.pinned("close", m, i, unit.toNanos(timeout));
                }
            }
            // From here on nothing waits and nothing can leave the space half closed.
            closed = true;
            publish(RegionMap.empty(base, end));
            for (int i = 0; i < m.size(); i++)
            {
                mm.detach(m.get(i)); // locked above: no reader can pin it any more, nothing to wait for
            }
            try
            {
                closeArena(); // handshake with every thread, then releaseWindow()
            }
            finally
            {
                files.closeAll();
            }
            LOG.debug("address space [{}, {}) closed at sequence {}", hex(base), hex(end), s);
        }
        finally
        {
            mm.endWrite();
        }
    }

    /**
     * Closes the window's arena. A shared arena refuses to close while another thread is inside one of its accesses
     * at the handshake (a speculative reader still copying); such an access lasts nanoseconds and no new one finds
     * a region once the empty map is published, so try again.
     */
    private void closeArena()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                arena.close();
                return;
            }
            catch (final IllegalStateException ex)
            {
                if (!arena.scope().isAlive())
                {
                    return;
                }
                if (attempt >= 1_000)
                {
                    throw ex;
                }
                Thread.yield();
            }
        }
    }

    private void releaseWindow()
    {
        try
        {
            kernel.munmap(base, end - base);
        }
        catch (final KernelException ex)
        {
            LOG.warn("releasing the window failed: {}", ex.getMessage());
        }
    }
}
