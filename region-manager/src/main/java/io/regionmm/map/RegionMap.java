package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.Arrays;
import java.util.List;

/**
 * One immutable version of the region map: regions sorted by address inside a window, published by the writer
 * with one release store and read by any number of threads without locks (old versions are reclaimed by GC, as
 * RCU reclaims maple-tree nodes).
 *
 * <p>Two structures, each for its readers. Lookups by address go through a {@link PageIndex}, a persistent radix
 * tree shaped like a page table: O(levels) indexed loads, no comparisons, and a version shares every node the
 * change did not touch with the version before, so a reader's cache survives a writer's change (a flat array
 * rebuilt per change would make every reader start cold after every write). Writers, slow readers and listings use the
 * regions in address order, a {@link RegionList} of chunks: index-based access, binary search, and a persistent
 * max-gap index of per-chunk summaries ({@link GapIndex}) for free-range search in O(log n) in every version.
 *
 * <p>A change ({@link #replace}) copies the chunks it touches plus the chunk lists (8 bytes per chunk of 64-128),
 * the gap index's paths to the leaves of those chunks, and O(levels) index nodes per changed region end, not the
 * whole sorted array.
 */
public final class RegionMap
{
    private final long windowStart;
    private final long windowEnd;
    private final RegionList regions;
    private final PageIndex index;
    // The index's entry point, copied here: a lookup goes from this object straight to the nodes.
    private final Object top;
    private final int topShift;
    private final long topStart;
    private final long topSpan;

