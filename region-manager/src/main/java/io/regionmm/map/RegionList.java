package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.AbstractList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.RandomAccess;

/**
 * The regions of one map version in address order, persistent and kept in chunks: a new version made by
 * {@link #replace} copies the chunks the replaced stretch touches and the two small arrays that list the chunks,
 * and shares every other chunk with the version before. A flat sorted array would be copied whole by every change
 * (writer time and fresh memory pushed through the caches that readers share, growing with the map; measured in
 * examples/benchmarks/RESULTS.md, "Design decisions and their measurements"); here a change copies a few hundred
 * bytes of chunks plus 8 bytes per chunk of lists.
 *
 * <p>Every chunk holds between {@code CHUNK / 2} and {@code CHUNK} regions (fewer only when the whole list is that
 * small): a replace that would leave a smaller chunk takes a neighbour in. So the chunk lists stay at about
 * {@code n / CHUNK * 1.5} entries whatever the history. Writers and slow readers use this list; lock-free readers
 * go through the {@link PageIndex} and never touch it.
 *
 * <p>Free ranges: a list knows its window, and keeps a persistent {@link GapIndex} of per-chunk summaries: leaf
 * {@code 2c} is the gap before chunk c's first region (from the previous chunk's last region, or the window's start),
 * leaf {@code 2c + 1} the largest gap between chunk c's regions, and the last leaf the gap up to the window's end. A
 * replace sets the leaves of the chunks it makes plus the gap after them (the next chunk's first gap, or the window's
 * end gap): a path copy, so the first {@link #lowestGap} of a new version costs O(log n + CHUNK), not O(n).
 */
final class RegionList
{
    static final int CHUNK = 128;
    // The gap leaf of a chunk with a single region: no gap between its regions.
    private static final long NO_GAP = Long.MIN_VALUE;

    private final long windowStart;
    private final long windowEnd;
    private final Region[][] chunks; // none empty
    private final int[] ends; // ends[c]: how many regions chunks 0..c hold together
    private final GapIndex gaps; // 2 * chunks.length + 1 leaves: see the class comment

    private RegionList(final long windowStart, final long windowEnd, final Region[][] chunks, final int[] ends,
        final GapIndex gaps)
    {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.chunks = chunks;
        this.ends = ends;
        this.gaps = gaps;
    }

    /**
     * @param windowStart the window's first address: the gaps searched lie in the window.
     * @param windowEnd   the window's end.
     * @return a list without regions, whose one gap is the whole window.
     */
    static RegionList empty(final long windowStart, final long windowEnd)
    {
        return new RegionList(windowStart, windowEnd, new Region[0][], new int[0],
            GapIndex.of(windowEnd - windowStart));
    }

    /**
     * @param windowStart the window's first address.
     * @param windowEnd   the window's end.
     * @param sorted      regions in address order, in the window (not copied into the result: chunks are fresh
     *                    arrays).
     * @return the list.
     */
    static RegionList of(final long windowStart, final long windowEnd, final Region[] sorted)
    {
        return empty(windowStart, windowEnd).replace(0, 0, sorted);
    }

    int size()
    {
        return ends.length == 0 ? 0 : ends[ends.length - 1];
    }

    Region get(final int index)
    {
        if (index < 0 || index >= size())
        {
            throw new IndexOutOfBoundsException("region " + index + " of " + size());
        }
        final int c = chunkOf(index);
        return chunks[c][index - startOf(c)];
    }

