package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Region;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The range of virtual addresses a space owns: reserved at creation as one read-only, never-populated anonymous
 * mapping (MAP_NORESERVE: it costs no memory); every region is placed inside it with MAP_FIXED and nothing outside
 * it is ever touched. Every part of it that is not a region is a tombstone of the same kind, so a stale read of any
 * address in the window returns zeros instead of faulting.
 *
 * <p>Also the one family of argument checks for addresses and lengths: page alignment, the window's bounds,
 * overflow, coverage by regions. Each names the operation and the argument it refuses.
 *
 * <p>Memory is reached through one segment of a shared {@link Arena}: closing it is the JDK's handshake, after
 * which no thread is inside an access and the reservation can go.
 */
final class Window
{
    private static final Logger LOG = LoggerFactory.getLogger(Window.class);

    final long base;
    final long end;
    final long page;
    private final Kernel kernel;
    private final Arena arena;
    /** The whole window: the hot reads (readLong, bulk copies) go through this one segment. */
    final MemorySegment segment;
    /** The same, read-only, made once: leases and region views are slices of it. */
    final MemorySegment readOnly;

    private Window(final Kernel kernel, final long base, final long size)
    {
        this.kernel = kernel;
        this.base = base;
        this.end = base + size;
        this.page = kernel.pageSize();
        this.arena = Arena.ofShared();
        // The cleanup runs when the arena closes, after the JDK's handshake: no thread is inside an access then.
        this.segment = MemorySegment.ofAddress(base).reinterpret(size, arena, ignored -> release());
        this.readOnly = segment.asReadOnly();
    }

    /**
     * Reserves a window.
     *
     * @throws RegionArgumentException when the size is not a positive multiple of the page size.
     * @throws MappingException        when the kernel refuses the reservation.
     */
    static Window reserve(final Kernel kernel, final long size) throws MappingException
    {
        final long page = kernel.pageSize();
        if (size <= 0 || size % page != 0)
        {
            throw new RegionArgumentException("create", "windowSize=" + size +
                " must be positive and a multiple of the page size " + page);
        }
        final long base;
        try
        {
            base = kernel.mmap(0, size, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE,
                -1, 0);
        }
        catch (final KernelException ex)
        {
            throw new MappingException("create", ex);
        }
        LOG.debug("address space reserved [{}, {}) ({} bytes)", hex(base), hex(base + size), size);
        return new Window(kernel, base, size);
    }

    /** @return a read-only view of [start, start + length), which must be inside the window. */
    MemorySegment view(final long start, final long length)
    {
        return readOnly.asSlice(start - base, length);
    }

    // ------------------------------------------------------------------ argument checks

    /** Refuses a length that is not positive or not a multiple of the page size. */
    void checkLength(final String op, final String name, final long length)
    {
        if (length <= 0 || length % page != 0)
        {
            throw new RegionArgumentException(op, name + "=" + length + " must be positive and a multiple of " + page);
        }
    }

    /** Refuses an address that is not page-aligned (shown in hex). */
    void checkAligned(final String op, final String name, final long address)
    {
        checkAligned(op, name, hex(address), address);
    }

    /** Refuses a file offset that is negative or not page-aligned (shown in decimal, as file sizes are). */
    void checkFileOffset(final String op, final long offset)
    {
        checkAligned(op, "offset", Long.toString(offset), offset);
    }

    private void checkAligned(final String op, final String name, final String shown, final long value)
    {
        if (value < 0 || value % page != 0)
        {
            throw new RegionArgumentException(op, name + "=" + shown + (value < 0 ? " is negative" :
                " is not page-aligned"));
        }
    }

    /** Refuses a range that is not page-aligned, overflows, or is not entirely inside the window. */
    void checkRange(final String op, final long start, final long length)
    {
        checkLength(op, "length", length);
        checkAligned(op, "start", start);
        final long stop = addExact(op, "start", start, length);
        if (start < base || stop > end)
        {
            throw new RegionArgumentException(op, "[" + hex(start) + ", " + hex(stop) + ") is outside the window [" +
                hex(base) + ", " + hex(end) + ")");
        }
    }