    private RegionMap(final long windowStart, final long windowEnd, final RegionList regions, final PageIndex index)
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
        return new RegionMap(windowStart, windowEnd, RegionList.empty(windowStart, windowEnd),
            PageIndex.empty(windowStart, windowEnd));
    }

    /**
     * A version holding exactly {@code regions}, built from nothing.
     *
     * @param windowStart first address of the window.
     * @param windowEnd   end of the window.
     * @param regions     the regions, in address order, disjoint, 4 KiB-aligned, inside the window.
     * @return the version.
     */
    public static RegionMap of(final long windowStart, final long windowEnd, final Region[] regions)
    {
        final RegionMap empty = empty(windowStart, windowEnd);
        final List<Region> all = Arrays.asList(regions);
        for (int i = 0; i < regions.length; i++)
        {
            empty.checkPlace(all, i);
        }
        return new RegionMap(windowStart, windowEnd, RegionList.of(windowStart, windowEnd, regions),
            empty.index.with(List.of(), all, firstStart(all), lastEnd(all)));
    }

    /**
     * The next version after a change: {@code regions} must be this version's regions without {@code removed},
     * with {@code added}, in address order. Builds the sorted list from scratch (O(n)); writers use
     * {@link #replace}.
     *
     * @param regions the new regions in address order.
     * @param removed regions of this version that leave.
     * @param added   regions that enter.
     * @return the new version; this one is unchanged.
     */
    public RegionMap next(final Region[] regions, final List<Region> removed, final List<Region> added)
    {
        return next(RegionList.of(windowStart, windowEnd, regions), removed, added);
    }

    /**
     * The next version after a change of one stretch: this version's regions [lo, hi) give way to {@code middle}.
     * {@code removed} and {@code added} say which regions leave and enter (a region in both the old stretch and
     * {@code middle} is in neither). Only the added regions' places are checked (the others were checked when they
     * entered); the sorted list and the index share everything the change did not touch.
     *
     * @param lo      first replaced index.
     * @param hi      end of the replaced stretch.
     * @param middle  the regions in its place, in address order.
     * @param removed regions of this version that leave.
     * @param added   regions that enter.
     * @return the new version; this one is unchanged.
     */
    RegionMap replace(final int lo, final int hi, final List<Region> middle, final List<Region> removed,
        final List<Region> added)
    {
        return next(regions.replace(lo, hi, middle), removed, added);
    }

    private RegionMap next(final RegionList next, final List<Region> removed, final List<Region> added)
    {
        if (next.size() != regions.size() - removed.size() + added.size())
        {
            throw new IllegalStateException("region map change: " + regions.size() + " - " + removed.size() +
                " + " + added.size() + " != " + next.size());
        }
        final List<Region> list = next.asList();
        for (final Region r : added)
        {
            final int i = next.lastStartingAtOrBefore(r.start());
            if (i < 0 || list.get(i) != r)
            {
                throw new IllegalStateException("region map change: added " + r + " is not in the new list");
            }
            checkPlace(list, i);
        }
        return new RegionMap(windowStart, windowEnd, next, index.with(removed, added, firstStart(list),
            lastEnd(list)));
    }

    private static long firstStart(final List<Region> rs)
    {
        return rs.isEmpty() ? 0 : rs.get(0).start();
    }

    private static long lastEnd(final List<Region> rs)
    {
        return rs.isEmpty() ? 0 : rs.get(rs.size() - 1).end();
    }

    private void checkPlace(final List<Region> rs, final int i)
    {
        final Region r = rs.get(i);
        final long prevEnd = i == 0 ? windowStart : rs.get(i - 1).end();
        final long nextStart = i == rs.size() - 1 ? windowEnd : rs.get(i + 1).start();
        if (r.start() < prevEnd || r.end() <= r.start() || r.end() > nextStart ||
            ((r.start() | r.end()) & (PageIndex.GRANULE - 1)) != 0)
        {
            throw new IllegalStateException("region map out of order at " + r);
        }
    }

    /** @return number of regions. */
    public int size()
    {
        return regions.size();
    }

    /**
     * @param index 0 .. size-1, in address order.
     * @return the region (O(log n): a search for its chunk).
     */
    public Region get(final int index)
    {
        return regions.get(index);
    }

    /** @return an unmodifiable view of the regions in address order. */
    public List<Region> regions()
    {
        return regions.asList();
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
     * @param start first address.
     * @param stop  end of the range.
     * @return true when regions cover every byte of [start, stop) (and start itself when the range is empty): one
     *         index lookup per region the range crosses, no search of the sorted list (whose probes load a region
     *         each), and no region loaded at all when the range lies in one granule (regions are whole granules).
     */
    public boolean isMapped(final long start, final long stop)
    {
        if (stop > start && ((start ^ (stop - 1)) & -PageIndex.GRANULE) == 0)
        {
            return isMapped(start);
        }
        long at = start;
        do
        {
            final Region r = find(at);
            if (r == null)
            {
                return false;
            }
            at = r.end();
        }
        while (at < stop);
        return true;
    }

    /**
     * @param address any address.
     * @return the index of the region covering it, or -1.
     */
    public int indexOf(final long address)
    {
        final int i = lastStartingAtOrBefore(address);
        return i >= 0 && address < regions.get(i).end() ? i : -1;
    }

    /**
     * @param address any address.
     * @return the index of the first region that ends after {@code address} (size() when none).
     */
    public int firstEndingAfter(final long address)
    {
        final int i = lastStartingAtOrBefore(address);
        if (i >= 0 && regions.get(i).end() > address)
        {
            return i;
        }
        return i + 1;
    }

    private int lastStartingAtOrBefore(final long address)
    {
        return regions.lastStartingAtOrBefore(address);
    }

    /**
     * @param start first address.
     * @param stop  end of the range.
     * @return the regions that overlap [start, stop), in address order (a view of this version).
     */
    public List<Region> regionsIn(final long start, final long stop)
    {
        final int from = firstEndingAfter(start);
        int to = from;
        while (to < size() && get(to).start() < stop)
        {
            to++;
        }
        return regions().subList(from, to);
    }

    /**
     * @param start range start.
     * @param end   range end.
     * @return true when no region overlaps [start, end).
     */
    public boolean isFree(final long start, final long end)
    {
        final int i = firstEndingAfter(start);
        return i == regions.size() || regions.get(i).start() >= end;
    }

    /**
     * The lowest free range of at least {@code length} bytes: O(log n) in every version (the gap index is kept
     * across versions), then a scan of one chunk of regions.
     *
     * @param length bytes wanted.
     * @return its start, or -1 when no gap is large enough.
     */
    public long lowestGap(final long length)
    {
        return regions.lowestGap(length);
    }

    /**
     * @return the largest free range, in bytes: O(1).
     */
    public long largestGap()
    {
        return regions.largestGap();
    }

    /**
     * The sorted list, package-private for the structure tests: they check its gap summaries against its chunks.
     *
     * @return this version's list.
     */
    RegionList regionList()
    {
        return regions;
    }

    /**
     * The index's top node (see {@link PageIndex#top()}), package-private for the structure tests: they walk the
     * nodes of two versions to count what a change copied, which no public view of the map can show.
     *
     * @return the top entry: null, a huge region, or a node.
     */
    Object indexTop()
    {
        return top;
    }
}
