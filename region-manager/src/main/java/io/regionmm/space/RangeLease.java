package io.regionmm.space;

import io.regionmm.lock.MmLock;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Pins on every region of a contiguous range (several adjacent regions): until it closes, none of them can be
 * unmapped, moved, shrunk, re-protected or DONTNEED'd, so the range's memory may be read directly through
 * {@link #segment()}, and written through {@link #writableSegment()} when every region is READ_WRITE (a record that
 * straddles two regions). Like a {@link Lease}'s, the writable segment belongs to an arena confined to the leasing
 * thread and closed with the lease: a write through it after the regions changed could be a SIGSEGV.
 * Obtained from {@link AddressSpace#leaseRange}; the rules of {@link Lease} about threads apply.
 */
public final class RangeLease extends PinOwner
{
    private final MmLock mm;
    private final List<Region> regions;
    private final MemorySegment range;

    /** Wraps pins the calling thread has just taken, one per region, in address order. */
    RangeLease(final MmLock mm, final List<Region> regions, final MemorySegment range)
    {
        this.mm = mm;
        this.regions = List.copyOf(regions);
        this.range = range;
        watchForLeaks();
    }

    /** @return the pinned regions, in address order. */
    public List<Region> regions()
    {
        return regions;
    }

    /**
     * @return the range's memory, read-only; index 0 is the range's start.
     */
    public MemorySegment segment()
    {
        checkOpen();
        return range;
    }

    /**
     * @return the range's memory, writable, valid until this lease closes and only on this thread; index 0 is the
     *         range's start.
     * @throws IllegalStateException when a region of the range is not READ_WRITE, or the lease is closed.
     * @throws WrongThreadException  when called by another thread than the one that took the lease.
     */
    public MemorySegment writableSegment()
    {
        checkOwner("writableSegment");
        checkOpen();
        checkWritable("writableSegment");
        return writableView(range.address(), range.byteSize());
    }

    @Override
    void checkWritable(final String op)
    {
        for (final Region r : regions)
        {
            if (r.protection() != Protection.READ_WRITE)
            {
                throw new IllegalStateException(op + ": region " + r + " of the range is read-only");
            }
        }
    }

    @Override
    long viewAddress()
    {
        return range.address();
    }

    @Override
    long viewLength()
    {
        return range.byteSize();
    }

    @Override
    String describe()
    {
        return "range lease on " + regions;
    }

    @Override
    void release()
    {
        closeWritableViews(); // before the pins go: no write through a view can reach a region being changed
        for (int i = regions.size() - 1; i >= 0; i--)
        {
            mm.endRead(regions.get(i));
        }
    }
}
