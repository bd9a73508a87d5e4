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
 * Range speculation over a region born in the open section and changed by it (map, then madvise, in one section):
 * the region is locked from birth but logged only at its {@code writeLock}, which then returns at once, so the log
 * append is the only thing ordering the writer's change after the log entry.
 *
 * <p>The state starts at sequence 0 with nothing mapped at [0, 2). The writer's section 1 creates the region,
 * publishes it (the map), write-locks it and changes both words; it ends at 2. The reader begins, loads the map,
 * copies the region's words if it found one, and validates the range.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded, 3 nothing mapped); r2, r3 the words copied; r4 the sequence
 * speculation began at. A bug shows as:
 * <ul>
 * <li>a validated copy that is torn, or holds the new words begun at 1: the change became visible before the log
 *     entry that announces it (appendToLog's volatile store), or the reader read the log too early;</li>
 * <li>a validated copy of old words begun at 2, or nothing mapped begun at 2: the even sequence's acquire did not
 *     bring the section's publication and change.</li>
 * </ul>
 */
@JCStressTest
@Outcome(id = "3, 0, 0, [01]", expect = ACCEPTABLE, desc = "nothing mapped yet")
@Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE, desc = "validated inside the section before the region was logged")
@Outcome(id = "1, 1, 1, 2", expect = ACCEPTABLE, desc = "validated after the section: new words")
@Outcome(id = "2, (0, 0|1, 1), [012]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [012]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped the change, or a stale map or copy")
@State
public class RangeBornRegionTest
{
    private final MmLock mm = new MmLock();
    // The region map, reduced to the one slot [0, 2): published with a release store, loaded with acquire.
    private volatile Region map;

    /**
     * Speculates on [0, 2): begin, look up, copy, validate against the log.
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIII_Result r)
    {
        final long s = mm.speculateBegin();
        r.r4 = (int)s;
        final Region found = map;
        if (found == null)
        {
            r.r1 = 3;
            return;
        }
        final int b = found.b;
        final int a = found.a;
        r.r1 = mm.speculateRangeRetry(0, 2, s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
    }

    /** One section: create and publish the region, lock it, change both words. */
    @Actor
    public void writer()
    {
        final long s = mm.beginWrite();
        try
        {
            final Region born = new Region(s, 0, 2);
            map = born;
            mm.writeLock(born);
            born.a = 1;
            born.b = 1;
        }
        finally
        {
            mm.endWrite();
        }
    }
}
