package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.AbstractList;
import java.util.List;

/**
 * One immutable version of the region map: regions sorted by address inside a window, published by the writer
 * with one release store and read by any number of threads without locks (old versions are reclaimed by GC, as
 * RCU reclaims maple-tree nodes). Lookups are a binary search over a flat array of bounds. Free-range search
 * walks a max-gap tree (the maple tree's per-node gap, here over a complete binary tree) in O(log n).
 *
 * <p>Lookups go beyond the maple tree: a directory indexed by {@code (address - windowStart) >> shift} gives the
 * index of the first region that ends after each bucket's start, so most lookups are one directory load and one
 * or two region loads. The directory spans only the occupied part of the window and has about two buckets per
 * region; a bucket that holds many regions (a skewed layout) falls back to a binary search from there, so the
 * worst case stays O(log n).
 *
 * <p>Sorted arrays and the directory cost O(n) per write (a copy), which at the kernel's default limit of 65 530
 * mappings is tens of microseconds: about the cost of the system calls of the write itself. The structure is
 * behind this class, so a path-copying B-tree can replace it without touching its users.
 */
public final class RegionMap
{
    private final long windowStart;
    private final long windowEnd;
    // starts and ends interleaved (bounds[2i] = start, bounds[2i + 1] = end): a lookup's checks share one cache
    // line, and the hottest reads never load the Region object at all (see AddressSpace.readLong).
    private final long[] bounds;
    private final Region[] regions;
    // directory[b] = index of the first region whose end is above windowStart + (b << shift)
    private final int[] directory;
    private final int shift;
    private final long occupiedEnd;
    // Complete binary tree of the largest gap below each node; leaves are the n + 1 gaps in address order.
    // Built on first use: only writers search for gaps, and a section publishes many versions it never searches.
    private volatile long[] gapTree;
    private int leafBase;

    private RegionMap(final long windowStart, final long windowEnd, final Region[] regions)
    {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.regions = regions;
        this.bounds = new long[2 * regions.length];
        for (int i = 0; i < regions.length; i++)
        {
            bounds[2 * i] = regions[i].start();
            bounds[2 * i + 1] = regions[i].end();
        }
        occupiedEnd = regions.length == 0 ? windowStart : bounds[2 * regions.length - 1];
        final long span = occupiedEnd - windowStart;
        // About two buckets per region over the occupied span, never below 4 KiB per bucket.
        final long perBucket = Math.max(4096, span / Math.max(1, 2L * regions.length));
        shift = 63 - Long.numberOfLeadingZeros(perBucket);
        directory = new int[(int)(span >>> shift) + 1];
        int i = 0;
        for (int b = 0; b < directory.length; b++)
        {
            final long bucketStart = windowStart + ((long)b << shift);
            while (i < regions.length && bounds[2 * i + 1] <= bucketStart)
            {
                i++;
            }
            directory[b] = i;
        }
    }

    /**
     * @param windowStart first address of the window.
     * @param windowEnd   end of the window.
     * @return a map with no regions.
     */
    public static RegionMap empty(final long windowStart, final long windowEnd)
    {
        return new RegionMap(windowStart, windowEnd, new Region[0]);
    }

    /**
     * A version holding exactly {@code regions}, which must be sorted, disjoint and inside the window.
     *
     * @param windowStart first address of the window.
     * @param windowEnd   end of the window.
     * @param regions     the regions, in address order (the array is kept, not copied).
     * @return the version.
     */
    public static RegionMap of(final long windowStart, final long windowEnd, final Region[] regions)
    {
        long prevEnd = windowStart;
        for (final Region r : regions)
        {
            if (r.start() < prevEnd || r.end() <= r.start())
            {
                throw new IllegalStateException("region map out of order at " + r);
            }
            prevEnd = r.end();
        }
        if (prevEnd > windowEnd)
        {
            throw new IllegalStateException("region map leaves the window at " + Long.toHexString(prevEnd));
        }
        return new RegionMap(windowStart, windowEnd, regions);
    }

    /** @return number of regions. */
    public int size()
    {
        return regions.length;
    }

    /**
     * @param index 0 .. size-1, in address order.
     * @return the region.
     */
    public Region get(final int index)
    {
        return regions[index];
    }

    /** @return an unmodifiable view of the regions in address order. */
    public List<Region> regions()
    {
        final Region[] r = regions;
        return new AbstractList<>()
        {
            @Override
            public Region get(final int index)
            {
                return r[index];
            }

            @Override
            public int size()
            {
                return r.length;
            }
        };
    }

