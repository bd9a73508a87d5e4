package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.ArrayList;
import java.util.List;

/**
 * The next version of a region map, being built by one write operation: splices on a working list, merges of
 * compatible neighbours as the kernel merges VMAs, and at the end one new {@link RegionMap}. Pure: it makes no
 * system call, takes no lock and publishes nothing; the write section locks the regions it reports replaced, then
 * builds and publishes.
 *
 * <p>The working list is the base version's list seen through a window: only the stretch the splices touch is
 * copied (into {@code middle}), and {@link #build()} puts that stretch in place of the base's [lo, hi), which
 * copies the chunks it touches, not the whole list.
 *
 * <p>Once {@link #freeze()} has handed out the replaced regions (for the section to lock), the edit refuses further
 * splices: a region replaced after that would not be locked.
 */
public final class MapEdit
{
    private final RegionMap base;
    private final long sectionSeq;
    // Working list = base[0, lo) + middle + base[hi, base.size()).
    private int lo;
    private int hi;
    private final ArrayList<Region> middle = new ArrayList<>();
    private final List<Region> added = new ArrayList<>();
    private final List<Region> removed = new ArrayList<>();
    private boolean frozen;
    // A region removed far from the working stretch (a remap that moves it): kept apart, so a move copies two
    // small stretches instead of every region between its old and new place. -1: none.
    private int farRemoved = -1;

    /**
     * @param base       the version this edit starts from.
     * @param sectionSeq the write section's sequence, recorded in the regions that merging creates.
     */
    public MapEdit(final RegionMap base, final long sectionSeq)
    {
        this.base = base;
        this.sectionSeq = sectionSeq;
    }

    /** @return the number of regions in the working list. */
    public int size()
    {
        return lo + middle.size() + base.size() - hi;
    }

    /**
     * @param i an index in the working list.
     * @return the region there.
     */
    public Region get(final int i)
    {
        if (i < lo)
        {
            return base.get(i);
        }
        final int j = i - lo;
        return j < middle.size() ? middle.get(j) : base.get(hi + j - middle.size());
    }

