package io.regionmm.notify;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sequence logic of {@link Invalidations} step by step: odd while an overlapping invalidation runs, deferred adds
 * and removes, nested (concurrent) invalidations, and what readBegin waits for.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InvalidationsTest
{
    private final Invalidations<String> inv = new Invalidations<>();

    private Interval<String> subscribe(final long start, final long end)
    {
        final Interval<String> n = inv.newInterval(start, end, "[" + start + "," + end + ")");
        inv.insert(n);
        return n;
    }

    private List<String> walk(final long start, final long end, final long seq)
    {
        final List<String> told = new ArrayList<>();
        inv.forEachOverlap(start, end, n -> {
            told.add(n.owner());
            n.setSequence(seq);
            return true;
        });
        return told;
    }

    @Test
    void idleSequenceIsEvenAndAnInvalidationOfNothingKeepsItSo()
    {
        final long idle = inv.sequence();
        assertEquals(0, idle & 1);
        final Interval<String> a = subscribe(0, 10);
        assertEquals(idle - 1, a.sequence(), "a new interval takes an odd value the space never returns to");
        assertEquals(0, inv.begin(20, 30), "nothing overlaps");
        assertEquals(idle, inv.sequence());
        inv.end();
        assertEquals(idle, inv.sequence());
    }

    @Test
    void anOverlappingInvalidationMakesTheSequenceOddUntilItEnds()
    {
        final Interval<String> a = subscribe(0, 10);
        final Interval<String> b = subscribe(20, 30);
        final long s = inv.readBegin(a);
        final long cur = inv.begin(5, 25);
        assertEquals(1, cur & 1);
        assertEquals(List.of("[0,10)", "[20,30)"), walk(5, 25, cur));
        assertTrue(inv.isInvalidating(a));
        assertNotEquals(s, a.sequence(), "the retry check fires");
        inv.end();
        assertEquals(cur + 1, inv.sequence());
        assertFalse(inv.isInvalidating(b));
    }

    @Test
    void twoOverlappingInvalidationsKeepTheSequenceOddUntilTheLastEnds() throws Exception
    {
        final Interval<String> a = subscribe(0, 10);
        final long s1 = inv.begin(0, 10);
        walk(0, 10, s1);
        final long s2 = inv.begin(5, 15); // concurrent with the first: the same odd sequence
        assertEquals(s1, s2);
        walk(5, 15, s2);
        final CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> inv.readBegin(a));
        inv.end();
        assertEquals(s1, inv.sequence(), "one invalidation still runs");
        assertTrue(inv.isInvalidating(a), "a reader would still wait");
        inv.end();
        assertEquals(s1, (long)reader.get(10, TimeUnit.SECONDS), "readBegin returns the sequence it waited on");
        assertEquals(s1 + 1, inv.sequence());
    }

    @Test
    void anAddDuringAnOverlappingInvalidationIsDeferredAndItsReaderWaits() throws Exception
    {
        subscribe(0, 100);
        final long cur = inv.begin(0, 100);
        final Interval<String> late = subscribe(50, 60);
        assertEquals(cur, late.sequence(), "added while invalidating: takes the running sequence");
        assertEquals(1, inv.size(), "deferred: not in the tree yet");
        assertEquals(List.of("[0,100)"), walk(0, 100, cur), "the running walk does not see it");
        final CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> inv.readBegin(late));
        assertTrue(inv.isInvalidating(late));
        inv.end();
        assertEquals(cur, (long)reader.get(10, TimeUnit.SECONDS));
        assertEquals(2, inv.size(), "applied at the end");
        assertFalse(inv.isInvalidating(late));
    }

    @Test
    void anAddWhileANonOverlappingInvalidationRunsMakesTheSequenceOddItself()
    {
        final long idle = inv.sequence();
        assertEquals(0, inv.begin(0, 10), "no subscription: nothing to walk");
        final Interval<String> n = subscribe(0, 10);
        assertEquals(idle | 1, inv.sequence(), "the running invalidation may be changing the new range");
        assertTrue(inv.isInvalidating(n));
        assertEquals(1, inv.size(), "inserted at once: no walk was running");
        inv.end();
        assertFalse(inv.isInvalidating(n));
    }

    @Test
    void aRemoveDuringAnInvalidationIsDeferredAndTheRemoverWaits() throws Exception
    {
        final Interval<String> a = subscribe(0, 10);
        final long cur = inv.begin(0, 10);
        final long wait = inv.remove(a);
        assertEquals(cur, wait, "deferred: a walk may still call it");
        assertEquals(1, inv.size());
        assertFalse(inv.awaitChange(wait, 1, TimeUnit.MILLISECONDS), "still running");
        final CompletableFuture<Boolean> remover = CompletableFuture.supplyAsync(
            () -> inv.awaitChange(wait, 10, TimeUnit.SECONDS));
        inv.end();
        assertTrue(remover.get(10, TimeUnit.SECONDS));
        assertEquals(0, inv.size());
        assertEquals(0, inv.remove(a), "idempotent");
    }

    @Test
    void anAddThenRemoveDuringOneInvalidationNeverReachesTheTree()
    {
        subscribe(0, 10);
        inv.begin(0, 10);
        final Interval<String> n = subscribe(0, 10);
        assertEquals(0, inv.remove(n), "never in the tree: nothing can call it");
        inv.end();
        assertEquals(1, inv.size());
    }

    @Test
    void endWithoutBeginIsRefused()
    {
        assertThrows(IllegalStateException.class, inv::end);
    }
}