    /** @return the chunk holding {@code index} (0 <= index < size()). */
    private int chunkOf(final int index)
    {
        int lo = 0;
        int hi = ends.length - 1;
        while (lo < hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (ends[mid] > index)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private int startOf(final int chunk)
    {
        return chunk == 0 ? 0 : ends[chunk - 1];
    }

    /** @return the index of the last region starting at or before {@code address}, or -1. */
    int lastStartingAtOrBefore(final long address)
    {
        // The last chunk whose first region starts at or before the address, then inside it.
        int lo = 0;
        int hi = chunks.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (chunks[mid][0].start() <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        if (hi < 0)
        {
            return -1;
        }
        final Region[] chunk = chunks[hi];
        int a = 0;
        int b = chunk.length - 1;
        while (a <= b)
        {
            final int mid = (a + b) >>> 1;
            if (chunk[mid].start() <= address)
            {
                a = mid + 1;
            }
            else
            {
                b = mid - 1;
            }
        }
        return startOf(hi) + b;
    }

    /**
     * @param lo     first index replaced.
     * @param hi     end of the replaced stretch (exclusive), lo &lt;= hi &lt;= size().
     * @param middle what takes its place, in address order.
     * @return the new list: this one's [0, lo) + middle + this one's [hi, size()). This list is unchanged.
     */
    RegionList replace(final int lo, final int hi, final List<Region> middle)
    {
        return replace(lo, hi, middle.toArray(new Region[0]));
    }

    private RegionList replace(final int lo, final int hi, final Region[] middle)
    {
        final int size = size();
        if (lo < 0 || hi < lo || hi > size)
        {
            throw new IndexOutOfBoundsException("replace [" + lo + ", " + hi + ") of " + size);
        }
        final int m = middle.length;
        // The chunks the stretch touches: [cA, cB], holding regions [from, to). Empty list: none.
        int cA = chunks.length == 0 ? 0 : chunkOf(Math.min(lo, size - 1));
        int cB = chunks.length == 0 ? -1 : Math.max(cA, hi > lo ? chunkOf(hi - 1) : cA);
        int from = chunks.length == 0 ? 0 : startOf(cA);
        int to = chunks.length == 0 ? 0 : ends[cB];
        int t = (lo - from) + m + (to - hi);
        while (t > 0 && t < CHUNK / 2 && (cA > 0 || cB < chunks.length - 1))
        {
            // Too few for a chunk: take a neighbour in, so chunks never shrink below half.
            if (cA > 0)
            {
                cA--;
                from = startOf(cA);
            }
            else
            {
                cB++;
                to = ends[cB];
            }
            t = (lo - from) + m + (to - hi);
        }
        final Region[] all = new Region[t];
        int at = copyOut(from, lo, all, 0);
        System.arraycopy(middle, 0, all, at, m);
        copyOut(hi, to, all, at + m);
        final int pieces = (t + CHUNK - 1) / CHUNK;
        final int kept = chunks.length - (cB - cA + 1);
        final Region[][] nextChunks = new Region[kept + pieces][];
        final int[] nextEnds = new int[kept + pieces];
        System.arraycopy(chunks, 0, nextChunks, 0, cA);
        System.arraycopy(ends, 0, nextEnds, 0, cA);
        int end = from;
        for (int p = 0; p < pieces; p++)
        {
            // Even pieces: each between CHUNK / 2 and CHUNK when t >= CHUNK / 2.
            final int a = (int)((long)t * p / pieces);
            final int b = (int)((long)t * (p + 1) / pieces);
            final Region[] piece = new Region[b - a];
            System.arraycopy(all, a, piece, 0, b - a);
            end += b - a;
            nextChunks[cA + p] = piece;
            nextEnds[cA + p] = end;
        }
        final int delta = t - (to - from);
        for (int c = cB + 1; c < chunks.length; c++)
        {
            nextChunks[c - cB - 1 + cA + pieces] = chunks[c];
            nextEnds[c - cB - 1 + cA + pieces] = ends[c] + delta;
        }
        // Gap leaves: the new chunks' two each, then the gap after them (the next chunk's first, or the end gap).
        final long[] leaves = new long[2 * pieces + 1];
        long prevEnd = cA == 0 ? windowStart : last(chunks[cA - 1]).end();
        for (int p = 0; p < pieces; p++)
        {
            final Region[] piece = nextChunks[cA + p];
            leaves[2 * p] = piece[0].start() - prevEnd;
            leaves[2 * p + 1] = innerGap(piece);
            prevEnd = last(piece).end();
        }
        leaves[2 * pieces] = (cB + 1 < chunks.length ? chunks[cB + 1][0].start() : windowEnd) - prevEnd;
        return new RegionList(windowStart, windowEnd, nextChunks, nextEnds,
            gaps.replace(2 * cA, 2 * (cB - cA + 1) + 1, leaves));
    }

    private static Region last(final Region[] chunk)
    {
        return chunk[chunk.length - 1];
    }

    /** @return the largest gap between the chunk's regions, NO_GAP for one region. */
    private static long innerGap(final Region[] chunk)
    {
        long max = NO_GAP;
        for (int i = 1; i < chunk.length; i++)
        {
            max = Math.max(max, chunk[i].start() - chunk[i - 1].end());
        }
        return max;
    }

    /** @return the largest free range of the window, in bytes: O(1). */
    long largestGap()
    {
        return gaps.max();
    }

    /**
     * @param length bytes wanted.
     * @return the start of the lowest free range of the window of at least {@code length} bytes, or -1: O(log n) in
     *         the gap index, then a scan of one chunk.
     */
    long lowestGap(final long length)
    {
        final int leaf = gaps.lowest(length);
        if (leaf < 0)
        {
            return -1;
        }
        final int c = leaf >>> 1;
        if ((leaf & 1) == 0)
        {
            // The gap before chunk c (c == chunks.length: the window's end gap).
            return c == 0 ? windowStart : last(chunks[c - 1]).end();
        }
        final Region[] chunk = chunks[c];
        for (int i = 1; i < chunk.length; i++)
        {
            if (chunk[i].start() - chunk[i - 1].end() >= length)
            {
                return chunk[i - 1].end();
            }
        }
        throw new IllegalStateException("gap index: chunk " + c + " has no gap of " + length);
    }

    /** Copies regions [from, to) into dst at {@code at}; returns the index after the last copied. */
    private int copyOut(final int from, final int to, final Region[] dst, final int at)
    {
        int out = at;
        for (int i = from; i < to; )
        {
            final int c = chunkOf(i);
            final int inChunk = i - startOf(c);
            final int n = Math.min(chunks[c].length - inChunk, to - i);
            System.arraycopy(chunks[c], inChunk, dst, out, n);
            out += n;
            i += n;
        }
        return out;
    }

    /** @return an unmodifiable view in address order. */
    List<Region> asList()
    {
        return new View(this);
    }

    private static final class View extends AbstractList<Region> implements RandomAccess
    {
        private final RegionList list;

        View(final RegionList list)
        {
            this.list = list;
        }

        @Override
        public Region get(final int index)
        {
            return list.get(index);
        }

        @Override
        public int size()
        {
            return list.size();
        }

        @Override
        public Iterator<Region> iterator()
        {
            // Chunk by chunk: O(1) a step, where get(i) searches for the chunk.
            return new Iterator<>()
            {
                private int chunk;
                private int at;

                @Override
                public boolean hasNext()
                {
                    return chunk < list.chunks.length;
                }

                @Override
                public Region next()
                {
                    if (!hasNext())
                    {
                        throw new NoSuchElementException();
                    }
                    final Region[] c = list.chunks[chunk];
                    final Region r = c[at++];
                    if (at == c.length)
                    {
                        chunk++;
                        at = 0;
                    }
                    return r;
                }
            };
        }
    }

    /**
     * For tests: the gap index's leaves (2 per chunk, then the window's end gap), to check against the chunks.
     *
     * @return the leaves, in order.
     */
    long[] gapLeaves()
    {
        final long[] leaves = new long[gaps.count()];
        for (int i = 0; i < leaves.length; i++)
        {
            leaves[i] = gaps.get(i);
        }
        return leaves;
    }

    /** For tests: the chunks, in order (the arrays themselves, to tell shared from copied). */
    List<Region[]> chunkArrays()
    {
        return List.of(chunks);
    }
}
