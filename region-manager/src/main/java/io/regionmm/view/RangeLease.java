package io.regionmm.view;

import io.regionmm.lock.MmLock;
import io.regionmm.region.Region;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Pins on every region of a contiguous range (several adjacent regions): until it closes, none of them can be
 * unmapped, moved, shrunk or re-protected, so the range's memory may be read directly through {@link #segment()}.
 * Obtained from {@code AddressSpace.leaseRange}; close it on the thread that took it.
 */
public final class RangeLease implements AutoCloseable
{
    private final MmLock mm;
    private final List<Region> regions;
    private final MemorySegment range;
    private boolean closed;

    /**
     * Wraps pins already taken, one per region. Called by the address space.
     *
     * @param mm      the lock the pins were taken on.
     * @param regions the pinned regions, in address order, adjacent.
     * @param range   the range's memory, a read-only slice of the window.
     */
    public RangeLease(final MmLock mm, final List<Region> regions, final MemorySegment range)
    {
        this.mm = mm;
        this.regions = List.copyOf(regions);
        this.range = range;
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
        if (closed)
        {
            throw new IllegalStateException("range lease on " + regions + " is closed");
        }
        return range;
    }

    /** Drops every pin. Idempotent. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final Region r : regions)
        {
            mm.endRead(r);
        }
    }
}