    /** @return the window's first address. */
    public long windowStart()
    {
        return windowStart;
    }

    /** @return the window's end. */
    public long windowEnd()
    {
        return windowEnd;
    }

    /**
     * @param address any address.
     * @return the region covering it, or null.
     */
    public Region find(final long address)
    {
        final int i = locate(address);
        return i >= 0 ? regions[i] : null;
    }

    /**
     * What {@link #find} does, returning the index: with {@link #endAt} a reader can check a range without loading
     * the region object (one cache miss fewer when the map is large).
     *
     * @param address any address.
     * @return the index of the region covering it, or -1.
     */
    public int locate(final long address)
    {
        if (address < windowStart || address >= occupiedEnd)
        {
            return -1;
        }
        final long[] b = bounds;
        final int n = b.length >> 1;
        int i = directory[(int)((address - windowStart) >>> shift)];
        final int limit = Math.min(n, i + 4);
        while (i < limit && b[2 * i + 1] <= address)
        {
            i++;
        }
        if (i == limit && i < n && b[2 * i + 1] <= address)
        {
            return indexOf(address); // a crowded bucket
        }
        return i < n && b[2 * i] <= address ? i : -1;
    }

    /**
     * @param index 0 .. size-1.
     * @return the end of that region.
     */
    public long endAt(final int index)
    {
        return bounds[2 * index + 1];
    }

    /**
     * The same as {@link #find} by binary search alone (what an ordered tree costs); kept for comparison.
     *
     * @param address any address.
     * @return the region covering it, or null.
     */
    public Region findByBinarySearch(final long address)
    {
        final int i = indexOf(address);
        return i >= 0 ? regions[i] : null;
    }

    /**
     * @param address any address.
     * @return the index of the region covering it, or -1.
     */
    public int indexOf(final long address)
    {
        final int i = lastStartingAtOrBefore(address);
        return i >= 0 && address < bounds[2 * i + 1] ? i : -1;
    }

    /**
     * @param address any address.
     * @return the index of the first region that ends after {@code address} (size() when none).
     */
    public int firstEndingAfter(final long address)
    {
        final int i = lastStartingAtOrBefore(address);
        if (i >= 0 && regions[i].end() > address)
        {
            return i;
        }
        return i + 1;
    }

    private int lastStartingAtOrBefore(final long address)
    {
        final long[] b = bounds;
        int lo = 0;
        int hi = regions.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (b[2 * mid] <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return hi;
    }

    /**
     * @param start range start.
     * @param end   range end.
     * @return true when no region overlaps [start, end).
     */
    public boolean isFree(final long start, final long end)
    {
        final int i = firstEndingAfter(start);
        return i == regions.length || regions[i].start() >= end;
    }

    private long[] gapTree()
    {
        long[] tree = gapTree;
        if (tree == null)
        {
            final int gaps = regions.length + 1;
            int base = 1;
            while (base < gaps)
            {
                base <<= 1;
            }
            tree = new long[2 * base];
            for (int g = 0; g < gaps; g++)
            {
                tree[base + g] = gapEnd(g) - gapStart(g);
            }
            for (int node = base - 1; node >= 1; node--)
            {
                tree[node] = Math.max(tree[2 * node], tree[2 * node + 1]);
            }
            leafBase = base;
            gapTree = tree; // volatile store after leafBase: a thread that sees the tree sees its leafBase
        }
        return tree;
    }

    /**
     * The lowest free range of at least {@code length} bytes, in O(log n) (after an O(n) build on first use).
     *
     * @param length bytes wanted.
     * @return its start, or -1 when no gap is large enough.
     */
    public long lowestGap(final long length)
    {
        final long[] gapTree = gapTree();
        if (gapTree[1] < length)
        {
            return -1;
        }
        int node = 1;
        while (node < leafBase)
        {
            node = gapTree[2 * node] >= length ? 2 * node : 2 * node + 1;
        }
        return gapStart(node - leafBase);
    }

    /**
     * @return the largest free range, in bytes.
     */
    public long largestGap()
    {
        return gapTree()[1];
    }

    private long gapStart(final int g)
    {
        return g == 0 ? windowStart : regions[g - 1].end();
    }

    private long gapEnd(final int g)
    {
        return g == regions.length ? windowEnd : regions[g].start();
    }
}
