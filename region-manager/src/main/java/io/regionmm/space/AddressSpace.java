package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.lock.MmLock;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

    private final Mm mm;
    private final MmLock lock;
    private final Window window;
    private final ReadLadder ladder;
    // Copied from the window for readLong's first attempt: loaded from this object, not through another.
    private final MemorySegment segment;
    private final long base;
    private final long page;
    private final WriterGate gate;

    private AddressSpace(final Kernel kernel, final long windowSize) throws MappingException
    {
        ErrorPathWarmup.once(); // before the first mapping: see the class
        window = Window.reserve(kernel, windowSize);
        mm = new Mm(kernel, window);
        lock = mm.lock;
        ladder = new ReadLadder(mm);
        segment = window.segment;
        base = window.base;
        page = window.page;
        gate = new WriterGate(mm);
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

    /**
     * The whole window's memory, read-only, index 0 at {@link #windowStart()}: what a subscriber reads through the
     * addresses it caches (see {@link Subscription}). Reads never fault (every part of the window that is not a
     * region reads as zeros) but are not validated: what they return is only known to be a region's bytes when a
     * lease pins it or a subscription's check passes after the read. After {@link #close()} every access throws
     * {@link IllegalStateException}.
     *
     * @return the window's segment.
     */
    public MemorySegment memory()
    {
        return window.readOnly;
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
        return mm.files.open(path, access); // no write section: no mapping changes and no lease is waited for
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
        gate.releaseFile(file);
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
        return gate.begin();
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
        return gate.begin(timeout, unit);
    }

    /**
     * Opens a write section that never waits (the kernel's non-blocking invalidation, used where waiting is not
     * allowed): the mm lock only if it is free now; an operation that would wait for a lease throws
     * {@link RegionBusyException}; subscription listeners are told they may not block, and one that would block
     * makes the operation throw {@link InvalidationRefusedException}. Either way that operation changed nothing and
     * the section stays usable.
     *
     * @return the section; close it on this thread.
     * @throws RegionBusyException   when another thread holds the mm lock (nothing changed).
     * @throws IllegalStateException as {@link #beginWrite()}.
     */
    public WriteSection beginWriteNonBlocking()
    {
        return gate.beginNonBlocking();
    }

    /**
     * Subscribes to a range (the kernel's mmu interval notifier): {@code listener} is told before any write changes
     * memory in it (unmap, shrink, move, protect, DONTNEED, close), so the subscriber can cache pointers into it and
     * validate them with the subscription's sequence instead of a lease per use. See {@link Subscription}. Finding
     * the subscriptions a write overlaps costs O(log n) per write and per subscription found (an interval tree).
     *
     * @param start    page-aligned start inside the window (the range need not be mapped).
     * @param length   page-aligned length, &gt; 0.
     * @param listener told of each invalidation of the range.
     * @return the subscription; close it to unsubscribe.
     * @throws RegionArgumentException when the range is not page-aligned, empty, overflows or leaves the window.
     * @throws SpaceClosedException    when the space is closed.
     * @throws IllegalStateException   when called from a listener.
     */
    public Subscription subscribe(final long start, final long length, final InvalidationListener listener)
    {
        return mm.subscribers.subscribe(start, length, listener);
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
        return gate.oneShot("map", w -> w.map(file, offset, length, protection, sharing, options));
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#unmap
     */
    public void unmap(final long start, final long length) throws MappingException
    {
        gate.run("unmap", w -> w.unmap(start, length));
    }

    /**
     * @param address where to split.
     * @see WriteSection#split
     */
    public void split(final long address)
    {
        gate.runUnchecked("split", w -> w.split(address));
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @see WriteSection#merge
     */
    public void merge(final long start, final long length)
    {
        gate.runUnchecked("merge", w -> w.merge(start, length));
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
        return gate.oneShot("remap", w -> w.remap(regionStart, newLength, growFile));
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
        gate.run("protect", w -> w.protect(start, length, protection));
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
        AttributeChange.adviseOneShot(mm, gate, start, length, advice); // read-ahead bypasses write sections
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses (e.g. RLIMIT_MEMLOCK); nothing changed.
     * @see WriteSection#lock
     */
    public void lock(final long start, final long length) throws MappingException
    {
        gate.run("lock", w -> w.lock(start, length));
    }

    /**
     * @param start  range start.
     * @param length range length.
     * @throws MappingException when the kernel refuses; nothing changed.
     * @see WriteSection#unlock
     */
    public void unlock(final long start, final long length) throws MappingException
    {
        gate.run("unlock", w -> w.unlock(start, length));
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
        mm.shared("sync", () -> mm.sync(start, length, mode));
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
        // The first rung of the read ladder, here at the front door: every object between the caller and the map
        // is a dependent load this read pays (see ReadLadder). A mapped page in the index, 8 bytes inside that page
        // and range speculation (the open section's lock log instead of the region's lock word) decide; anything
        // else (a read across a page boundary, a logged range, a failed check) climbs the ladder.
        final long s = lock.speculateBegin();
        final RegionMap m = mm.snapshot();
        if (((address - base) & (page - 1)) > page - Long.BYTES || !m.isMapped(address))
        {
            return ladder.readLong(address, false);
        }
        final long v;
        try
        {
            v = segment.get(ValueLayout.JAVA_LONG_UNALIGNED, address - base);
        }
        catch (final IllegalStateException | InternalError ex)
        {
            throw ladder.accessFailed("readLong", address, Long.BYTES, ex);
        }
        return lock.speculateRangeRetry(address, address + Long.BYTES, s) ? ladder.readLong(address, true) : v;
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

    /** @return the shared state: the mm lock, the newest map, the mapping count (for this package's tests). */
    Mm mm()
    {
        return mm;
    }

    // ------------------------------------------------------------------ lifecycle

    /** @return true once closed. */
    public boolean isClosed()
    {
        return mm.isClosed();
    }

    /**
     * Waits for leases to close, unmaps every region, releases the window and closes the files. Idempotent. While
     * leases keep it waiting it logs, every ten seconds, which regions are still pinned;
     * {@link #close(long, TimeUnit)} gives up instead.
     *
     * @throws IllegalStateException when called by a thread that has a write section open, holds the mm lock
     *                               shared or holds a lease (the close would wait for that thread itself).
     */
    @Override
    public void close()
    {
        mm.exit();
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
        mm.exit(timeout, unit);
    }
}
