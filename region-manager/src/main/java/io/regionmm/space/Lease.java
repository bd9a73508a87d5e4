package io.regionmm.space;

import io.regionmm.lock.MmLock;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A pin on one region (the kernel's per-VMA read lock): while it is open the region cannot be unmapped, moved,
 * shrunk, re-protected or DONTNEED'd, so its memory may be read, and for READ_WRITE regions written, directly.
 *
 * <p>{@link #segment()} is read-only and needs no scoping: reads of the window never fault. {@link #writableSegment()}
 * belongs to an arena confined to the leasing thread and closed with the lease, because a write through a stale
 * view into a range that has since become read-only (or a tombstone) is a SIGSEGV that kills the JVM; after
 * {@link #close()} using it throws {@link IllegalStateException}.
 *
 * <p>The same memory as an Agrona buffer or a Chronicle store: {@code io.regionmm.view.AgronaView} and
 * {@code io.regionmm.view.chronicle.ChronicleView}; like the writable segment, those views die with the lease.
 *
 * <p>Obtained from {@link AddressSpace#lease}. Use and close it on the thread that took it (another thread's reads
 * and close throw {@link WrongThreadException} and change nothing; {@link #segment()} is read-only and may be
 * shared, its reads never fault). While it is open, that thread cannot write to the space (a writer waits for pins,
 * so the call throws instead of deadlocking), and its reads never wait for a writer that waits for this lease.
 */
public final class Lease extends PinOwner
{
    private final MmLock mm;
    private final Region region;
    // The whole window, read-only, and the region's offset in it: the get methods read through this one hot
    // segment instead of the region's own view (an object a large map rarely has in cache).
    private final MemorySegment window;
    private final long offsetInWindow;

    /** Wraps a pin the calling thread has just taken with {@link MmLock#tryStartRead}. */
    Lease(final MmLock mm, final Region region, final MemorySegment window, final long windowStart)
    {
        this.mm = mm;
        this.region = region;
        this.window = window;
        this.offsetInWindow = region.start() - windowStart;
        watchForLeaks();
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
     * @param offset offset in the region.
     * @return the 8 bytes there (native order).
     * @throws IndexOutOfBoundsException when they are not all inside the region.
     */
    public long getLong(final long offset)
    {
        final long at = at(offset, Long.BYTES);
        try
        {
            return window.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
        }
        catch (final InternalError ex)
        {
            throw faulted("getLong", offset, Long.BYTES, ex);
        }
    }

    /**
     * @param offset offset in the region.
     * @return the 4 bytes there (native order).
     * @throws IndexOutOfBoundsException when they are not all inside the region.
     */
    public int getInt(final long offset)
    {
        final long at = at(offset, Integer.BYTES);
        try
        {
            return window.get(ValueLayout.JAVA_INT_UNALIGNED, at);
        }
        catch (final InternalError ex)
        {
            throw faulted("getInt", offset, Integer.BYTES, ex);
        }
    }

    /**
     * @param offset offset in the region.
     * @return the byte there.
     * @throws IndexOutOfBoundsException when it is not inside the region.
     */
    public byte getByte(final long offset)
    {
        final long at = at(offset, 1);
        try
        {
            return window.get(ValueLayout.JAVA_BYTE, at);
        }
        catch (final InternalError ex)
        {
            throw faulted("getByte", offset, 1, ex);
        }
    }

    /**
     * Copies bytes of the region into {@code dst}.
     *
     * @param offset offset in the region.
     * @param dst    destination; its size is the length.
     * @throws IndexOutOfBoundsException when the bytes are not all inside the region.
     */
    public void copyTo(final long offset, final MemorySegment dst)
    {
        final long at = at(offset, dst.byteSize());
        try
        {
            MemorySegment.copy(window, at, dst, 0, dst.byteSize());
        }
        catch (final InternalError ex)
        {
            throw faulted("copyTo", offset, dst.byteSize(), ex);
        }
    }

    private RegionFaultException faulted(final String op, final long offset, final long size, final InternalError ex)
    {
        return new RegionFaultException("lease." + op, region.start() + offset, size, region, ex);
    }

    private long at(final long offset, final long size)
    {
        // Only the owner reads through the lease: its closed flag is the owner's, and another thread could read
        // after the owner closed it, whatever is mapped there by then.
        checkOwner("read");
        checkOpen();
        if (offset < 0 || offset > region.length() - size)
        {
            throw new IndexOutOfBoundsException("lease on " + region + ": [" + offset + ", +" + size +
                ") is outside the region");
        }
        return offsetInWindow + offset;
    }

    /**
     * @return the region's memory, writable, valid until this lease closes and only on this thread.
     * @throws IllegalStateException when the region is READ, or the lease is closed.
     * @throws WrongThreadException  when called by another thread than the one that took the lease.
     */
    public MemorySegment writableSegment()
    {
        checkOwner("writableSegment");
        checkOpen();
        checkWritable("writableSegment");
        return writableView(region.start(), region.length());
    }

    @Override
    void checkWritable(final String op)
    {
        if (region.protection() != Protection.READ_WRITE)
        {
            throw new IllegalStateException(op + ": region " + region + " is read-only");
        }
    }

    @Override
    long viewAddress()
    {
        return region.start();
    }

    @Override
    long viewLength()
    {
        return region.length();
    }

    @Override
    String describe()
    {
        return "lease on " + region;
    }

    @Override
    void release()
    {
        closeWritableViews(); // before the pins go: no write through a view can reach a region being changed
        mm.endRead(region);
    }
}
