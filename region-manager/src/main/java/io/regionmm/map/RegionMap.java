package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One immutable version of the region map: regions sorted by address inside a window, published by the writer
 * with one release store and read by any number of threads without locks (old versions are reclaimed by GC, as
 * RCU reclaims maple-tree nodes).
 *
 * <p>Two structures, each for its readers. Lookups by address go through a {@link PageIndex}, a persistent radix
 * tree shaped like a page table: O(levels) indexed loads, no comparisons, and a version shares every node the
 * change did not touch with the version before, so a reader's cache survives a writer's change (a flat array
 * rebuilt per change made every reader start cold after every write). Writers, slow readers and listings use the
 * sorted array of regions: index-based access, binary search, and a max-gap tree for free-range search in
 * O(log n), built on first use.
 *
 * <p>The sorted array costs O(n) per change, on the writer only (one {@code arraycopy}-sized copy). The index
 * costs O(levels) node copies per changed region end.
 */
public final class RegionMap
{
    private final long windowStart;
    private final long windowEnd;
    private final Region[] regions;
    private final PageIndex index;
    // The index's entry point, copied here: a lookup goes from this object straight to the nodes.
    private final Object top;
    private final int topShift;
    private final long topStart;
    private final long topSpan;
    // Complete binary tree of the largest gap below each node; leaves are the n + 1 gaps in address order.
    // Built on first use: only writers search for gaps, and a section publishes many versions it never searches.
    private volatile long[] gapTree;
    private int leafBase;

    private RegionMap(final long windowStart, final long windowEnd, final Region[] regions, final PageIndex index)
    {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.regions = regions;
        this.index = index;
        this.top = index.top();
        this.topShift = index.topShift();
        this.topStart = index.topStart();
        this.topSpan = index.topSpan();
    }

    /**
     * @param windowStart first address of the window, 4 KiB-aligned.
     * @param windowEnd   end of the window, 4 KiB-aligned.
     * @return a map with no regions.
     */
    public static RegionMap empty(final long windowStart, final long windowEnd)
    {
        if (((windowStart | windowEnd) & (PageIndex.GRANULE - 1)) != 0 || windowEnd <= windowStart)
        {
            throw new IllegalArgumentException("window [" + Long.toHexString(windowStart) + ", " +
                Long.toHexString(windowEnd) + ") is not a 4 KiB-aligned range");
        }
        return new RegionMap(windowStart, windowEnd, new Region[0], PageIndex.empty(windowStart, windowEnd));
    }

    /**
     * A version holding exactly {@code regions}, built from nothing.
     *
     * @param windowStart first address of the window.
     * @param windowEnd   end of the window.
     * @param regions     the regions, in address order, disjoint, 4 KiB-aligned, inside the window (the array is
     *                    kept, not copied).
     * @return the version.
     */
    public static RegionMap of(final long windowStart, final long windowEnd, final Region[] regions)
    {
        final RegionMap empty = empty(windowStart, windowEnd);
        for (int i = 0; i < regions.length; i++)
        {
            empty.checkPlace(regions, i);
        }
        return new RegionMap(windowStart, windowEnd, regions, empty.index.with(List.of(), Arrays.asList(regions),
            firstStart(regions), lastEnd(regions)));
    }

    /**
     * The next version after a change: {@code regions} must be this version's regions without {@code removed},
     * with {@code added}, in address order. Only the added regions' places are checked (the others were checked
     * when they entered), and the index shares every node the change did not touch.
     *
     * @param regions the new sorted array (kept, not copied).
     * @param removed regions of this version that leave.
     * @param added   regions that enter.
     * @return the new version; this one is unchanged.
     */
    public RegionMap next(final Region[] regions, final List<Region> removed, final List<Region> added)
    {
        if (regions.length != this.regions.length - removed.size() + added.size())
        {
            throw new IllegalStateException("region map change: " + this.regions.length + " - " + removed.size() +
                " + " + added.size() + " != " + regions.length);
        }
        for (final Region r : added)
        {
            final int i = indexOf(regions, r.start());
            if (i < 0 || regions[i] != r)
            {
                throw new IllegalStateException("region map change: added " + r + " is not in the new array");
            }
            checkPlace(regions, i);
        }
        return new RegionMap(windowStart, windowEnd, regions, index.with(removed, added, firstStart(regions),
            lastEnd(regions)));
    }

    private static long firstStart(final Region[] rs)
    {
        return rs.length == 0 ? 0 : rs[0].start();
    }

    private static long lastEnd(final Region[] rs)
    {
        return rs.length == 0 ? 0 : rs[rs.length - 1].end();
    }

    private void checkPlace(final Region[] rs, final int i)
    {
        final Region r = rs[i];
        final long prevEnd = i == 0 ? windowStart : rs[i - 1].end();
        final long nextStart = i == rs.length - 1 ? windowEnd : rs[i + 1].start();
        if (r.start() < prevEnd || r.end() <= r.start() || r.end() > nextStart ||
            ((r.start() | r.end()) & (PageIndex.GRANULE - 1)) != 0)
        {
            throw new IllegalStateException("region map out of order at " + r);
        }
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

    /**
     * Copies regions into an array (one {@code arraycopy}).
     *
     * @param from  first index.
     * @param dst   destination.
     * @param at    index in dst.
     * @param count how many.
     */
    public void copyRegions(final int from, final Region[] dst, final int at, final int count)
    {
        System.arraycopy(regions, from, dst, at, count);
    }

    /** @return an unmodifiable view of the regions in address order (copies of it are one array copy). */
    public List<Region> regions()
    {
        return Collections.unmodifiableList(Arrays.asList(regions));
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
        final Object r = PageIndex.slot(top, topShift, topStart, topSpan, address - windowStart);
        return r == null ? null : (Region)r;
    }

    /**
     * @param address any address.
     * @return true when a region covers it; answered from the index alone, without loading the region object
     *         (one cache miss fewer for a reader that needs no more than that).
     */
    public boolean isMapped(final long address)
    {
        return PageIndex.slot(top, topShift, topStart, topSpan, address - windowStart) != null;
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
        return i >= 0 && address < regions[i].end() ? i : -1;
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
        return indexOf(regions, address);
    }

    /** The index of the last region starting at or before {@code address} in {@code rs}, or -1. */
    private static int indexOf(final Region[] rs, final long address)
    {
        int lo = 0;
        int hi = rs.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (rs[mid].start() <= address)
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

    /**
     * For tests and diagnostics: how many index nodes this version has that {@code older} does not, i.e. what the
     * change between them copied.
     *
     * @param older an earlier version of the same map.
     * @return the count.
     */
    public int indexNodesNotIn(final RegionMap older)
    {
        return index.nodesNotIn(older.index);
    }
}
