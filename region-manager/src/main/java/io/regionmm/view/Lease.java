package io.regionmm.view;

import io.regionmm.lock.MmLock;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A pin on one region (the kernel's per-VMA read lock): while it is open the region cannot be unmapped, moved,
 * shrunk or re-protected, so its memory may be read, and for READ_WRITE regions written, directly.
 *
 * <p>{@link #segment()} is read-only and needs no scoping: reads of the window never fault. {@link #writableSegment()}
 * belongs to an arena confined to the leasing thread and closed with the lease, because a write through a stale
 * view into a range that has since become read-only (or a tombstone) is a SIGSEGV that kills the JVM; after
 * {@link #close()} using it throws {@link IllegalStateException}.
 *
 * <p>Obtained from {@code AddressSpace.lease}; close it on the same thread, and do not begin a write section
 * while holding it (the writer would wait for this lease).
 */
public final class Lease implements AutoCloseable
{
    private final MmLock mm;
    private final Region region;
    private Arena writeArena;
    private boolean closed;

    /**
     * Wraps a pin already taken with {@link MmLock#tryStartRead}. Called by the address space.
     *
     * @param mm     the lock the pin was taken on.
     * @param region the pinned region, its view attached.
     */
    public Lease(final MmLock mm, final Region region)
    {
        this.mm = mm;
        this.region = region;
    }

    /** @return the pinned region (its fields are immutable). */
    public Region region()
    {
        return region;
    }

    /**
     * @return the region's memory, read-only; index 0 is {@code region().start()}.
     */
    public MemorySegment segment()
    {
        checkOpen();
        return region.view(); // read-only and never faulting: no need to scope it to the lease
    }

    /**
     * @return the region's memory, writable, valid until this lease closes and only on this thread.
     * @throws IllegalStateException when the region is READ, or the lease is closed.
     */
    public MemorySegment writableSegment()
    {
        checkOpen();
        if (region.protection() != Protection.READ_WRITE)
        {
            throw new IllegalStateException("writableSegment: region " + region + " is read-only");
        }
        if (writeArena == null)
        {
            writeArena = Arena.ofConfined();
        }
        return MemorySegment.ofAddress(region.start()).reinterpret(region.length(), writeArena, null);
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("lease on " + region + " is closed");
        }
    }

    /**
     * Drops the pin (and kills the writable segment). Idempotent.
     */
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
            writeArena.close();
        }
        mm.endRead(region);
    }
}
