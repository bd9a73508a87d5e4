package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Address to region, as a radix tree over 4 KiB granules (the shape of a page table), persistent: a new version
 * copies only the nodes on the paths to granules that changed and shares every other node with the version before.
 * A writer that changes one region therefore leaves almost every line a reader has cached where it was, where a
 * rebuilt flat array would hand every reader a cold copy on every change.
 *
 * <p>A node has 256 entries. An inner node ({@code Object[]}) holds children, or a region that covers the child's
 * whole range (a "huge" entry, like a PMD mapping: large regions cost one entry per level, not one per granule),
 * or null. A leaf ({@code Region[]}) holds the region of each granule, or null. A node's array ends where its
 * entries do (entries past its length are null): regions mostly fill a window from its start, so the nodes a
 * change copies (the top, the last leaf) are mostly shorter than 256 entries. A lookup ({@link #slot}) is one
 * indexed load per level and never touches a region object, so a reader that only needs to know whether an address
 * is mapped stays clear of the cache miss that a region object costs in a large map.
 *
 * <p>Cost: lookups are O(levels), 3 for a 64 GiB window, fewer when every region sits under one entry (the tree is
 * kept from that "top" entry down). A change of a region costs one node copy per level below the top at its two
 * ends plus one entry per covered granule or huge range: a space whose regions fit in 1 MiB copies a single leaf
 * per change, of 1 KiB at most (4 bytes per entry up to its last). Copies are what a writer pays most for here
 * (fresh memory), so keeping the tree from its top saves a small space most of its map update (the measurements:
 * examples/benchmarks/RESULTS.md, "Design decisions and their measurements"). Memory: about 4 bytes per granule
 * of mapped leaves, so one leaf (1 KiB) per touched 1 MiB of window; sparse layouts of tiny regions pay up to a
 * leaf per region, as sparse mappings pay a page-table page per 2 MiB in the kernel.
 */
final class PageIndex
{
    static final int GRANULE_SHIFT = 12;
    static final long GRANULE = 1L << GRANULE_SHIFT;
    private static final int BITS = 8;
    private static final int FANOUT = 1 << BITS;
    private static final int MASK = FANOUT - 1;

    private final long windowStart;
    private final int rootShift; // each entry of a node at shift s covers 1 << s bytes; the root covers the window
    // The tree is kept from its top: the deepest entry whose range holds every region. Above it the tree would be a
    // chain of nodes with one entry each, so it is not kept at all: a change inside the top's range copies only the
    // nodes from the top down (regions mostly sit close together in a large window, so a change to a space of a
    // few hundred regions copies one leaf, not a leaf and two empty-but-for-one-entry ancestors), and a lookup
    // starts there and skips those levels. The top is null (empty), a huge Region, an Object[] or a Region[].
    private final Object top;
    private final int topShift; // entries of the top node cover 1 << topShift bytes
    private final long topStart; // offset in the window of the top's range
    private final long topSpan; // bytes the top covers (0 when nothing is mapped)

    /**
     * @param entry      the result of a change: the entry covering [start, start + (1 << (shift + BITS))), which
     *                   holds every region of the new version.
     * @param first      the first mapped offset of the new version.
     * @param last       the last mapped offset ({@code first > last} when nothing is mapped).
     */
    private PageIndex(final long windowStart, final int rootShift, final Object entry, final int shift,
        final long start, final long first, final long last)
    {
        this.windowStart = windowStart;
        this.rootShift = rootShift;
        // Descend while the first and the last mapped offset fall under the same child: O(levels), no scan.
        Object t = entry;
        int s = shift;
        long at = start;
        while (t != null && t.getClass() == Object[].class && first <= last &&
            ((first >>> s) & MASK) == ((last >>> s) & MASK))
        {
            final int only = (int)((first >>> s) & MASK);
            at += (long)only << s;
            t = ((Object[])t)[only];
            s -= BITS;
        }
        top = t;
        topShift = s;
        topStart = at;
        topSpan = t == null ? 0 : 1L << (s + BITS);
    }

    /**
     * @param windowStart first address, granule-aligned.
     * @param windowEnd   end, granule-aligned.
     * @return an index with nothing mapped.
     */
    static PageIndex empty(final long windowStart, final long windowEnd)
    {
        final long size = windowEnd - windowStart;
        int shift = GRANULE_SHIFT;
        while (shift + BITS < 63 && (1L << (shift + BITS)) < size)
        {
            shift += BITS;
        }
        return new PageIndex(windowStart, shift, null, shift, 0, 0, -1);
    }

    /** @return where lookups start (see {@link #slot}). */
    Object top()
    {
        return top;
    }

    /** @return the shift of {@link #top()}'s index. */
    int topShift()
    {
        return topShift;
    }

    /** @return the first offset in the window that {@link #top()} covers. */
    long topStart()
    {
        return topStart;
    }

    /** @return how many bytes {@link #top()} covers (0 when nothing is mapped). */
    long topSpan()
    {
        return topSpan;
    }

    /**
     * The lookup, static so a holder can keep the four entry fields in its own object (one dependent load fewer).
     *
     * @param top      {@link #top()}.
     * @param topShift {@link #topShift()}.
     * @param topStart {@link #topStart()}.
     * @param topSpan  {@link #topSpan()}.
     * @param off      an address minus the window start.
     * @return null, or the region covering it (typed Object: a caller that only tests for null never loads it).
     */
    static Object slot(final Object top, final int topShift, final long topStart, final long topSpan, final long off)
    {
        if (Long.compareUnsigned(off - topStart, topSpan) >= 0)
        {
            return null; // outside the range that holds every region (or outside the window)
        }
        Object e = top;
        int shift = topShift;
        while (true)
        {
            // Exact class checks: the JIT compiles each to one compare of the node's class word (a node is hot).
            // The length checks replace the array's own range checks (the index is never negative).
            if (e instanceof Region[] leaf)
            {
                final int i = (int)(off >>> GRANULE_SHIFT) & MASK;
                return i < leaf.length ? leaf[i] : null; // statically a Region: no cast, no load of it
            }
            if (e == null || e.getClass() != Object[].class)
            {
                return e; // nothing, or a huge entry
            }
            final Object[] node = (Object[])e;
            final int i = (int)(off >>> shift) & MASK;
            e = i < node.length ? node[i] : null;
            shift -= BITS;
        }
    }

    /**
     * A new version: first every removed region's granules are cleared, then every added region's are set.
     *
     * @param removed regions leaving the map.
     * @param added   regions entering it (they may cover granules of removed ones).
     * @param first   the first address mapped in the new version.
     * @param end     the end of the last region in the new version ({@code first == end} when it is empty).
     * @return the new version; this one is unchanged.
     */
    PageIndex with(final List<Region> removed, final List<Region> added, final long first, final long end)
    {
        final List<Object[]> fresh = new ArrayList<>(); // nodes made by this change: changed in place, copied once
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (final List<Region> rs : List.of(removed, added))
        {
            for (final Region x : rs)
            {
                lo = Math.min(lo, x.start() - windowStart);
                hi = Math.max(hi, x.end() - windowStart);
            }
        }
        // Inside the top's range the change starts at the top; else the chain above it is made first.
        final boolean inside = topSpan != 0 && lo >= topStart && hi <= topStart + topSpan;
        Object r = inside ? top : chainToTop(fresh);
        final int shift = inside ? topShift : rootShift;
        final long start = inside ? topStart : 0;
        for (final Region x : removed)
        {
            r = set(r, shift, start, x.start() - windowStart, x.end() - windowStart, null, fresh);
        }
        for (final Region x : added)
        {
            r = set(r, shift, start, x.start() - windowStart, x.end() - windowStart, x, fresh);
        }
        return new PageIndex(windowStart, rootShift, r, shift, start, first - windowStart, end - 1 - windowStart);
    }

    /** @return the root: the top under fresh nodes of one entry each, one per level above it. */
    private Object chainToTop(final List<Object[]> fresh)
    {
        Object e = top;
        if (e == null)
        {
            return null;
        }
        int shift = topShift;
        long start = topStart;
        while (shift < rootShift)
        {
            final int parentShift = shift + BITS;
            final long parentSpan = 1L << (parentShift + BITS);
            final int at = (int)((start >>> parentShift) & MASK);
            final Object[] parent = new Object[at + 1];
            parent[at] = e;
            fresh.add(parent);
            e = parent;
            shift = parentShift;
            start -= start & (parentSpan - 1);
        }
        return e;
    }

    /**
     * Sets [from, to) (offsets in the window) to {@code value} below {@code entry}, which covers
     * [nodeStart, nodeStart + (1 << (shift + BITS))) with entries of {@code 1 << shift} bytes.
     *
     * @return the entry to store in place of {@code entry}. A node of an older version is copied, never changed;
     *         a node this change made already (in {@code fresh}) is changed in place.
     */
    private static Object set(final Object entry, final int shift, final long nodeStart, final long from,
        final long to, final Region value, final List<Object[]> fresh)
    {
        final long span = 1L << (shift + BITS);
        if (from <= nodeStart && to >= nodeStart + span)
        {
            return value; // the whole node's range: one entry above (or the root itself)
        }
        final boolean leaf = shift == GRANULE_SHIFT;
        final long child = 1L << shift;
        final int first = (int)((Math.max(from, nodeStart) - nodeStart) >>> shift);
        final int last = (int)((Math.min(to, nodeStart + span) - 1 - nodeStart) >>> shift);
        // Entries past a node's length are null: clearing them is nothing to do, setting them needs the length.
        final int needed = value != null ? last + 1 : 0;
        Object[] node;
        if (entry instanceof Object[] old && isFresh(old, fresh))
        {
            node = old;
            if (node.length < needed)
            {
                node = Arrays.copyOf(node, needed); // grown: the longer copy takes the shorter one's place
                fresh.set(fresh.indexOf(old), node);
            }
        }
        else
        {
            if (entry instanceof Object[] old)
            {
                // A copy as long as the old entries it keeps or the new ones need (a Region[] copies as a Region[]).
                node = Arrays.copyOf(old, Math.max(needed, endOfEntries(old)));
            }
            else if (entry != null)
            {
                node = leaf ? new Region[FANOUT] : new Object[FANOUT];
                Arrays.fill(node, entry); // break up a huge entry
            }
            else
            {
                node = leaf ? new Region[needed] : new Object[needed];
            }
            fresh.add(node);
        }
        for (int i = first; i <= Math.min(last, node.length - 1); i++)
        {
            final long childStart = nodeStart + i * child;
            if (from <= childStart && to >= childStart + child)
            {
                node[i] = value;
            }
            else
            {
                if (leaf)
                {
                    throw new IllegalArgumentException("range [" + from + ", " + to + ") is not granule-aligned");
                }
                node[i] = set(node[i], shift - BITS, childStart, from, to, value, fresh);
            }
        }
        // A node whose entries are all one region (or all empty) folds into one entry above: merges and unmaps
        // give memory back, and the next lookup is shorter. A short node has null entries past its end.
        final Object e0 = node.length == 0 ? null : node[0];
        if (e0 == null || (e0 instanceof Region && node.length == FANOUT))
        {
            for (int i = 1; i < node.length; i++)
            {
                if (node[i] != e0)
                {
                    return node;
                }
            }
            return e0;
        }
        return node;
    }

    /** @return one past the last non-null entry of a node. */
    private static int endOfEntries(final Object[] node)
    {
        int n = node.length;
        while (n > 0 && node[n - 1] == null)
        {
            n--;
        }
        return n;
    }

    private static boolean isFresh(final Object[] node, final List<Object[]> fresh)
    {
        for (final Object[] f : fresh)
        {
            if (f == node)
            {
                return true;
            }
        }
        return false;
    }
}
