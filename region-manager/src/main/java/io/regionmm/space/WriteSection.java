package io.regionmm.space;

import io.regionmm.kernel.KernelException;
import io.regionmm.lock.MmLock;
import io.regionmm.map.MapEdit;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.MergeConflict;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A write section: the mm lock held exclusively, one or many operations, then {@link #close()} releases every
 * region the section locked at once (by making the mm sequence even).
 *
 * <p>Each operation follows the same order: validate (refuse with {@link RegionArgumentException} before changing
 * anything); build the new map version; write-lock every region it replaces and every region whose memory will
 * change (waits for their leases: a section opened with a timeout gives up here with
 * {@link RegionBusyException}, before anything changed); make the system calls; commit: count the files' new
 * regions, attach views, publish the new map, detach the regions it replaced, uncount their files (in that order:
 * a file's count never touches zero in between, and no reader can pin a region after it is detached). If a system
 * call fails, the calls made so far are undone ({@code Rollback}) and {@link MappingException} is thrown: the map,
 * the kernel's mappings and the files are as before. If an undo itself fails (the kernel refusing an operation it
 * just allowed), the space is poisoned: the original error is thrown with a {@link SpacePoisonedException}
 * attached, and every later write (this section's operations included) is refused with one; reads still work and
 * {@link AddressSpace#close()} still releases everything.
 *
 * <p>A section belongs to the thread that opened it: other threads' calls throw {@link WrongThreadException}. On
 * that thread, the space's one-shot methods join the open section.
 */
public final class WriteSection implements AutoCloseable
{
    private final Mm mm;
    private final MmLock lock;
    private final Window window;
    private final Rollback rollback;
    private final AttributeChange attributes; // protect, advise, lock, unlock
    private final Consumer<WriteSection> ended; // told as the section ends, still holding the write lock
    private final long seq;
    private final long timeoutNs; // 0: waits for leases as long as they are held
    private final boolean mayBlock; // false: opened non-blocking; listeners are told they may not block
    private final Thread owner = Thread.currentThread();
    private boolean open = true;

    WriteSection(final Mm mm, final Rollback rollback, final long seq, final long timeoutNs, final boolean mayBlock,
        final Consumer<WriteSection> ended)
    {
        this.mayBlock = mayBlock;
        this.mm = mm;
        this.lock = mm.lock;
        this.window = mm.window;
        this.rollback = rollback;
        this.ended = ended;
        this.seq = seq;
        this.timeoutNs = timeoutNs;
        this.attributes = new AttributeChange(this, mm, rollback, seq);
    }

    /** @return this section's mm sequence (odd). */
    public long sequence()
    {
        return seq;
    }

    /**
     * Ends the section: every region it locked is released, the mm lock too. Idempotent.
     */
    @Override
    public void close()
    {
        checkOwner("close");
        if (open)
        {
            open = false;
            mm.subscribers.endAll(); // every change is published: subscribers may rebuild from the new map
            ended.accept(this);
            lock.endWrite();
        }
    }

    private void checkOwner(final String op)
    {
        if (Thread.currentThread() != owner)
        {
            throw new WrongThreadException(op + ": write section " + seq + " belongs to thread " + owner.getName() +
                ", not " + Thread.currentThread().getName());
        }
    }

    /**
     * Ends the section like {@link #close()} (every region it locked is released) but keeps the mm lock shared, so
     * no other writer can change the map before the caller has read what it needs.
     *
     * @return the shared hold; close it to release the mm lock.
     */
    public ReadHold downgrade()
    {
        checkOwner("downgrade");
        if (!open)
        {
            throw new IllegalStateException("downgrade: the write section is closed");
        }
        open = false;
        mm.subscribers.endAll();
        ended.accept(this);
        lock.downgrade();
        final boolean[] released = new boolean[1];
        return () -> {
            // The shared hold belongs to this thread (ReentrantReadWriteLock counts holds per thread): from another
            // thread, refuse before marking anything, so the owner's close still releases it.
            checkOwner("ReadHold.close");
            if (!released[0])
            {
                lock.readUnlock();
                released[0] = true;
            }
        };
    }

    /**
     * Tells the subscriptions overlapping [start, end) that their memory is about to change: after the operation's
     * checks, before it write-locks a region or makes a system call, so a listener that refuses leaves everything as
     * it was. The invalidation stays running until the section ends.
     */
    void invalidate(final String op, final long start, final long end, final InvalidationCause cause)
    {
        mm.subscribers.invalidate(op, start, end, cause, mayBlock);
    }

    void checkActive(final String op)
    {
        mm.subscribers.refuseInListener(op);
        checkOwner(op);
        if (!open)
        {
            throw new IllegalStateException(op + ": the write section is closed");
        }
        mm.checkWritable(op);
    }

    /**
     * Write-locks a region this operation will change or replace; within the section's deadline, if it has one.
     * Called before the operation's first system call, so giving up changes nothing.
     */
    void writeLock(final String op, final Region r)
    {
        if (!lock.writeLock(r))
        {
            throw RegionBusyException.pinned(op, r, timeoutNs);
        }
    }

    // ------------------------------------------------------------------ map

    /**
     * Maps {@code length} bytes of {@code file} from {@code offset}: at {@code options.fixedAddress()} (refused if it
     * overlaps a region), else in the lowest gap that fits. Merges with compatible neighbours, as the kernel does.
     *
     * @param file       the file.
     * @param offset     file offset, page-aligned, &gt;= 0.
     * @param length     bytes, page-aligned, &gt; 0.
     * @param protection READ or READ_WRITE (READ_WRITE SHARED needs a file opened read-write).
     * @param sharing    SHARED or PRIVATE.
     * @param options    placement; whether the file may grow (else a range past its end is refused; a READ range
     *                   may end inside the file's last page, whose bytes past the end read as zeros).
     * @return the start address of the mapped range.
     * @throws MappingException when the kernel refuses or there is no room; nothing changed.
     */
    public long map(final FileHandle file, final long offset, final long length, final Protection protection,
        final Sharing sharing, final MapOptions options) throws MappingException
    {
        final String op = "map";
        checkActive(op);
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(protection, "protection");
        Objects.requireNonNull(sharing, "sharing");
        Objects.requireNonNull(options, "options");
        mm.files.checkMappable(op, file);
        window.checkFileOffset(op, offset);
        window.checkLength(op, "length", length);
        final long fileEnd = Window.addExact(op, "offset", offset, length);
        FileTable.checkWritableShared(op, file, protection, sharing);
        final RegionMap m = mm.snapshot();
        final long addr = window.unmappedArea(op, m, length, options.fixedAddress(), "");
        // A READ mapping may end inside the file's last page: the kernel fills the rest of that page with zeros and
        // never faults there, and files are seldom a multiple of the page size (a Lucene index, a log). A writable
        // one may not (bytes written past the end would be lost), and no range may reach a page wholly past the end
        // (a read there is a SIGBUS).
        final long needed = protection == Protection.READ && !options.growFile() ? fileEnd - window.page + 1 : fileEnd;
        rollback.checkGrowth(op, file, needed, options.growFile());
        final MapEdit c = new MapEdit(m, seq);
        c.insert(new Region(seq, addr, addr + length, file, offset, protection, sharing, Advice.NORMAL, false));
        mm.mapCount.check(op, c.vmaDelta()); // vm.max_map_count: before anything waits or changes
        lockReplaced(op, c); // the neighbours it merges with
        final long oldSize = rollback.growFileFor(op, file, needed, options.growFile());
        try
        {
            rollback.mapFile(op, addr, length, protection, sharing, file, offset, Advice.NORMAL, false);
        }
        catch (final KernelException ex)
        {
            rollback.undoGrowth(op, file, oldSize);
            throw mm.failed(op, ex);
        }
        commit(c);
        return addr;
    }

    // ------------------------------------------------------------------ unmap

    /**
     * Unmaps any range: regions inside it go, regions it cuts keep their outer parts. The range becomes a
     * tombstone in the same system call, so it is never unmapped for an instant.
     *
     * @param start  page-aligned start inside the window.
     * @param length page-aligned length.
     * @throws MappingException when the kernel refuses; nothing changed.
     */
    public void unmap(final long start, final long length) throws MappingException
    {
        final String op = "unmap";
        checkActive(op);
        window.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = mm.snapshot();
        final MapEdit c = new MapEdit(m, seq);
        if (!c.cut(start, stop))
        {
            return; // only tombstones there already
        }
        mm.mapCount.check(op, c.vmaDelta()); // vm.max_map_count: before anything waits or changes
        invalidate(op, start, stop, InvalidationCause.UNMAP);
        lockReplaced(op, c); // every region the range touches: their memory changes
        try
        {
            rollback.tombstone(op, m, start, stop);
        }
        catch (final KernelException ex)
        {
            throw mm.failed(op, ex);
        }
        commit(c);
    }

    // ------------------------------------------------------------------ split and merge

    /**
     * Splits the region covering {@code address} in two there. No system call: the kernel's VMAs split only
     * when an operation needs it; the split stays in the map until an explicit {@link #merge}, or until an
     * operation touching the boundary merges it as the kernel would.
     *
     * @param address page-aligned, strictly inside a region.
     */
    public void split(final long address)
    {
        final String op = "split";
        checkActive(op);
        window.checkAligned(op, "address", address);
        final RegionMap m = mm.snapshot();
        final int i = m.indexOf(address);
        if (i < 0)
        {
            throw new RegionArgumentException(op, "no region covers address=" + Window.hex(address));
        }
        final Region r = m.get(i);
        if (r.start() == address)
        {
            throw new RegionArgumentException(op, "address=" + Window.hex(address) +
                " is already the start of " + r);
        }
        final MapEdit c = new MapEdit(m, seq);
        c.split(i, address);
        lockReplaced(op, c);
        commit(c);
    }

    /**
     * Merges the regions that exactly make up [start, start + length) into one.
     *
     * @param start  the first region's start.
     * @param length the total length.
     * @throws IncompatibleRegionsException naming the first pair the kernel's rules keep apart.
     */
    public void merge(final long start, final long length)
    {
        final String op = "merge";
        checkActive(op);
        window.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = mm.snapshot();
        final int i0 = m.indexOf(start);
        final int i1 = i0 + Window.requireExactRegions(op, m, start, stop).size() - 1;
        for (int i = i0; i < i1; i++)
        {
            final Optional<MergeConflict> conflict = m.get(i).mergeConflict(m.get(i + 1));
            if (conflict.isPresent())
            {
                throw new IncompatibleRegionsException(m.get(i), m.get(i + 1), conflict.get());
            }
        }
        if (i0 == i1)
        {
            return;
        }
        final MapEdit c = new MapEdit(m, seq);
        c.join(i0, i1);
        lockReplaced(op, c);
        commit(c);
    }

    // ------------------------------------------------------------------ remap

    /**
     * Changes a region's length. Shrinking tombstones the tail. Growing maps the next part of the file right after
     * the region when that range is free, else moves the region to the lowest gap that fits: a PRIVATE region
     * with mremap(MAYMOVE | FIXED | DONTUNMAP) so its private pages travel, a SHARED one by mapping the file
     * again; either way the old range becomes a tombstone only after the new one is in place.
     *
     * @param regionStart the region's start address.
     * @param newLength   page-aligned, &gt; 0.
     * @param growFile    whether the file may grow (fallocate) to back the new length.
     * @return the region's start after the call.
     * @throws MappingException when the kernel refuses or no gap fits; nothing changed.
     */
    public long remap(final long regionStart, final long newLength, final boolean growFile) throws MappingException
    {
        final String op = "remap";
        checkActive(op);
        final RegionMap m = mm.snapshot();
        final int i = m.indexOf(regionStart);
        if (i < 0 || m.get(i).start() != regionStart)
        {
            throw new RegionArgumentException(op, "no region starts at " + Window.hex(regionStart));
        }
        window.checkLength(op, "newLength", newLength);
        if (newLength > window.end - window.base)
        {
            throw new RegionArgumentException(op, "newLength=" + newLength + " is larger than the window (" +
                (window.end - window.base) + " bytes)");
        }
        final Region r = m.get(i);
        if (newLength == r.length())
        {
            return regionStart;
        }
        final long newFileEnd = Window.addExact(op, "fileOffset", r.fileOffset(), newLength);
        final MapEdit c = new MapEdit(m, seq);
        if (newLength < r.length())
        {
            c.resize(i, r.start() + newLength);
            mm.mapCount.check(op, c.vmaDelta()); // vm.max_map_count: before anything waits or changes
            invalidate(op, r.start() + newLength, r.end(), InvalidationCause.SHRINK);
            lockReplaced(op, c); // r: its tail becomes a tombstone
            try
            {
                rollback.tombstone(op, m, r.start() + newLength, r.end());
            }
            catch (final KernelException ex)
            {
                throw mm.failed(op, ex);
            }
            commit(c);
            return regionStart;
        }
        final long grownEnd = r.start() + newLength; // no overflow: newLength fits the window, r.start() is inside it
        final boolean inPlace = grownEnd <= window.end && m.isFree(r.end(), grownEnd);
        // A refused growth is the caller's error: say so before "no room".
        rollback.checkGrowth(op, r.file(), newFileEnd, growFile);
        final long dest = inPlace ? regionStart :
            window.unmappedArea(op, m, newLength, MapOptions.ANYWHERE, " to move " + r + " to");
        if (inPlace)
        {
            c.resize(i, grownEnd);
        }
        else
        {
            c.move(i, dest, newLength);
        }
        mm.mapCount.check(op, c.vmaDelta()); // vm.max_map_count: before anything waits or changes
        if (!inPlace)
        {
            invalidate(op, r.start(), r.end(), InvalidationCause.MOVE); // growing in place changes no mapped byte
        }
        lockReplaced(op, c); // r (moved: its range becomes a tombstone) and the neighbours it merges with
        final long oldSize = rollback.growFileFor(op, r.file(), newFileEnd, growFile);
        try
        {
            if (inPlace)
            {
                rollback.mapFile(op, r.end(), newLength - r.length(), r.protection(), r.sharing(), r.file(),
                    r.fileOffsetOf(r.end()), r.advice(), r.locked());
            }
            else
            {
                rollback.move(op, r, dest, newLength);
            }
        }
        catch (final KernelException ex)
        {
            rollback.undoGrowth(op, r.file(), oldSize);
            throw mm.failed(op, ex);
        }
        commit(c);
        return dest;
    }

    // ------------------------------------------------------------------ attributes (AttributeChange)

    /**
     * Changes the protection of any mapped sub-range, splitting regions at its ends and merging neighbours that
     * become compatible.
     *
     * @param start      page-aligned start.
     * @param length     page-aligned length; every byte must be mapped.
     * @param protection READ or READ_WRITE.
     * @throws MappingException when mprotect fails; nothing changed.
     */
    public void protect(final long start, final long length, final Protection protection) throws MappingException
    {
        attributes.protect(start, length, protection);
    }

    /**
     * Advises the kernel on any mapped sub-range. RANDOM, SEQUENTIAL and NORMAL become region attributes
     * (splitting and merging like protect); WILLNEED and DONTNEED act on the pages once and change no region.
     *
     * @param start  page-aligned start.
     * @param length page-aligned length; every byte must be mapped.
     * @param advice the advice.
     * @throws MappingException when madvise fails; nothing changed.
     */
    public void advise(final long start, final long length, final Advice advice) throws MappingException
    {
        attributes.advise(start, length, advice);
    }

    /**
     * mlock's any mapped sub-range: its pages stay in memory.
     *
     * @param start  page-aligned start.
     * @param length page-aligned length; every byte must be mapped.
     * @throws MappingException when mlock fails (RLIMIT_MEMLOCK); nothing changed.
     */
    public void lock(final long start, final long length) throws MappingException
    {
        attributes.lock(start, length);
    }

    /**
     * munlock's any mapped sub-range.
     *
     * @param start  page-aligned start.
     * @param length page-aligned length; every byte must be mapped.
     * @throws MappingException when munlock fails; nothing changed.
     */
    public void unlock(final long start, final long length) throws MappingException
    {
        attributes.unlock(start, length);
    }

    /**
     * msync of any mapped range, inside this section.
     *
     * @param start  page-aligned start.
     * @param length page-aligned length.
     * @param mode   the mode.
     * @throws MappingException when msync fails.
     */
    public void sync(final long start, final long length, final SyncMode mode) throws MappingException
    {
        checkActive("sync");
        mm.sync(start, length, mode);
    }

    // ------------------------------------------------------------------ commit

    /**
     * Write-locks every region the edit replaces (waiting for its leases, within the section's deadline), and ends
     * the editing. Called before the operation's first system call; a replaced region's pin must not outlive it,
     * because the region that succeeds it covers the same memory and a later section would wait only for its own
     * pins.
     */
    void lockReplaced(final String op, final MapEdit edit)
    {
        for (final Region r : edit.freeze())
        {
            writeLock(op, r);
        }
    }

    /** Makes the edit the space's map; the order is protocol (see the class comment). */
    void commit(final MapEdit edit)
    {
        final RegionMap next = edit.build(); // refuses an edit whose replaced regions were not locked
        for (final Region r : edit.added())
        {
            mm.files.addRegion(r.file()); // before any removal: a file's count never touches zero in between
            if (!r.hasView())
            {
                r.attachView(window.view(r.start(), r.length())); // published with the map below
            }
        }
        mm.publish(next);
        mm.mapCount.add(edit.vmaDelta());
        for (final Region r : edit.removed())
        {
            lock.detach(r); // locked already: nothing to wait for
            mm.files.removeRegion(r.file());
        }
    }
}
