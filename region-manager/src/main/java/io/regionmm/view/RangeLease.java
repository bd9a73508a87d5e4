package io.regionmm.view;

import io.regionmm.lock.MmLock;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Pins on every region of a contiguous range (several adjacent regions): until it closes, none of them can be
 * unmapped, moved, shrunk or re-protected, so the range's memory may be read directly through {@link #segment()},
 * and written through {@link #writableSegment()} when every region is READ_WRITE (a record that straddles two
 * regions). Like a {@link Lease}'s, the writable segment belongs to an arena confined to the leasing thread and
 * closed with the lease: a write through it after the regions changed could be a SIGSEGV.
 * Obtained from {@code AddressSpace.leaseRange}; close it on the thread that took it.
 */
public final class RangeLease implements AutoCloseable
{
    private final MmLock mm;
    private final List<Region> regions;
    private final MemorySegment range;
    private Arena writeArena;
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
        checkOpen();
        return range;
    }

    /**
     * @return the range's memory, writable, valid until this lease closes and only on this thread; index 0 is the
     *         range's start.
     * @throws IllegalStateException when a region of the range is not READ_WRITE, or the lease is closed.
     */
    public MemorySegment writableSegment()
    {
        checkOpen();
        for (final Region r : regions)
        {
            if (r.protection() != Protection.READ_WRITE)
            {
                throw new IllegalStateException("writableSegment: region " + r + " of the range is read-only");
            }
        }
        if (writeArena == null)
        {
            writeArena = Arena.ofConfined();
        }
        return MemorySegment.ofAddress(range.address()).reinterpret(range.byteSize(), writeArena, null);
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("range lease on " + regions + " is closed");
        }
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
        if (writeArena != null)
        {
            writeArena.close(); // before the pins go: no write through it can reach a region being changed
        }
        for (final Region r : regions)
        {
            mm.endRead(r);
        }
    }
}