    /** @return {@code from + length}, or a refusal naming both when it overflows. */
    static long addExact(final String op, final String name, final long from, final long length)
    {
        try
        {
            return Math.addExact(from, length);
        }
        catch (final ArithmeticException ex)
        {
            throw new RegionArgumentException(op, name + "=" + from + " + length=" + length + " overflows");
        }
    }

    /** Refuses a range that regions of {@code m} do not cover without a gap. */
    static void requireCovered(final String op, final RegionMap m, final long start, final long stop)
    {
        if (!m.isMapped(start, stop))
        {
            throw new RegionArgumentException(op, "[" + hex(start) + ", " + hex(stop) +
                ") is not entirely mapped by regions");
        }
    }

    /**
     * Refuses a range that is not made exactly of adjacent regions of {@code m} (its start a region's start, its
     * end a region's end, no gap).
     *
     * @return those regions, in address order.
     */
    static List<Region> requireExactRegions(final String op, final RegionMap m, final long start, final long stop)
    {
        final int i0 = m.indexOf(start);
        if (i0 < 0 || m.get(i0).start() != start)
        {
            throw new RegionArgumentException(op, "start=" + hex(start) + " is not the start of a region");
        }
        int i1 = i0;
        while (m.get(i1).end() < stop)
        {
            if (i1 + 1 >= m.size() || m.get(i1 + 1).start() != m.get(i1).end())
            {
                throw new RegionArgumentException(op, "[" + hex(start) + ", " + hex(stop) + ") has a gap after " +
                    m.get(i1));
            }
            i1++;
        }
        if (m.get(i1).end() != stop)
        {
            throw new RegionArgumentException(op, "end=" + hex(stop) + " is inside " + m.get(i1) +
                ", not at a region end");
        }
        return m.regions().subList(i0, i1 + 1);
    }

    /**
     * Where a new region of {@code length} bytes goes (the kernel's get_unmapped_area): at {@code fixed}, which must
     * be a free range of the window, or, for {@link MapOptions#ANYWHERE}, the lowest gap of {@code m} that fits.
     *
     * @param why what the room is for, for the message when there is none.
     * @throws RegionArgumentException when the fixed range is outside the window or overlaps a region.
     * @throws MappingException        when no gap fits.
     */
    long unmappedArea(final String op, final RegionMap m, final long length, final long fixed, final String why)
        throws MappingException
    {
        if (fixed != MapOptions.ANYWHERE)
        {
            checkRange(op, fixed, length);
            if (!m.isFree(fixed, fixed + length))
            {
                throw new RegionArgumentException(op, "[" + hex(fixed) + ", " + hex(fixed + length) + ") overlaps " +
                    m.get(m.firstEndingAfter(fixed)));
            }
            return fixed;
        }
        final long addr = m.lowestGap(length);
        if (addr < 0)
        {
            throw new MappingException(op, "no free range of " + length + " bytes in the window" + why +
                " (largest is " + m.largestGap() + "); unmap regions or create the space with a larger window");
        }
        return addr;
    }

    static RegionArgumentException notMapped(final String op, final long address, final long length)
    {
        return new RegionArgumentException(op, "[" + hex(address) + ", +" + length + ") is not inside mapped regions");
    }

    static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    // ------------------------------------------------------------------ tombstones and release

    /**
     * Puts a tombstone over a range: a read-only, anonymous, never-populated mapping, in one MAP_FIXED call, so the
     * range is never unmapped for an instant.
     */
    void tombstone(final long start, final long length) throws KernelException
    {
        kernel.mmap(start, length, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE |
            Mman.MAP_FIXED, -1, 0);
    }

    /**
     * Closes the window's arena, which releases the reservation. A shared arena refuses to close while another
     * thread is inside one of its accesses at the handshake (a speculative reader still copying); such an access
     * lasts nanoseconds and no new one finds a region once the empty map is published, so try again.
     */
    void close()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                arena.close();
                return;
            }
            catch (final IllegalStateException ex)
            {
                if (!arena.scope().isAlive())
                {
                    return;
                }
                if (attempt >= 1_000)
                {
                    throw ex;
                }
                Thread.yield();
            }
        }
    }

    private void release()
    {
        try
        {
            kernel.munmap(base, end - base);
        }
        catch (final KernelException ex)
        {
            LOG.warn("releasing the window failed: {}", ex.getMessage());
        }
    }
}
