package io.regionmm.notify;

/**
 * The subscribed ranges, ordered by start (then id), each node keeping the largest end in its subtree, so a search
 * skips every subtree that ends before the range it looks for: O(log n) to find that nothing overlaps, O(log n) more
 * per overlap found (the kernel's interval tree is the same augmented search over a red-black tree; this one is a
 * treap whose priorities are a fixed hash of the id, so its shape is deterministic).
 *
 * <p>Not thread-safe: {@link Invalidations} changes it under its lock, and only while its sequence is even, so a
 * walk that runs while the sequence is odd sees a tree that does not change.
 */
final class IntervalTree<T>
{
    private Interval<T> root;
    private int size;

    int size()
    {
        return size;
    }

    void insert(final Interval<T> n)
    {
        n.left = null;
        n.right = null;
        n.maxEnd = n.end;
        root = insert(root, n);
        size++;
    }

    void remove(final Interval<T> n)
    {
        root = remove(root, n);
        n.left = null;
        n.right = null;
        size--;
    }

    /** @return whether any interval overlaps [from, to). */
    boolean anyOverlap(final long from, final long to)
    {
        Interval<T> n = root;
        while (n != null)
        {
            if (n.maxEnd <= from)
            {
                return false; // nothing in this subtree reaches from
            }
            if (n.overlaps(from, to))
            {
                return true;
            }
            if (n.left != null && n.left.maxEnd > from)
            {
                n = n.left; // the left subtree reaches from and starts earlier: an overlap, if any, is there first
            }
            else if (n.start < to)
            {
                n = n.right;
            }
            else
            {
                return false;
            }
        }
        return false;
    }

    /**
     * Visits every interval overlapping [from, to), in order of start.
     *
     * @return false when the visitor stopped the walk.
     */
    boolean forEachOverlap(final long from, final long to, final IntervalVisitor<T> v)
    {
        return walk(root, from, to, v);
    }

    private boolean walk(final Interval<T> n, final long from, final long to, final IntervalVisitor<T> v)
    {
        if (n == null || n.maxEnd <= from)
        {
            return true;
        }
        if (!walk(n.left, from, to, v))
        {
            return false;
        }
        if (n.start >= to)
        {
            return true; // n and everything right of it start at or after to
        }
        if (n.end > from && !v.visit(n))
        {
            return false;
        }
        return walk(n.right, from, to, v);
    }

    private static <T> boolean before(final Interval<T> a, final Interval<T> b)
    {
        return a.start < b.start || a.start == b.start && a.id < b.id;
    }

    private Interval<T> insert(final Interval<T> t, final Interval<T> n)
    {
        if (t == null)
        {
            return n;
        }
        if (before(n, t))
        {
            t.left = insert(t.left, n);
            if (t.left.priority > t.priority)
            {
                return rotateRight(t);
            }
        }
        else
        {
            t.right = insert(t.right, n);
            if (t.right.priority > t.priority)
            {
                return rotateLeft(t);
            }
        }
        update(t);
        return t;
    }

    private Interval<T> remove(final Interval<T> t, final Interval<T> n)
    {
        if (t == null)
        {
            throw new IllegalStateException("interval " + n + " is not in the tree");
        }
        if (t == n)
        {
            return join(t.left, t.right);
        }
        if (before(n, t))
        {
            t.left = remove(t.left, n);
        }
        else
        {
            t.right = remove(t.right, n);
        }
        update(t);
        return t;
    }

    /** Joins two treaps where every key of a is before every key of b. */
    private Interval<T> join(final Interval<T> a, final Interval<T> b)
    {
        if (a == null)
        {
            return b;
        }
        if (b == null)
        {
            return a;
        }
        if (a.priority > b.priority)
        {
            a.right = join(a.right, b);
            update(a);
            return a;
        }
        b.left = join(a, b.left);
        update(b);
        return b;
    }

    private Interval<T> rotateRight(final Interval<T> t)
    {
        final Interval<T> l = t.left;
        t.left = l.right;
        l.right = t;
        update(t);
        update(l);
        return l;
    }

    private Interval<T> rotateLeft(final Interval<T> t)
    {
        final Interval<T> r = t.right;
        t.right = r.left;
        r.left = t;
        update(t);
        update(r);
        return r;
    }

    private static <T> void update(final Interval<T> t)
    {
        long m = t.end;
        if (t.left != null && t.left.maxEnd > m)
        {
            m = t.left.maxEnd;
        }
        if (t.right != null && t.right.maxEnd > m)
        {
            m = t.right.maxEnd;
        }
        t.maxEnd = m;
    }

    /** @return the tree's height (tests: the treap stays O(log n) deep). */
    int height()
    {
        return height(root);
    }

    private static <T> int height(final Interval<T> t)
    {
        return t == null ? 0 : 1 + Math.max(height(t.left), height(t.right));
    }
}
