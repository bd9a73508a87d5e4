package io.regionmm.region;

import io.regionmm.lock.RegionLock;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * A range [start, end) of the address space mapped from a file (the kernel's {@code vm_area_struct}). Immutable:
 * an operation that changes a region replaces it with new regions and detaches the old one, so a reader that
 * copied a region's fields has a consistent set. The lock words it inherits are the only mutable state.
 */
@SuppressWarnings("exports") // RegionLock's package stays internal: no outsider may touch a region's lock words
public final class Region extends RegionLock
{
    private final long start;
    private final long end;
    private final FileHandle file;
    private final long fileOffset;
    private final Protection protection;
    private final Sharing sharing;
    private final Advice advice;
    private final boolean locked;
    // Read-only view of [start, end) in the space's window, attached once before the region is published (and
    // so seen by every reader that finds the region): leases and speculative reads hand it out without allocating.
    private MemorySegment view;

    /**
     * Creates a region inside a write section.
     *
     * @param sectionSeq the creating section's sequence.
     * @param start      first address, page-aligned.
     * @param end        end address, page-aligned, greater than start.
     * @param file       the mapped file.
     * @param fileOffset file offset of start.
     * @param protection its protection.
     * @param sharing    shared or private.
     * @param advice     lasting advice (NORMAL, RANDOM, SEQUENTIAL).
     * @param locked     mlock'ed.
     */
    public Region(final long sectionSeq, final long start, final long end, final FileHandle file, final long fileOffset,
        final Protection protection, final Sharing sharing, final Advice advice, final boolean locked)
    {
        super(sectionSeq);
        this.start = start;
        this.end = end;
        this.file = file;
        this.fileOffset = fileOffset;
        this.protection = protection;
        this.sharing = sharing;
        this.advice = advice;
        this.locked = locked;
    }

    /**
     * Attaches the region's read-only memory view. Called once by the address space before it publishes the region.
     *
     * @param segment a read-only segment of exactly [start, end).
     * @throws IllegalStateException when a view is attached already, or the segment is not exactly that.
     */
    public void attachView(final MemorySegment segment)
    {
        if (view != null || !segment.isReadOnly() || segment.address() != start || segment.byteSize() != end - start)
        {
            throw new IllegalStateException("attachView: " + segment + " is not a fresh read-only view of " + this);
        }
        view = segment;
    }

    /**
     * @return the region's memory, read-only (index 0 is {@link #start()}). Every region found in a space's map has
     *         one: it is attached before the map that holds the region is published.
     * @throws IllegalStateException for a region not yet published by a space.
     */
    public MemorySegment view()
    {
        final MemorySegment v = view;
        if (v == null)
        {
            throw new IllegalStateException("view: " + this + " belongs to no published map yet");
        }
        return v;
    }

    /** @return whether a view is attached (the region has been published, or is being). */
    public boolean hasView()
    {
        return view != null;
    }

    /** @return first address. */
    public long start()
    {
        return start;
    }

    /** @return address after the last byte. */
    public long end()
    {
        return end;
    }

    /** @return end - start. */
    public long length()
    {
        return end - start;
    }

    /** @return the mapped file. */
    public FileHandle file()
    {
        return file;
    }

    /** @return file offset of {@link #start()}. */
    public long fileOffset()
    {
        return fileOffset;
    }

    /**
     * @param address an address inside the region.
     * @return the file offset it maps.
     */
    public long fileOffsetOf(final long address)
    {
        return fileOffset + (address - start);
    }

    /** @return protection. */
    public Protection protection()
    {
        return protection;
    }

    /** @return sharing. */
    public Sharing sharing()
    {
        return sharing;
    }

    /** @return lasting advice. */
    public Advice advice()
    {
        return advice;
    }

    /** @return true when mlock'ed. */
    public boolean locked()
    {
        return locked;
    }

    /**
     * @param address an address.
     * @return true when start &lt;= address &lt; end.
     */
    public boolean covers(final long address)
    {
        return address >= start && address < end;
    }

    /**
     * The same mapping over a sub-range, as a new region of the given section.
     *
     * @param sectionSeq the section.
     * @param from       new start, within this region.
     * @param to         new end, within this region.
     * @return the piece.
     */
    public Region slice(final long sectionSeq, final long from, final long to)
    {
        return new Region(sectionSeq, from, to, file, fileOffsetOf(from), protection, sharing, advice, locked);
    }

    /**
     * @param sectionSeq the section.
     * @param p          new protection.
     * @param a          new lasting advice.
     * @param l          new lock state.
     * @return a copy with those attributes.
     */
    public Region with(final long sectionSeq, final Protection p, final Advice a, final boolean l)
    {
        return new Region(sectionSeq, start, end, file, fileOffset, p, sharing, a, l);
    }

    /**
     * The kernel's merge rule for a region followed by {@code next}, as a yes or no: what writers ask after every
     * change, for each pair of neighbours around it (no allocation).
     *
     * @param next the region after this one.
     * @return true when they can merge.
     */
    public boolean canMergeWith(final Region next)
    {
        return firstConflict(next) == null;
    }

    /**
     * The kernel's merge rule for a region followed by {@code next}, with the reason when it keeps them apart.
     *
     * @param next the region after this one.
     * @return empty when they can merge, else the first rule that keeps them apart (see {@link MergeConflict}).
     */
    public Optional<MergeConflict> mergeConflict(final Region next)
    {
        return Optional.ofNullable(firstConflict(next));
    }

    /** @return the first rule broken, in {@link MergeConflict}'s order, or null: the rules in one place. */
    private MergeConflict firstConflict(final Region next)
    {
        if (end != next.start)
        {
            return MergeConflict.NOT_ADJACENT;
        }
        if (file != next.file)
        {
            return MergeConflict.DIFFERENT_FILES;
        }
        if (fileOffsetOf(end) != next.fileOffset)
        {
            return MergeConflict.FILE_OFFSETS_NOT_CONTIGUOUS;
        }
        if (protection != next.protection)
        {
            return MergeConflict.PROTECTION_DIFFERS;
        }
        if (sharing != next.sharing)
        {
            return MergeConflict.SHARING_DIFFERS;
        }
        if (advice != next.advice)
        {
            return MergeConflict.ADVICE_DIFFERS;
        }
        if (locked != next.locked)
        {
            return MergeConflict.LOCK_STATE_DIFFERS;
        }
        return null;
    }

    private static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    @Override
    public String toString()
    {
        return hex(start) + "-" + hex(end) + " " + (protection == Protection.READ ? "r-" : "rw") +
            (sharing == Sharing.SHARED ? "s" : "p") + " " + file + "@" + fileOffset +
            (advice != Advice.NORMAL ? " " + advice : "") + (locked ? " LOCKED" : "");
    }
}
