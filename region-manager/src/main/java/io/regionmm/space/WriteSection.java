package io.regionmm.space;

import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;
import io.regionmm.kernel.maps.MapsEntry;
import io.regionmm.kernel.maps.ProcMaps;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A write section: the mm lock held exclusively, one or many operations, then {@link #close()} releases every
 * region the section locked at once (by making the mm sequence even).
 *
 * <p>Each operation follows the same order: validate (refuse with {@link RegionArgumentException} before changing
 * anything); build the new map version; write-lock every region it replaces and every region whose memory will
 * change (waits for their leases: a section opened with a timeout gives up here with
 * {@link RegionBusyException}, before anything changed); make the system calls; publish the new map; detach the
 * regions it replaced. If a system call fails, the calls made
 * so far are undone and {@link MappingException} is thrown: the map, the kernel's mappings and the files are as
 * before. (The one gap: if an undo itself fails, which needs the kernel to refuse an operation it just allowed,
 * the failure is logged and the original error thrown.)
 *
 * <p>A section belongs to the thread that opened it: other threads' calls throw {@link WrongThreadException}. On
 * that thread, the space's one-shot methods join the open section.
 */
public final class WriteSection implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(WriteSection.class);

    private final AddressSpace space;
    private final long seq;
    private final long page;
    private final long timeoutNs; // 0: waits for leases as long as they are held
    private final Thread owner = Thread.currentThread();
    private boolean open = true;

    WriteSection(final AddressSpace space, final long seq, final long timeoutNs)
    {
        this.space = space;
        this.seq = seq;
        this.page = space.page;
        this.timeoutNs = timeoutNs;
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
            space.sectionEnded(this);
            space.mm.endWrite();
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
        space.sectionEnded(this);
        space.mm.downgrade();
        final boolean[] released = new boolean[1];
        return () -> {
            // The shared hold belongs to this thread (ReentrantReadWriteLock counts holds per thread): from another
            // thread, refuse before marking anything, so the owner's close still releases it.
            checkOwner("ReadHold.close");
            if (!released[0])
            {
                space.mm.endRead();
                released[0] = true;
            }
        };
    }

    private void checkActive(final String op)
    {
        checkOwner(op);
        if (!open)
        {
            throw new IllegalStateException(op + ": the write section is closed");
        }
        space.checkOpen(op);
    }

    /**
     * Write-locks a region this operation will change or replace; within the section's deadline, if it has one.
     * Called before the operation's first system call, so giving up changes nothing.
     */
    private void lock(final String op, final Region r)
    {
        if (!space.mm.writeLock(r))
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
     * @param options    placement; whether the file may grow (else a range past its end is refused).
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
        space.files.checkMappable(op, file);
        if (offset < 0 || offset % page != 0)
        {
            throw new RegionArgumentException(op, "offset=" + offset + " must be non-negative and page-aligned");
        }
        if (length <= 0 || length % page != 0)
        {
            throw new RegionArgumentException(op, "length=" + length + " must be positive and a multiple of " + page);
        }
        final long fileEnd = addExact(op, offset, length);
        if (protection == Protection.READ_WRITE && sharing == Sharing.SHARED && !file.writable())
        {
            throw new RegionArgumentException(op, "file " + file + " is open read-only and cannot be mapped " +
                "READ_WRITE SHARED; open it READ_WRITE or map it PRIVATE");
        }
        final RegionMap m = space.snapshot();
        final long addr;
        if (options.fixedAddress() != MapOptions.ANYWHERE)
        {
            addr = options.fixedAddress();
            space.checkRange(op, addr, length);
            if (!m.isFree(addr, addr + length))
            {
                throw new RegionArgumentException(op, "[" + AddressSpace.hex(addr) + ", " +
                    AddressSpace.hex(addr + length) + ") overlaps " + m.get(m.firstEndingAfter(addr)));
            }
        }
        else
        {
            addr = m.lowestGap(length);
            if (addr < 0)
            {
                throw new MappingException(op, "no free range of " + length + " bytes in the window (largest is " +
                    m.largestGap() + "); unmap regions or create the space with a larger window");
            }
        }
        checkGrowth(op, file, fileEnd, options.growFile());
        final Change c = new Change(m);
        final int i = m.firstEndingAfter(addr);
        c.splice(i, i, List.of(new Region(seq, addr, addr + length, file, offset, protection, sharing,
            Advice.NORMAL, false)));
        c.mergeAround(i - 1, i + 1);
        c.lockReplaced(op); // the neighbours it merges with
        final long oldSize = growFileFor(op, file, fileEnd, options.growFile());
        try
        {
            mapFile(addr, length, protection, sharing, file, offset, Advice.NORMAL, false);
        }
        catch (final KernelException ex)
        {
            undoGrowth(file, oldSize);
            throw new MappingException(op, ex);
        }
        c.commit();
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
        space.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = space.snapshot();
        final int i0 = m.firstEndingAfter(start);
        final int i1 = firstStartingAtOrAfter(m, i0, stop);
        if (i0 == i1)
        {
            return; // only tombstones there already
        }
        final List<Region> remnants = new ArrayList<>(2);
        final Region first = m.get(i0);
        final Region last = m.get(i1 - 1);
        if (first.start() < start)
        {
            remnants.add(first.slice(seq, first.start(), start));
        }
        if (last.end() > stop)
        {
            remnants.add(last.slice(seq, stop, last.end()));
        }
        final Change c = new Change(m);
        c.splice(i0, i1, remnants);
        c.lockReplaced(op); // every region the range touches: their memory changes
        try
        {
            space.tombstone(start, length);
        }
        catch (final KernelException ex)
        {
            repairHoles(m, start, stop);
            throw new MappingException(op, ex);
        }
        c.commit();
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
        if (address % page != 0)
        {
            throw new RegionArgumentException(op, "address=" + AddressSpace.hex(address) + " is not page-aligned");
        }
        final RegionMap m = space.snapshot();
        final int i = m.indexOf(address);
        if (i < 0)
        {
            throw new RegionArgumentException(op, "no region covers address=" + AddressSpace.hex(address));
        }
        final Region r = m.get(i);
        if (r.start() == address)
        {
            throw new RegionArgumentException(op, "address=" + AddressSpace.hex(address) +
                " is already the start of " + r);
        }
        final Change c = new Change(m);
        c.splice(i, i + 1, List.of(r.slice(seq, r.start(), address), r.slice(seq, address, r.end())));
        c.lockReplaced(op);
        c.commit();
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
        space.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = space.snapshot();
        final int i0 = m.indexOf(start);
        if (i0 < 0 || m.get(i0).start() != start)
        {
            throw new RegionArgumentException(op, "start=" + AddressSpace.hex(start) + " is not the start of a region");
        }
        int i1 = i0;
        while (m.get(i1).end() < stop)
        {
            if (i1 + 1 >= m.size() || m.get(i1 + 1).start() != m.get(i1).end())
            {
                throw new RegionArgumentException(op, "[" + AddressSpace.hex(start) + ", " + AddressSpace.hex(stop) +
                    ") has a gap after " + m.get(i1));
            }
            i1++;
        }
        if (m.get(i1).end() != stop)
        {
            throw new RegionArgumentException(op, "end=" + AddressSpace.hex(stop) + " is inside " + m.get(i1) +
                ", not at a region end");
        }
        for (int i = i0; i < i1; i++)
        {
            final var conflict = m.get(i).mergeConflict(m.get(i + 1));
            if (conflict.isPresent())
            {
                throw new IncompatibleRegionsException(m.get(i), m.get(i + 1), conflict.get());
            }
        }
        if (i0 == i1)
        {
            return;
        }
        final Change c = new Change(m);
        c.splice(i0, i1 + 1, List.of(joined(m.get(i0), stop)));
        c.lockReplaced(op);
        c.commit();
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
        final RegionMap m = space.snapshot();
        final int i = m.indexOf(regionStart);
        if (i < 0 || m.get(i).start() != regionStart)
        {
            throw new RegionArgumentException(op, "no region starts at " + AddressSpace.hex(regionStart));
        }
        if (newLength <= 0 || newLength % page != 0)
        {
            throw new RegionArgumentException(op, "newLength=" + newLength + " must be positive and a multiple of " +
                page);
        }
        final Region r = m.get(i);
        if (newLength == r.length())
        {
            return regionStart;
        }
        final long newFileEnd = addExact(op, r.fileOffset(), newLength);
        final Change c = new Change(m);
        if (newLength < r.length())
        {
            c.splice(i, i + 1, List.of(r.slice(seq, r.start(), r.start() + newLength)));
            c.lockReplaced(op); // r: its tail becomes a tombstone
            try
            {
                space.tombstone(r.start() + newLength, r.length() - newLength);
            }
            catch (final KernelException ex)
            {
                repairHoles(m, r.start() + newLength, r.end());
                throw new MappingException(op, ex);
            }
            c.commit();
            return regionStart;
        }
        final long grownEnd = r.start() + newLength; // no overflow: below fileEnd check's magnitude and the window
        final boolean inPlace = grownEnd <= space.end && m.isFree(r.end(), grownEnd);
        checkGrowth(op, r.file(), newFileEnd, growFile); // a refused growth is the caller's error: say so first
        final long dest = inPlace ? regionStart : m.lowestGap(newLength);
        if (dest < 0)
        {
            throw new MappingException(op, "no free range of " + newLength + " bytes to move " + r + " to");
        }
        if (inPlace)
        {
            c.splice(i, i + 1, List.of(joined(r, grownEnd)));
            c.mergeAround(i - 1, i + 1);
        }
        else
        {
            c.splice(i, i + 1, List.of());
            final int j = c.firstEndingAfter(dest);
            c.splice(j, j, List.of(new Region(seq, dest, dest + newLength, r.file(), r.fileOffset(), r.protection(),
                r.sharing(), r.advice(), r.locked())));
            c.mergeAround(j - 1, j + 1);
        }
        c.lockReplaced(op); // r (moved: its range becomes a tombstone) and the neighbours it merges with
        final long oldSize = growFileFor(op, r.file(), newFileEnd, growFile);
        try
        {
            if (inPlace)
            {
                mapFile(r.end(), newLength - r.length(), r.protection(), r.sharing(), r.file(),
                    r.fileOffsetOf(r.end()), r.advice(), r.locked());
            }
            else
            {
                move(r, dest, newLength);
            }
        }
        catch (final KernelException ex)
        {
            undoGrowth(r.file(), oldSize);
            throw new MappingException(op, ex);
        }
        c.commit();
        return dest;
    }

    private void move(final Region r, final long dest, final long newLength) throws KernelException
    {
        final boolean priv = r.sharing() == Sharing.PRIVATE;
        if (priv)
        {
            // The private pages move; the old range stays mapped (DONTUNMAP) until the tombstone below replaces it.
            space.kernel.mremap(r.start(), r.length(), r.length(),
                Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP, dest);
            try
            {
                mapFile(dest + r.length(), newLength - r.length(), r.protection(), r.sharing(), r.file(),
                    r.fileOffsetOf(r.end()), r.advice(), r.locked());
            }
            catch (final KernelException ex)
            {
                moveBack(r, dest, newLength);
                throw ex;
            }
        }
        else
        {
            mapFile(dest, newLength, r.protection(), r.sharing(), r.file(), r.fileOffset(), r.advice(), r.locked());
        }
        try
        {
            space.tombstone(r.start(), r.length());
        }
        catch (final KernelException ex)
        {
            if (priv)
            {
                moveBack(r, dest, newLength); // the pages go back over the emptied old range
            }
            else
            {
                bestEffortTombstone(dest, newLength);
                repairHoles(space.snapshot(), r.start(), r.end());
            }
            throw ex;
        }
    }

    private void moveBack(final Region r, final long dest, final long newLength)
    {
        try
        {
            // Replaces the emptied old range with the moved pages; dest is a gap in every published map.
            space.kernel.mremap(dest, r.length(), r.length(), Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, r.start());
        }
        catch (final KernelException undo)
        {
            LOG.error("remap: moving {} back from {} failed: {}", r, AddressSpace.hex(dest), undo.getMessage());
        }
        bestEffortTombstone(dest, newLength);
    }

    // ------------------------------------------------------------------ attributes

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
        final String op = "protect";
        Objects.requireNonNull(protection, "protection");
        checkActive(op);
        space.checkRange(op, start, length);
        final RegionMap m = space.snapshot();
        AddressSpace.requireCovered(op, m, start, start + length);
        if (protection == Protection.READ_WRITE)
        {
            for (final Region r : regionsIn(m, start, start + length))
            {
                if (r.sharing() == Sharing.SHARED && !r.file().writable())
                {
                    throw new RegionArgumentException(op, r + " maps a file opened read-only; it cannot become " +
                        "READ_WRITE SHARED");
                }
            }
        }
        changeRange(op, start, length,
            r -> r.protection() == protection ? null : r.with(seq, protection, r.advice(), r.locked()),
            (r, s, l) -> space.kernel.mprotect(s, l, protection.prot()),
            (r, s, l) -> space.kernel.mprotect(s, l, r.protection().prot()));
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
        final String op = "advise";
        Objects.requireNonNull(advice, "advice");
        checkActive(op);
        space.checkRange(op, start, length);
        if (!advice.lasting())
        {
            final RegionMap m = space.snapshot();
            AddressSpace.requireCovered(op, m, start, start + length);
            if (advice == Advice.DONTNEED)
            {
                final List<Region> touched = regionsIn(m, start, start + length);
                for (final Region r : touched)
                {
                    if (r.locked())
                    {
                        // the kernel answers EINVAL: locked pages cannot be dropped
                        throw new RegionArgumentException(op, "DONTNEED on " + r + ", which is locked; " +
                            "unlock it first");
                    }
                }
                // DONTNEED changes memory readers see (a PRIVATE mapping's dirty pages revert to the file's bytes;
                // writes through a lease would be dropped): lock like any other change, so pins block it and
                // speculation across it fails.
                for (final Region r : touched)
                {
                    lock(op, r);
                }
            }
            try
            {
                space.kernel.madvise(start, length, advice.madv());
            }
            catch (final KernelException ex)
            {
                throw new MappingException(op, ex);
            }
            return;
        }
        changeRange(op, start, length,
            r -> r.advice() == advice ? null : r.with(seq, r.protection(), advice, r.locked()),
            (r, s, l) -> space.kernel.madvise(s, l, advice.madv()),
            (r, s, l) -> space.kernel.madvise(s, l, r.advice().madv()));
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
        changeRange("lock", start, length,
            r -> r.locked() ? null : r.with(seq, r.protection(), r.advice(), true),
            (r, s, l) -> space.kernel.mlock(s, l),
            (r, s, l) -> space.kernel.munlock(s, l));
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
        changeRange("unlock", start, length,
            r -> r.locked() ? r.with(seq, r.protection(), r.advice(), false) : null,
            (r, s, l) -> space.kernel.munlock(s, l),
            (r, s, l) -> space.kernel.mlock(s, l));
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
        space.syncLocked(start, length, mode);
    }

    @FunctionalInterface
    private interface PieceCall
    {
        void call(Region original, long start, long length) throws KernelException;
    }

    private void changeRange(final String op, final long start, final long length,
        final Function<Region, Region> change, final PieceCall apply, final PieceCall revert) throws MappingException
    {
        checkActive(op);
        space.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = space.snapshot();
        AddressSpace.requireCovered(op, m, start, stop);
        final int i0 = m.indexOf(start);
        final int i1 = firstStartingAtOrAfter(m, i0, stop);
        final Region[] changed = new Region[i1 - i0];
        boolean any = false;
        for (int i = i0; i < i1; i++)
        {
            changed[i - i0] = change.apply(m.get(i));
            any |= changed[i - i0] != null;
        }
        if (!any)
        {
            return; // nothing changed, so nothing became mergeable: an explicit split stays
        }
        final List<Region> replacement = new ArrayList<>();
        final List<Region> changedPieces = new ArrayList<>();
        for (int i = i0; i < i1; i++)
        {
            final Region r = m.get(i);
            final Region to = changed[i - i0];
            if (to == null)
            {
                replacement.add(r);
                continue;
            }
            final long ps = Math.max(r.start(), start);
            final long pe = Math.min(r.end(), stop);
            if (r.start() < ps)
            {
                replacement.add(r.slice(seq, r.start(), ps));
            }
            final Region piece = to.slice(seq, ps, pe);
            replacement.add(piece);
            changedPieces.add(piece);
            if (pe < r.end())
            {
                replacement.add(r.slice(seq, pe, r.end()));
            }
        }
        final Change c = new Change(m);
        c.splice(i0, i1, replacement);
        // As the kernel's vma_merge after mprotect/madvise/mlock: only a changed piece merges, with its neighbours;
        // untouched boundaries (an explicit split, say) stay.
        for (int k = changedPieces.size() - 1; k >= 0; k--)
        {
            final Region piece = changedPieces.get(k);
            final int at = c.firstEndingAfter(piece.start());
            if (at < c.size() && c.get(at) == piece)
            {
                c.mergeAround(at - 1, at + 1);
            }
        }
        c.lockReplaced(op); // every changed region (it is replaced) and the neighbours merged with it
        for (int i = i0; i < i1; i++)
        {
            if (changed[i - i0] == null)
            {
                continue;
            }
            final Region r = m.get(i);
            final long ps = Math.max(r.start(), start);
            final long pe = Math.min(r.end(), stop);
            try
            {
                apply.call(r, ps, pe - ps);
            }
            catch (final KernelException ex)
            {
                for (int k = i - 1; k >= i0; k--)
                {
                    if (changed[k - i0] != null)
                    {
                        final Region done = m.get(k);
                        final long ds = Math.max(done.start(), start);
                        final long de = Math.min(done.end(), stop);
                        try
                        {
                            revert.call(done, ds, de - ds);
                        }
                        catch (final KernelException undo)
                        {
                            LOG.error("{}: undo on {} failed: {}", op, done, undo.getMessage());
                        }
                    }
                }
                throw new MappingException(op, ex);
            }
        }
        c.commit();
    }

    // ------------------------------------------------------------------ shared pieces

    /** @return the regions that overlap [start, stop), in address order. */
    private static List<Region> regionsIn(final RegionMap m, final long start, final long stop)
    {
        final int from = m.firstEndingAfter(start);
        return m.regions().subList(from, firstStartingAtOrAfter(m, from, stop));
    }

    private static int firstStartingAtOrAfter(final RegionMap m, final int from, final long address)
    {
        int i = from;
        while (i < m.size() && m.get(i).start() < address)
        {
            i++;
        }
        return i;
    }

    private static long addExact(final String op, final long offset, final long length)
    {
        try
        {
            return Math.addExact(offset, length);
        }
        catch (final ArithmeticException ex)
        {
            throw new RegionArgumentException(op, "offset=" + offset + " + length=" + length + " overflows");
        }
    }

    private Region joined(final Region first, final long end)
    {
        return new Region(seq, first.start(), end, first.file(), first.fileOffset(), first.protection(),
            first.sharing(), first.advice(), first.locked());
    }

    /**
     * Maps a file range at a fixed address with a region's attributes. On failure the range is a tombstone again
     * (a failed MAP_FIXED may already have removed what was there).
     */
    private void mapFile(final long addr, final long length, final Protection protection, final Sharing sharing,
        final FileHandle file, final long offset, final Advice advice, final boolean locked) throws KernelException
    {
        try
        {
            space.kernel.mmap(addr, length, protection.prot(), sharing.flag() | Mman.MAP_FIXED,
                space.files.fd("map", file), offset);
        }
        catch (final KernelException ex)
        {
            bestEffortTombstone(addr, length);
            throw ex;
        }
        try
        {
            if (locked)
            {
                space.kernel.mlock(addr, length);
            }
            if (advice != Advice.NORMAL)
            {
                space.kernel.madvise(addr, length, advice.madv());
            }
        }
        catch (final KernelException ex)
        {
            bestEffortTombstone(addr, length);
            throw ex;
        }
    }

    /**
     * After a failed MAP_FIXED over [from, to): the kernel may have removed part of what was there (older kernels
     * unmap before they map), or nothing at all. Asks the kernel which parts are now holes and puts back exactly
     * those: the regions' file mappings (private pages of a hole are gone with it) and tombstones elsewhere.
     * Mappings that survived are left alone, so their private pages survive too.
     */
    private void repairHoles(final RegionMap m, final long from, final long to)
    {
        long at = from;
        for (final MapsEntry e : ProcMaps.readWindow(from, to))
        {
            if (e.start() > at)
            {
                refill(m, at, e.start());
            }
            at = Math.max(at, e.end());
        }
        if (at < to)
        {
            refill(m, at, to);
        }
    }

    private void refill(final RegionMap m, final long from, final long to)
    {
        LOG.warn("refilling a hole the kernel left at [{}, {})", AddressSpace.hex(from), AddressSpace.hex(to));
        long at = from;
        for (int i = m.firstEndingAfter(from); i < m.size() && m.get(i).start() < to; i++)
        {
            final Region r = m.get(i);
            final long s = Math.max(r.start(), from);
            final long e = Math.min(r.end(), to);
            if (s > at)
            {
                bestEffortTombstone(at, s - at);
            }
            restore(r, s, e);
            at = e;
        }
        if (at < to)
        {
            bestEffortTombstone(at, to - at);
        }
    }

    /** Re-maps [from, to) of a region after a failed replacement (private pages there, if any, are lost). */
    private void restore(final Region r, final long from, final long to)
    {
        try
        {
            space.kernel.mmap(from, to - from, r.protection().prot(), r.sharing().flag() | Mman.MAP_FIXED,
                space.files.fd("restore", r.file()), r.fileOffsetOf(from));
            if (r.locked())
            {
                space.kernel.mlock(from, to - from);
            }
            if (r.advice() != Advice.NORMAL)
            {
                space.kernel.madvise(from, to - from, r.advice().madv());
            }
        }
        catch (final KernelException ex)
        {
            LOG.error("restoring {} failed: {}", r, ex.getMessage());
        }
    }

    private void bestEffortTombstone(final long addr, final long length)
    {
        try
        {
            space.tombstone(addr, length);
        }
        catch (final KernelException ex)
        {
            LOG.error("restoring the tombstone at {} (+{}) failed: {}", AddressSpace.hex(addr), length, ex.getMessage());
        }
    }

    /** Refuses, before anything changes, a range past the file's end that may not or cannot grow it. */
    private void checkGrowth(final String op, final FileHandle file, final long required, final boolean allowed)
        throws MappingException
    {
        final long size = space.fileSizeLocked(file);
        if (size < required)
        {
            refuseGrowth(op, file, required, allowed, size);
        }
    }

    private void refuseGrowth(final String op, final FileHandle file, final long required, final boolean allowed,
        final long size)
    {
        if (!allowed)
        {
            throw new RegionArgumentException(op, "the range ends at file offset " + required + ", past the end of " +
                file + " (" + size + " bytes); ask for the file to grow");
        }
        if (!file.writable())
        {
            throw new RegionArgumentException(op, "file " + file + " is open read-only and cannot grow to " + required);
        }
    }

    private long growFileFor(final String op, final FileHandle file, final long required, final boolean allowed)
        throws MappingException
    {
        final long size = space.fileSizeLocked(file);
        if (size >= required)
        {
            return -1;
        }
        refuseGrowth(op, file, required, allowed, size);
        try
        {
            // fallocate, not ftruncate: blocks are reserved now, so a full disk is this error, not a SIGBUS later.
            space.kernel.fallocate(space.files.fd("grow", file), 0, size, required - size);
        }
        catch (final KernelException ex)
        {
            undoGrowth(file, size);
            throw new MappingException(op, ex);
        }
        return size;
    }

    private void undoGrowth(final FileHandle file, final long oldSize)
    {
        if (oldSize < 0)
        {
            return;
        }
        try
        {
            space.kernel.ftruncate(space.files.fd("grow", file), oldSize);
        }
        catch (final KernelException ex)
        {
            LOG.error("shrinking {} back to {} failed: {}", file, oldSize, ex.getMessage());
        }
    }

    /**
     * A new map version being built: splices on a working list, one map built and published at commit, then the
     * replaced regions are detached. The working list is the base version's list seen through a window: only the
     * stretch the splices touch is copied (into {@code middle}), and at commit that stretch replaces the base's
     * [lo, hi), which copies the chunks it touches, not the whole list.
     */
    private final class Change
    {
        private final RegionMap base;
        // Working list = base[0, lo) + middle + base[hi, base.size()).
        private int lo;
        private int hi;
        private final ArrayList<Region> middle = new ArrayList<>();
        private final List<Region> added = new ArrayList<>();
        private final List<Region> removed = new ArrayList<>();
        private boolean locked;

        Change(final RegionMap from)
        {
            base = from;
        }

        int size()
        {
            return lo + middle.size() + base.size() - hi;
        }

        Region get(final int i)
        {
            if (i < lo)
            {
                return base.get(i);
            }
            final int j = i - lo;
            return j < middle.size() ? middle.get(j) : base.get(hi + j - middle.size());
        }

        /** Widens the copied stretch until it holds the working indexes [from, to). */
        private void include(final int from, final int to)
        {
            if (middle.isEmpty() && lo == hi)
            {
                lo = from; // nothing copied yet: start the (empty) stretch where it is needed
                hi = from;
            }
            if (from < lo)
            {
                middle.addAll(0, base.regions().subList(from, lo));
                lo = from;
            }
            final int end = lo + middle.size();
            if (to > end)
            {
                middle.addAll(base.regions().subList(hi, hi + to - end));
                hi += to - end;
            }
        }

        /** @return the index of the first region ending after {@code address} (size() when none). */
        int firstEndingAfter(final long address)
        {
            int low = 0;
            int high = size();
            while (low < high)
            {
                final int mid = (low + high) >>> 1;
                if (get(mid).end() <= address)
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }
            return low;
        }

        void splice(final int from, final int to, final List<Region> replacement)
        {
            include(from, to);
            final List<Region> replaced = middle.subList(from - lo, to - lo);
            for (final Region old : replaced)
            {
                // One born in this change and gone again (merged away) was never published: neither added nor removed.
                if (!containsIdentity(replacement, old) && !removeIdentity(added, old))
                {
                    removed.add(old);
                }
            }
            for (final Region r : replacement)
            {
                if (!containsIdentity(replaced, r))
                {
                    added.add(r);
                }
            }
            replaced.clear();
            middle.addAll(from - lo, replacement);
        }

        /** Merges compatible neighbours among the regions at indexes [lo, hi], as the kernel merges after a change. */
        void mergeAround(final int lo, final int hi)
        {
            final int from = Math.max(0, lo);
            final int to = Math.min(size() - 1, hi);
            for (int j = to; j > from; )
            {
                int i = j;
                while (i > from && get(i - 1).canMergeWith(get(i)))
                {
                    i--;
                }
                if (i < j)
                {
                    splice(i, j + 1, List.of(joined(get(i), get(j).end())));
                }
                j = i - 1;
            }
        }

        /**
         * Write-locks every region this change replaces (waiting for its leases, within the section's deadline).
         * Called before the operation's first system call; a replaced region's pin must not outlive it, because
         * the region that succeeds it covers the same memory and a later section would wait only for its own pins.
         */
        void lockReplaced(final String op)
        {
            for (final Region r : removed)
            {
                lock(op, r);
            }
            locked = true;
        }

        void commit()
        {
            if (!locked)
            {
                throw new IllegalStateException("commit before lockReplaced: a replaced region could still be pinned");
            }
            for (final Region r : added)
            {
                space.files.addRegion(r.file()); // before any removal: a file's count never touches zero in between
                if (r.view() == null)
                {
                    r.attachView(space.windowView(r.start(), r.length())); // published with the map below
                }
            }
            space.publish(base.replace(lo, hi, middle, removed, added));
            for (final Region r : removed)
            {
                space.mm.detach(r); // locked already: nothing to wait for
                space.files.removeRegion(r.file());
            }
        }

        private static boolean removeIdentity(final List<Region> list, final Region r)
        {
            for (int i = 0; i < list.size(); i++)
            {
                if (list.get(i) == r)
                {
                    list.remove(i);
                    return true;
                }
            }
            return false;
        }

        private static boolean containsIdentity(final List<Region> list, final Region r)
        {
            for (final Region x : list)
            {
                if (x == r)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
