package io.regionmm.map;

/**
 * A persistent max tree over a sequence of {@code long} leaves: the free-range summaries of a {@link RegionList}
 * (two leaves per chunk, the gap before its first region and the largest gap between its regions, then one leaf for
 * the gap at the window's end). A new version made by {@link #replace} copies only the nodes on the paths to the
 * leaves that changed when the number of leaves stays (a change inside chunks, the usual case), and rebuilds only
 * the nodes from the change on when it does not (a chunk split or joined: once in about CHUNK / 2 inserts or
 * removals); every other node is shared with the version before. So the first search of a new version costs
 * O(log n) ({@link #lowest}, {@link #max}), where a tree built per version cost O(n) on its first search.
 *
 * <p>Nodes have {@value #FANOUT} entries: a leaf node holds leaf values, an inner node its children and the largest
 * value below each. A node's arrays end where its entries do (the last node of a level is shorter).
 */
final class GapIndex
{
    static final int BITS = 4;
    static final int FANOUT = 1 << BITS;

    /** A node: max[k] is the largest leaf value under entry k; kids is null in a leaf node. */
    private static final class Node
    {
        final long[] max;
        final Node[] kids;

        Node(final long[] max, final Node[] kids)
        {
            this.max = max;
            this.kids = kids;
        }

        long total()
        {
            long m = Long.MIN_VALUE;
            for (final long v : max)
            {
                m = Math.max(m, v);
            }
            return m;
        }
    }

    private final Node root;
    private final int height; // 0: the root is a leaf node; each level above multiplies its reach by FANOUT
    private final int count;
    private final long total;

    private GapIndex(final Node root, final int height, final int count)
    {
        this.root = root;
        this.height = height;
        this.count = count;
        this.total = root == null ? Long.MIN_VALUE : root.total();
    }

    /**
     * @param values the leaves, in order.
     * @return a tree holding them (the array is not kept).
     */
    static GapIndex of(final long... values)
    {
        final int h = heightFor(values.length);
        return new GapIndex(values.length == 0 ? null : build(values, null, 0, h, 0), h, values.length);
    }

    /** @return the number of leaves. */
    int count()
    {
        return count;
    }

    /** @return the largest leaf value (Long.MIN_VALUE when there are none). */
    long max()
    {
        return total;
    }

    /**
     * @param at leaf index, 0 &lt;= at &lt; count().
     * @return its value.
     */
    long get(final int at)
    {
        if (at < 0 || at >= count)
        {
            throw new IndexOutOfBoundsException("leaf " + at + " of " + count);
        }
        Node node = root;
        for (int level = height; level > 0; level--)
        {
            node = node.kids[(at >>> (BITS * level)) & (FANOUT - 1)];
        }
        return node.max[at & (FANOUT - 1)];
    }

    /**
     * @param value a bound.
     * @return the index of the first leaf whose value is at least {@code value}, or -1: O(height * FANOUT).
     */
    int lowest(final long value)
    {
        if (root == null || total < value)
        {
            return -1;
        }
        Node node = root;
        int base = 0;
        for (int level = height; ; level--)
        {
            int k = 0;
            while (node.max[k] < value)
            {
                k++;
            }
            base += k << (BITS * level);
            if (level == 0)
            {
                return base;
            }
            node = node.kids[k];
        }
    }

    /**
     * The next version: leaves [at, at + removed) give way to {@code values}. This version is unchanged.
     *
     * @param at      first leaf replaced.
     * @param removed how many leaves leave.
     * @param values  the leaves in their place (not kept).
     * @return the new version.
     */
    GapIndex replace(final int at, final int removed, final long[] values)
    {
        if (at < 0 || removed < 0 || at + removed > count)
        {
            throw new IndexOutOfBoundsException("replace [" + at + ", " + (at + removed) + ") of " + count);
        }
        if (removed == values.length)
        {
            // The same shape: copy the paths to the changed leaves only.
            return values.length == 0 ? this : new GapIndex(set(root, height, 0, at, values), height, count);
        }
        final int next = count - removed + values.length;
        final long[] all = new long[next];
        flatten(root, height, 0, all, 0, 0, at);
        System.arraycopy(values, 0, all, at, values.length);
        final long[] tail = new long[count - at - removed];
        flatten(root, height, 0, tail, at + removed, at + removed, count);
        System.arraycopy(tail, 0, all, at + values.length, tail.length);
        final int h = heightFor(next);
        // Nodes wholly before the change keep their leaves and places: shared when the tree keeps its height.
        return new GapIndex(next == 0 ? null : build(all, h == height ? root : null, at, h, 0), h, next);
    }

    private static int heightFor(final int n)
    {
        int h = 0;
        while (h < 7 && (long)n > 1L << (BITS * (h + 1)))
        {
            h++;
        }
        return h;
    }

    /** The node at {@code level} over the leaves from {@code base}; old's entries wholly before keep are reused. */
    private static Node build(final long[] all, final Node old, final int keep, final int level, final int base)
    {
        final int span = 1 << (BITS * level); // leaves per entry
        final int entries = (int)Math.min(FANOUT, ((long)all.length - base + span - 1) / span);
        final long[] max = new long[entries];
        if (level == 0)
        {
            System.arraycopy(all, base, max, 0, entries);
            return new Node(max, null);
        }
        final Node[] kids = new Node[entries];
        for (int k = 0; k < entries; k++)
        {
            final int from = base + k * span;
            final Node was = old != null && k < old.kids.length ? old.kids[k] : null;
            if (was != null && from + span <= keep)
            {
                kids[k] = was;
                max[k] = old.max[k];
            }
            else
            {
                kids[k] = build(all, was, keep, level - 1, from);
                max[k] = kids[k].total();
            }
        }
        return new Node(max, kids);
    }

    /** A copy of {@code node} with leaves [at, at + values.length) set (they exist). */
    private static Node set(final Node node, final int level, final int base, final int at, final long[] values)
    {
        final int span = 1 << (BITS * level);
        final long[] max = node.max.clone();
        final int first = Math.max(0, (at - base) / span);
        final int last = Math.min(max.length - 1, (at + values.length - 1 - base) / span);
        if (level == 0)
        {
            for (int k = first; k <= last; k++)
            {
                max[k] = values[base + k - at];
            }
            return new Node(max, null);
        }
        final Node[] kids = node.kids.clone();
        for (int k = first; k <= last; k++)
        {
            kids[k] = set(kids[k], level - 1, base + k * span, at, values);
            max[k] = kids[k].total();
        }
        return new Node(max, kids);
    }

    /** Copies the leaves [from, to) under {@code node} (whose leaves start at base): leaf i to dst[i - origin]. */
    private static void flatten(final Node node, final int level, final int base, final long[] dst, final int origin,
        final int from, final int to)
    {
        if (node == null || from >= to)
        {
            return;
        }
        final int span = 1 << (BITS * level);
        final int first = Math.max(0, (from - base) / span);
        final int last = Math.min(node.max.length - 1, (to - 1 - base) / span);
        for (int k = first; k <= last; k++)
        {
            final int at = base + k * span;
            if (level == 0)
            {
                dst[at - origin] = node.max[k];
            }
            else
            {
                flatten(node.kids[k], level - 1, at, dst, origin, Math.max(from, at), Math.min(to, at + span));
            }
        }
    }
}