    /**
     * @param address any address.
     * @return the index of the first region of the working list ending after it ({@link #size()} when none).
     */
    public int firstEndingAfter(final long address)
    {
        int low = 0;
        int high = size();
        while (low < high)
        {
            final int mid = (low + high) >>> 1;
            if (get(mid).end() <= address)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }

    /**
     * Replaces the working list's regions [from, to) with {@code replacement} (in address order, fitting there).
     *
     * @param from        first index replaced.
     * @param to          end of the replaced indexes (== from: an insertion).
     * @param replacement the regions to put there.
     * @throws IllegalStateException after {@link #freeze()}.
     */
    public void splice(final int from, final int to, final List<Region> replacement)
    {
        if (frozen)
        {
            throw new IllegalStateException("splice after freeze: the regions it replaces would not be locked");
        }
        if (farRemoved >= 0)
        {
            throw new IllegalStateException("splice after a far move: the working list still holds the moved region");
        }
        include(from, to);
        final List<Region> replaced = middle.subList(from - lo, to - lo);
        for (final Region old : replaced)
        {
            // One born in this edit and gone again (merged away) was never published: neither added nor removed.
            if (!containsIdentity(replacement, old) && !removeIdentity(added, old))
            {
                removed.add(old);
            }
        }
        for (final Region r : replacement)
        {
            if (!containsIdentity(replaced, r))
            {
                added.add(r);
            }
        }
        replaced.clear();
        middle.addAll(from - lo, replacement);
    }

    /**
     * Merges compatible neighbours among the regions at working indexes [from, to], as the kernel merges after a
     * change (see {@link Region#canMergeWith}).
     *
     * @param from first index considered (clamped to the list).
     * @param to   last index considered (clamped to the list).
     */
    public void mergeAround(final int from, final int to)
    {
        final int first = Math.max(0, from);
        final int last = Math.min(size() - 1, to);
        for (int j = last; j > first; )
        {
            int i = j;
            while (i > first && get(i - 1).canMergeWith(get(i)))
            {
                i--;
            }
            if (i < j)
            {
                splice(i, j + 1, List.of(joined(get(i), get(j).end())));
            }
            j = i - 1;
        }
    }

    // ------------------------------------------------------------------ the edits write operations make

    /**
     * Inserts a region into a gap of the working list and merges it with compatible neighbours (map, and a region
     * moved by remap).
     *
     * @param r the new region; [r.start(), r.end()) must be free in the working list.
     */
    public void insert(final Region r)
    {
        final int i = firstEndingAfter(r.start());
        splice(i, i, List.of(r));
        mergeAround(i - 1, i + 1);
    }

    /**
     * Removes every region overlapping [start, stop); regions it cuts keep their outer parts (unmap).
     *
     * @param start first address.
     * @param stop  end of the range.
     * @return false when no region overlaps the range (nothing changed).
     */
    public boolean cut(final long start, final long stop)
    {
        final int i0 = firstEndingAfter(start);
        int i1 = i0;
        while (i1 < size() && get(i1).start() < stop)
        {
            i1++;
        }
        if (i0 == i1)
        {
            return false;
        }
        final List<Region> remnants = new ArrayList<>(2);
        final Region first = get(i0);
        final Region last = get(i1 - 1);
        if (first.start() < start)
        {
            remnants.add(first.slice(sectionSeq, first.start(), start));
        }
        if (last.end() > stop)
        {
            remnants.add(last.slice(sectionSeq, stop, last.end()));
        }
        splice(i0, i1, remnants);
        return true;
    }

    /**
     * Splits the region at working index {@code i} in two at {@code address}, strictly inside it. No merge: an
     * explicit split stays until an explicit merge or a change at the boundary.
     */
    public void split(final int i, final long address)
    {
        final Region r = get(i);
        splice(i, i + 1, List.of(r.slice(sectionSeq, r.start(), address), r.slice(sectionSeq, address, r.end())));
    }

    /** Joins the regions at working indexes [i0, i1] into one ending at get(i1).end(); they must be compatible. */
    public void join(final int i0, final int i1)
    {
        splice(i0, i1 + 1, List.of(joined(get(i0), get(i1).end())));
    }

    /**
     * Gives the region at working index {@code i} a new end: shorter (its tail goes), or longer into free space
     * after it (then merged with a compatible neighbour).
     */
    public void resize(final int i, final long newEnd)
    {
        final Region r = get(i);
        if (newEnd < r.end())
        {
            splice(i, i + 1, List.of(r.slice(sectionSeq, r.start(), newEnd)));
            return;
        }
        splice(i, i + 1, List.of(joined(r, newEnd)));
        mergeAround(i - 1, i + 1);
    }

    /**
     * Moves the region at working index {@code i} to [dest, dest + newLength), which must be free, with the same
     * file offset and attributes (remap that cannot grow in place).
     */
    public void move(final int i, final long dest, final long newLength)
    {
        final Region r = get(i);
        final Region moved = new Region(sectionSeq, dest, dest + newLength, r.file(), r.fileOffset(), r.protection(),
            r.sharing(), r.advice(), r.locked());
        final int j = firstEndingAfter(dest);
        if (lo != hi || !middle.isEmpty() || Math.abs(j - i) <= 2)
        {
            splice(i, i + 1, List.of()); // near (or the edit has begun): one stretch
            insert(moved);
            return;
        }
        // Far: the new place and its merges are the working stretch; the old place is removed apart, at build.
        // Neither neighbour of the new place is r (|j - i| > 2), so r cannot take part in a merge there.
        insert(moved);
        removed.add(r);
        farRemoved = i;
    }

    /**
     * Changes the attributes of [start, stop), which regions must cover: each region there that {@code changed}
     * gives a new version for (null: unchanged) is cut at the range's ends and its inside piece replaced. As the
     * kernel's vma_merge after mprotect/madvise/mlock, only a changed piece merges, with its neighbours; untouched
     * boundaries (an explicit split, say) stay.
     *
     * @param i0      working index of the first region of the range.
     * @param changed for each region from i0 on that overlaps the range, its changed version or null.
     * @param start   first address.
     * @param stop    end of the range.
     */
    public void change(final int i0, final Region[] changed, final long start, final long stop)
    {
        final List<Region> replacement = new ArrayList<>();
        final List<Region> changedPieces = new ArrayList<>();
        for (int k = 0; k < changed.length; k++)
        {
            final Region r = get(i0 + k);
            final Region to = changed[k];
            if (to == null)
            {
                replacement.add(r);
                continue;
            }
            final long ps = Math.max(r.start(), start);
            final long pe = Math.min(r.end(), stop);
            if (r.start() < ps)
            {
                replacement.add(r.slice(sectionSeq, r.start(), ps));
            }
            final Region piece = to.slice(sectionSeq, ps, pe);
            replacement.add(piece);
            changedPieces.add(piece);
            if (pe < r.end())
            {
                replacement.add(r.slice(sectionSeq, pe, r.end()));
            }
        }
        splice(i0, i0 + changed.length, replacement);
        for (int k = changedPieces.size() - 1; k >= 0; k--)
        {
            final Region piece = changedPieces.get(k);
            final int at = firstEndingAfter(piece.start());
            if (at < size() && get(at) == piece)
            {
                mergeAround(at - 1, at + 1);
            }
        }
    }

    // ------------------------------------------------------------------ building blocks

    /**
     * @param first a region.
     * @param end   the end of the last region it absorbs.
     * @return one region with {@code first}'s attributes and file offset, from its start to {@code end}.
     */
    public Region joined(final Region first, final long end)
    {
        return new Region(sectionSeq, first.start(), end, first.file(), first.fileOffset(), first.protection(),
            first.sharing(), first.advice(), first.locked());
    }

    /**
     * Ends the editing: no splice after this.
     *
     * @return the regions of the base version this edit replaces, which the section must lock before any system
     *         call (unmodifiable).
     */
    public List<Region> freeze()
    {
        frozen = true;
        return List.copyOf(removed);
    }

    /** @return the regions this edit creates, not in the base version (unmodifiable). */
    public List<Region> added()
    {
        return List.copyOf(added);
    }

    /** @return the regions of the base version this edit replaces (unmodifiable). */
    public List<Region> removed()
    {
        return List.copyOf(removed);
    }

    /**
     * @return the new version: the base with the edited stretch in place.
     * @throws IllegalStateException before {@link #freeze()}.
     */
    public RegionMap build()
    {
        if (!frozen)
        {
            throw new IllegalStateException("build before freeze: a replaced region could still be pinned");
        }
        if (farRemoved < 0)
        {
            return base.replace(lo, hi, middle, removed, added);
        }
        final Region far = base.get(farRemoved);
        final List<Region> others = new ArrayList<>(removed);
        others.remove(far);
        final RegionMap without = base.replace(farRemoved, farRemoved + 1, List.of(), List.of(far), List.of());
        final int shift = farRemoved < lo ? 1 : 0;
        return without.replace(lo - shift, hi - shift, middle, others, added);
    }

    /**
     * @return how many more mappings the kernel will hold in the window after this edit than before (negative:
     *         fewer), counting each region and each gap between them (a tombstone) as one: an upper bound, since
     *         the kernel may merge neighbours the map keeps apart. O(regions the edit touches).
     */
    public long vmaDelta()
    {
        final long far = farRemoved < 0 ? 0 : stretchVmas(farRemoved, farRemoved + 1, List.of()) -
            stretchVmas(farRemoved, farRemoved + 1, base.regions().subList(farRemoved, farRemoved + 1));
        return far + stretchVmas(lo, hi, middle) - stretchVmas(lo, hi, base.regions().subList(lo, hi));
    }

    /** Mappings of the base's stretch [from, to) holding {@code stretch}, and of the gaps around and inside it. */
    private long stretchVmas(final int from, final int to, final List<Region> stretch)
    {
        long at = from > 0 ? base.get(from - 1).end() : base.windowStart();
        final long stop = to < base.size() ? base.get(to).start() : base.windowEnd();
        long count = stretch.size();
        for (final Region r : stretch)
        {
            count += r.start() > at ? 1 : 0;
            at = r.end();
        }
        return count + (stop > at ? 1 : 0);
    }

    /** Widens the copied stretch until it holds the working indexes [from, to). */
    private void include(final int from, final int to)
    {
        if (middle.isEmpty() && lo == hi)
        {
            lo = from; // nothing copied yet: start the (empty) stretch where it is needed
            hi = from;
        }
        if (from < lo)
        {
            middle.addAll(0, base.regions().subList(from, lo));
            lo = from;
        }
        final int end = lo + middle.size();
        if (to > end)
        {
            middle.addAll(base.regions().subList(hi, hi + to - end));
            hi += to - end;
        }
    }

    private static boolean removeIdentity(final List<Region> list, final Region r)
    {
        for (int i = 0; i < list.size(); i++)
        {
            if (list.get(i) == r)
            {
                list.remove(i);
                return true;
            }
        }
        return false;
    }

    private static boolean containsIdentity(final List<Region> list, final Region r)
    {
        for (final Region x : list)
        {
            if (x == r)
            {
                return true;
            }
        }
        return false;
    }
}
