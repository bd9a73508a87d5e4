package io.regionmm.space;

import io.regionmm.kernel.Kernel;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The kernel steps of a write section that can fail half way, each beside its undo: map a file range (undo: the
 * tombstone again), move a region (undo: move it back), grow a file (undo: truncate it back), change attributes
 * piece by piece (undo: revert the pieces done), and, after a failed MAP_FIXED, repair whatever holes the kernel
 * left. A step that throws has already undone itself: the caller only reports the error, and the map, the kernel's
 * mappings and the files are as before.
 *
 * <p>An undo that fails itself (the kernel refusing an operation it just allowed) poisons the space
 * ({@link Mm#poison}): the original error is thrown, with a {@link SpacePoisonedException} attached, and every later
 * write is refused, since the map may no longer match the kernel or the files. The remaining undos still run.
 */
final class Rollback
{
    private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

    private final Mm mm;
    private final Kernel kernel;

    Rollback(final Mm mm)
    {
        this.mm = mm;
        this.kernel = mm.kernel;
    }

    // ------------------------------------------------------------------ mapping a file range

    /**
     * Maps a file range at a fixed address, where the current map has a gap, with a region's attributes. On
     * failure the range is a tombstone again (a failed MAP_FIXED may already have removed what was there).
     */
    void mapFile(final String op, final long addr, final long length, final Protection protection,
        final Sharing sharing, final FileHandle file, final long offset, final Advice advice, final boolean locked)
        throws KernelException
    {
        try
        {
            kernel.mmap(addr, length, protection.prot(), sharing.flag() | Mman.MAP_FIXED, mm.files.fd("map", file),
                offset);
        }
        catch (final KernelException ex)
        {
            // Only what the kernel actually removed goes back: a refusal it made before touching anything (ENOMEM
            // at vm.max_map_count is checked first) leaves the tombstone whole, and putting another over part of it
            // would need one more mapping, the one the kernel has just refused.
            repairHoles(op, mm.snapshot(), addr, addr + length);
            throw ex;
        }
        try
        {
            if (locked)
            {
                kernel.mlock(addr, length);
            }
            if (advice != Advice.NORMAL)
            {
                kernel.madvise(addr, length, advice.madv());
            }
        }
        catch (final KernelException ex)
        {
            bestEffortTombstone(op, addr, length);
            throw ex;
        }
    }

    /**
     * Tombstones a range that regions of {@code m} map; if the kernel refuses, puts back what it removed.
     */
    void tombstone(final String op, final RegionMap m, final long start, final long stop) throws KernelException
    {
        try
        {
            mm.window.tombstone(start, stop - start);
        }
        catch (final KernelException ex)
        {
            repairHoles(op, m, start, stop);
            throw ex;
        }
    }

    // ------------------------------------------------------------------ moving a region

    /**
     * Moves {@code r} to [dest, dest + newLength), the old range becoming a tombstone only after the new one is in
     * place: a PRIVATE region with mremap(MAYMOVE | FIXED | DONTUNMAP) so its private pages travel, then the file's
     * next part after them; a SHARED one by mapping the file again.
     */
    void move(final String op, final Region r, final long dest, final long newLength) throws KernelException
    {
        final boolean priv = r.sharing() == Sharing.PRIVATE;
        if (priv)
        {
            // The private pages move; the old range stays mapped (DONTUNMAP) until the tombstone below replaces it.
            kernel.mremap(r.start(), r.length(), r.length(),
                Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP, dest);
            try
            {
                mapFile(op, dest + r.length(), newLength - r.length(), r.protection(), r.sharing(), r.file(),
                    r.fileOffsetOf(r.end()), r.advice(), r.locked());
            }
            catch (final KernelException ex)
            {
                moveBack(op, r, dest, newLength);
                throw ex;
            }
        }
        else
        {
            mapFile(op, dest, newLength, r.protection(), r.sharing(), r.file(), r.fileOffset(), r.advice(), r.locked());
        }
        try
        {
            mm.window.tombstone(r.start(), r.length());
        }
        catch (final KernelException ex)
        {
            if (priv)
            {
                moveBack(op, r, dest, newLength); // the pages go back over the emptied old range
            }
            else
            {
                bestEffortTombstone(op, dest, newLength);
                repairHoles(op, mm.snapshot(), r.start(), r.end());
            }
            throw ex;
        }
    }

    private void moveBack(final String op, final Region r, final long dest, final long newLength)
    {
        try
        {
            // Replaces the emptied old range with the moved pages; dest is a gap in every published map.
            kernel.mremap(dest, r.length(), r.length(), Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, r.start());
        }
        catch (final KernelException undo)
        {
            mm.poison(op, "moving " + r + " back from " + Window.hex(dest), undo);
        }
        bestEffortTombstone(op, dest, newLength);
    }

    // ------------------------------------------------------------------ attributes, piece by piece

    /** One system call on one piece of a region (mprotect, madvise, mlock, ...). */
    @FunctionalInterface
    interface PieceCall
    {
        void call(Region original, long start, long length) throws KernelException;
    }

    /**
     * Applies {@code apply} to the part inside [start, stop) of each region {@code in.get(k)} whose
     * {@code changed[k]} is not null; when one fails, reverts the pieces done, last first.
     */
    void applyToPieces(final List<Region> in, final Region[] changed, final long start, final long stop,
        final PieceCall apply, final PieceCall revert, final String op) throws KernelException
    {
        for (int k = 0; k < changed.length; k++)
        {
            if (changed[k] == null)
            {
                continue;
            }
            final Region r = in.get(k);
            try
            {
                apply.call(r, Math.max(r.start(), start), Math.min(r.end(), stop) - Math.max(r.start(), start));
            }
            catch (final KernelException ex)
            {
                for (int d = k - 1; d >= 0; d--)
                {
                    if (changed[d] != null)
                    {
                        final Region done = in.get(d);
                        final long ds = Math.max(done.start(), start);
                        try
                        {
                            revert.call(done, ds, Math.min(done.end(), stop) - ds);
                        }
                        catch (final KernelException undo)
                        {
                            mm.poison(op, "reverting " + Window.hex(ds) + " of " + done, undo);
                        }
                    }
                }
                throw ex;
            }
        }
    }

    // ------------------------------------------------------------------ holes after a failed MAP_FIXED

    /**
     * After a failed MAP_FIXED over [from, to): the kernel may have removed part of what was there (older kernels
     * unmap before they map), or nothing at all. Asks the kernel which parts are now holes and puts back exactly
     * those: the regions' file mappings (private pages of a hole are gone with it) and tombstones elsewhere.
     * Mappings that survived are left alone, so their private pages survive too.
     */
    void repairHoles(final String op, final RegionMap m, final long from, final long to)
    {
        long at = from;
        for (final MapsEntry e : ProcMaps.readWindow(from, to))
        {
            if (e.start() > at)
            {
                refill(op, m, at, e.start());
            }
            at = Math.max(at, e.end());
        }
        if (at < to)
        {
            refill(op, m, at, to);
        }
    }

    private void refill(final String op, final RegionMap m, final long from, final long to)
    {
        LOG.warn("refilling a hole the kernel left at [{}, {})", Window.hex(from), Window.hex(to));
        long at = from;
        for (int i = m.firstEndingAfter(from); i < m.size() && m.get(i).start() < to; i++)
        {
            final Region r = m.get(i);
            final long s = Math.max(r.start(), from);
            final long e = Math.min(r.end(), to);
            if (s > at)
            {
                bestEffortTombstone(op, at, s - at);
            }
            restore(op, r, s, e);
            at = e;
        }
        if (at < to)
        {
            bestEffortTombstone(op, at, to - at);
        }
    }

    /** Re-maps [from, to) of a region after a failed replacement (private pages there, if any, are lost). */
    private void restore(final String op, final Region r, final long from, final long to)
    {
        try
        {
            kernel.mmap(from, to - from, r.protection().prot(), r.sharing().flag() | Mman.MAP_FIXED,
                mm.files.fd("restore", r.file()), r.fileOffsetOf(from));
            if (r.locked())
            {
                kernel.mlock(from, to - from);
            }
            if (r.advice() != Advice.NORMAL)
            {
                kernel.madvise(from, to - from, r.advice().madv());
            }
        }
        catch (final KernelException ex)
        {
            mm.poison(op, "restoring [" + Window.hex(from) + ", " + Window.hex(to) + ") of " + r, ex);
        }
    }

    private void bestEffortTombstone(final String op, final long addr, final long length)
    {
        try
        {
            mm.window.tombstone(addr, length);
        }
        catch (final KernelException ex)
        {
            mm.poison(op, "restoring the tombstone at " + Window.hex(addr) + " (+" + length + ")", ex);
        }
    }

    // ------------------------------------------------------------------ growing a file

    /** Refuses, before anything changes, a range past the file's end that may not or cannot grow it. */
    void checkGrowth(final String op, final FileHandle file, final long required, final boolean allowed)
        throws MappingException
    {
        final long size = mm.fileSize(op, file);
        if (size < required)
        {
            refuseGrowth(op, file, required, allowed, size);
        }
    }

    /**
     * Refuses to make SHARED regions writable over [.., stop) when their file is open read-only, or when the range
     * ends past the file's end: a READ region may end inside its file's last page (see map), and bytes written past
     * the end would be lost without an error.
     */
    void checkMayBecomeWritable(final String op, final List<Region> regions, final long stop) throws MappingException
    {
        for (final Region r : regions)
        {
            if (r.sharing() != Sharing.SHARED)
            {
                continue;
            }
            if (!r.file().writable())
            {
                throw new RegionArgumentException(op, r + " maps a file opened read-only; it cannot become " +
                    "READ_WRITE SHARED");
            }
            if (r.protection() == Protection.READ)
            {
                final long size = mm.fileSize(op, r.file());
                if (r.fileOffsetOf(Math.min(r.end(), stop)) > size)
                {
                    throw new RegionArgumentException(op, "the range ends past the end of the file of " + r + " (" +
                        size + " bytes): writes there would be lost; grow the file first");
                }
            }
        }
    }

    private static void refuseGrowth(final String op, final FileHandle file, final long required,
        final boolean allowed, final long size)
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

    /**
     * Grows the file to {@code required} bytes when it is shorter (fallocate: a full disk is this error now, not a
     * SIGBUS later).
     *
     * @return the old size, for {@link #undoGrowth}; -1 when the file was long enough.
     */
    long growFileFor(final String op, final FileHandle file, final long required, final boolean allowed)
        throws MappingException
    {
        final long size = mm.fileSize(op, file);
        if (size >= required)
        {
            return -1;
        }
        refuseGrowth(op, file, required, allowed, size);
        try
        {
            kernel.fallocate(mm.files.fd("grow", file), 0, size, required - size);
        }
        catch (final KernelException ex)
        {
            undoGrowth(op, file, size);
            throw mm.failed(op, ex);
        }
        return size;
    }

    /** Truncates the file back to {@code oldSize} (from {@link #growFileFor}); nothing when it is -1. */
    void undoGrowth(final String op, final FileHandle file, final long oldSize)
    {
        if (oldSize < 0)
        {
            return;
        }
        try
        {
            kernel.ftruncate(mm.files.fd("grow", file), oldSize);
        }
        catch (final KernelException ex)
        {
            mm.poison(op, "truncating " + file + " back to " + oldSize + " bytes", ex);
        }
    }
}
