package io.regionmm.ordering;

import io.regionmm.lock.MmLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Range speculation validating while the section that changed the range ends and the next one logs another range
 * over the log's first entry. {@code window.RangeValidationWindowTest} forces that interleaving by holding the
 * reader between the log's state and its entries; this test has no hold, so only the machine could produce it: by
 * performing the validation's load of the sequence before its loads of the entries (the second load-load fence of
 * {@code speculateRangeRetry(start, end, s)}), or by making the next section's entry visible before the sequence stores
 * that precede it (openSection's store-store fence: the entry is a plain store). x86 does neither; aarch64 and
 * POWER may.
 *
 * <p>Two regions, [0, 1) and [1, 2), born in section 1 (speculation starts at 2). The writer's section A (3) locks
 * [1, 2) and changes its words, ending at 4; section B (5) locks [0, 1), whose range overwrites A's entry, ending
 * at 6. The reader copies [1, 2) and validates the range.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded); r2, r3 the words copied; r4 the sequence speculation began
 * at. A bug shows as a validated copy that is torn, holds new words begun at 2 or 3, or holds old words begun at 4
 * or later.
 */
@JCStressTest
@Outcome(id = "1, 0, 0, [23]", expect = ACCEPTABLE, desc = "validated before A changed the range: old words")
@Outcome(id = "1, 1, 1, [456]", expect = ACCEPTABLE, desc = "validated after A: new words")
@Outcome(id = "2, (0, 0|1, 1), [23456]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [23456]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped A's change, or a stale one")
@State
public class RangeTakeoverTest
{
    private final MmLock mm = new MmLock();
    private final Region[] regions = Region.born(mm, 0, 1, 1, 2);
    private final Region other = regions[0];
    private final Region region = regions[1];

    /**
     * Speculates on the range [1, 2): begin, copy, validate against the log.
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIII_Result r)
    {
        final long s = mm.speculateBegin();
        final int b = region.b;
        final int a = region.a;
        r.r1 = mm.speculateRangeRetry(1, 2, s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
        r.r4 = (int)s;
    }

    /** Section A locks and changes [1, 2); section B locks [0, 1), taking over the log. */
    @Actor
    public void writer()
    {
        mm.beginWrite();
        try
        {
            mm.writeLock(region);
            region.a = 1;
            region.b = 1;
        }
        finally
        {
            mm.endWrite();
        }
        mm.beginWrite();
        try
        {
            mm.writeLock(other);
        }
        finally
        {
            mm.endWrite();
        }
    }
}
