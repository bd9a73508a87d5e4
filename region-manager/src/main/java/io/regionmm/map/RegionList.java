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
 */
final class RegionList
{
    static final int CHUNK = 128;
    static final RegionList EMPTY = new RegionList(new Region[0][], new int[0]);

    private final Region[][] chunks; // none empty
    private final int[] ends; // ends[c]: how many regions chunks 0..c hold together

    private RegionList(final Region[][] chunks, final int[] ends)
    {
        this.chunks = chunks;
        this.ends = ends;
    }

    /**
     * @param sorted regions in address order (not copied into the result: chunks are fresh arrays).
     * @return the list.
     */
    static RegionList of(final Region[] sorted)
    {
        return EMPTY.replace(0, 0, sorted);
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
        return new RegionList(nextChunks, nextEnds);
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

    /** For tests: the chunks, in order (the arrays themselves, to tell shared from copied). */
    List<Region[]> chunkArrays()
    {
        return List.of(chunks);
    }
}
