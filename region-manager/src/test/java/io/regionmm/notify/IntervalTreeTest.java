package io.regionmm.notify;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interval tree against a plain list: seeded random inserts, removes and overlap queries.
 */
class IntervalTreeTest
{
    private static final long SEED = Long.getLong("regionmm.seed", 0x17E7L);

    @Test
    void overlapsMatchAPlainListUnderRandomChanges()
    {
        final SplittableRandom rnd = new SplittableRandom(SEED);
        final IntervalTree<Object> tree = new IntervalTree<>();
        final List<Interval<Object>> model = new ArrayList<>();
        long id = 0;
        for (int step = 0; step < 20_000; step++)
        {
            final int what = rnd.nextInt(10);
            if (what < 4 || model.isEmpty())
            {
                final long s = rnd.nextLong(1000);
                final Interval<Object> n = new Interval<>(s, s + 1 + rnd.nextLong(rnd.nextBoolean() ? 5 : 200),
                    id++, null);
                tree.insert(n);
                model.add(n);
            }
            else if (what < 7)
            {
                tree.remove(model.remove(rnd.nextInt(model.size())));
            }
            else
            {
                final long from = rnd.nextLong(1100);
                final long to = from + 1 + rnd.nextLong(100);
                final List<Interval<Object>> expected = new ArrayList<>();
                for (final Interval<Object> n : model)
                {
                    if (n.overlaps(from, to))
                    {
                        expected.add(n);
                    }
                }
                expected.sort((a, b) -> a.start != b.start ? Long.compare(a.start, b.start) : Long.compare(a.id, b.id));
                final List<Interval<Object>> found = new ArrayList<>();
                tree.forEachOverlap(from, to, found::add);
                assertEquals(expected, found, "seed " + SEED + " step " + step + " [" + from + ", " + to + ")");
                assertEquals(!expected.isEmpty(), tree.anyOverlap(from, to), "seed " + SEED + " step " + step);
            }
            assertEquals(model.size(), tree.size());
        }
    }

    @Test
    void stopsWhenTheVisitorSaysSo()
    {
        final IntervalTree<Object> tree = new IntervalTree<>();
        for (int i = 0; i < 10; i++)
        {
            tree.insert(new Interval<>(i * 10, i * 10 + 10, i, null));
        }
        final int[] seen = new int[1];
        final boolean completed = tree.forEachOverlap(0, 100, n -> ++seen[0] < 3);
        assertEquals(3, seen[0]);
        assertTrue(!completed);
    }

    @Test
    void staysLogarithmicallyDeepForSortedInserts()
    {
        final IntervalTree<Object> tree = new IntervalTree<>();
        final int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            tree.insert(new Interval<>(i * 4096L, i * 4096L + 4096, i, null)); // sorted: worst case for a plain BST
        }
        final int height = tree.height();
        // a treap's expected depth is about 2 ln n (23 here); 4 log2 n (66) leaves room for an unlucky hash
        assertTrue(height < 4 * 17, "height " + height + " for " + n + " intervals");
    }
}
