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
 * Range speculation ({@code speculateBegin}, copy, {@code speculateRangeRetry(start, end, s)}), which validates against
 * the open section's lock log instead of the region, against a section that locks and changes another region (the
 * log's first entry), then this one (the second).
 *
 * <p>Both regions are born in section 1 (speculation starts at 2); the writer's section is 3 and ends at 4. The
 * reader copies the words of [1, 2), which only the second region covers, and never looks at a region object.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded); r2, r3 the words copied; r4 the sequence speculation began
 * at. A bug shows as a validated copy that is:
 * <ul>
 * <li>torn, or new words begun at 2 or 3: the copy overlapped the change and the log did not say so (the log
 *     entry or its state store not ordered before the writer's change, the state not read with acquire, the
 *     entries not read before the final sequence, a load-load fence missing);</li>
 * <li>old words begun at 4: the even sequence's acquire did not bring the change.</li>
 * </ul>
 */
@JCStressTest
@Outcome(id = "1, 0, 0, 2", expect = ACCEPTABLE, desc = "validated before the section: old words")
@Outcome(id = "1, 0, 0, 3", expect = ACCEPTABLE,
    desc = "validated inside the section, before it logged the range: old words")
@Outcome(id = "1, 1, 1, 4", expect = ACCEPTABLE, desc = "validated after the section: new words")
@Outcome(id = "2, (0, 0|1, 1), [234]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [234]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped the range's change, or a stale one")
@State
public class RangeSpeculationTest
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
