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
 * Per-region speculation validating while the section that changed the region ends and the next one locks it
 * again, overwriting the lock word the validation reads. {@code window.RegionValidationWindowTest} forces that
 * interleaving by holding the reader between its two validation loads; this test has no hold, so only the
 * machine could produce it, by performing the validation's load of the sequence before its load of the lock word
 * (the second load-load fence of {@code speculateRetry(r, s)}). x86 never does; aarch64 and POWER may.
 *
 * <p>The region is born in section 1 (speculation starts at 2). The writer's section A (3) locks it and changes
 * its words, ending at 4; section B (5) locks it again and changes nothing, ending at 6.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded, 0 refused by speculateRegion); r2, r3 the words copied; r4
 * the sequence speculation began at. A bug shows as a validated copy that is torn, holds new words begun at 2 or 3,
 * or holds old words begun at 4 or later.
 */
@JCStressTest
@Outcome(id = "0, 0, 0, [35]", expect = ACCEPTABLE, desc = "refused: the open section had locked the region")
@Outcome(id = "0, 0, 0, [246]", expect = ACCEPTABLE_INTERESTING, desc = "refused with no section open (false 'locked')")
@Outcome(id = "1, 0, 0, [23]", expect = ACCEPTABLE, desc = "validated before A changed the region: old words")
@Outcome(id = "1, 1, 1, [456]", expect = ACCEPTABLE, desc = "validated after A: new words")
@Outcome(id = "2, (0, 0|1, 1), [23456]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [23456]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped A's change, or a stale one")
@State
public class RegionTakeoverTest
{
    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

    /**
     * Speculates on the region: begin, check its lock, copy, validate.
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIII_Result r)
    {
        final long s = mm.speculateBegin();
        r.r4 = (int)s;
        if (!mm.speculateRegion(region, s))
        {
            return;
        }
        final int b = region.b;
        final int a = region.a;
        r.r1 = mm.speculateRetry(region, s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
    }

    /** Section A locks and changes the region; section B locks it again. */
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
            mm.writeLock(region);
        }
        finally
        {
            mm.endWrite();
        }
    }
}
