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
 * Per-region speculation ({@code speculateBegin}, {@code speculateRegion}, copy, {@code speculateRetry(r, s)}),
 * which goes on while a section is open, against a section that first locks and changes another region, then
 * locks and changes this one.
 *
 * <p>Both regions are born in section 1 (speculation starts at 2); the writer's section is 3 and ends at 4, so a
 * reader may begin at 2, 3 or 4. Beginning at 3 it may validate, if the section had not locked its region by the
 * end of its check: the path beyond the kernel, which this test exercises.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded, 0 refused by speculateRegion); r2, r3 the words copied; r4
 * the sequence speculation began at. A bug shows as a validated copy that is:
 * <ul>
 * <li>torn: the copy overlapped the change and neither the region's lock word nor the sequence said so (the
 *     load-load fences of speculateRetry, the writer's lockSeq store before its change);</li>
 * <li>new words begun at 2 or 3: the copy saw the section's change and validated against that very section;</li>
 * <li>old words begun at 4: the even sequence's acquire did not bring the change.</li>
 * </ul>
 * A refusal with no section open (begun at 2 or 4) is a false "locked": allowed, but not expected here.
 */
@JCStressTest
@Outcome(id = "0, 0, 0, 3", expect = ACCEPTABLE, desc = "refused: the open section had locked the region")
@Outcome(id = "0, 0, 0, [24]", expect = ACCEPTABLE_INTERESTING, desc = "refused with no section open (false 'locked')")
@Outcome(id = "1, 0, 0, 2", expect = ACCEPTABLE, desc = "validated before the section: old words")
@Outcome(id = "1, 0, 0, 3", expect = ACCEPTABLE,
    desc = "validated inside the section, before it locked the region: old words")
@Outcome(id = "1, 1, 1, 4", expect = ACCEPTABLE, desc = "validated after the section: new words")
@Outcome(id = "2, (0, 0|1, 1), [234]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [234]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped the region's change, or a stale one")
@State
public class RegionSpeculationTest
{
    private final MmLock mm = new MmLock();
    private final Region[] regions = Region.born(mm, 0, 1, 1, 2);
    private final Region other = regions[0];
    private final Region region = regions[1];

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

    /** One section: lock and change the other region, then this one. */
    @Actor
    public void writer()
    {
        mm.beginWrite();
        try
        {
            mm.writeLock(other);
            other.a = 1;
            other.b = 1;
            mm.writeLock(region);
            region.a = 1;
            region.b = 1;
        }
        finally
        {
            mm.endWrite();
        }
    }
}
