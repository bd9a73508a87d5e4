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
 * Whole-map speculation (kernel: mmap_lock_speculate_try_begin / _retry) straddling a write section:
 * {@code speculateTryBegin}, a copy of the region's two words, {@code speculateRetry(s)}, against a writer's
 * {@code beginWrite}, {@code writeLock}, change of both words, {@code endWrite}.
 *
 * <p>The region is born in section 1, so speculation starts at sequence 2; the writer's section is 3 and ends at 4.
 * The reader copies the second word first, so its two loads straddle the writer's two stores more often.
 *
 * <p>Result: r1 the reader's verdict (1 validated, 2 discarded, 0 refused: a writer was active); r2, r3 the words
 * copied; r4 the sequence speculation began at (-1 when refused). A bug shows as a validated copy that is:
 * <ul>
 * <li>torn ({@code 1, 0} or {@code 0, 1}): the copy overlapped the change and the final sequence check missed it
 *     (the load-load fence before it, or the store-store fence after the odd sequence);</li>
 * <li>new words begun at 2: the copy saw the section's change while the sequence still read 2 at the end;</li>
 * <li>old words begun at 4: the acquire of the even sequence did not bring the section's change with it
 *     (closeSection's release, speculateTryBegin's acquire).</li>
 * </ul>
 * Discarding is always allowed (a consistent copy may be discarded); a discarded torn copy is the race being hit
 * and caught, counted as interesting.
 */
@JCStressTest
@Outcome(id = "0, 0, 0, -1", expect = ACCEPTABLE, desc = "refused: the sequence was odd")
@Outcome(id = "1, 0, 0, 2", expect = ACCEPTABLE, desc = "validated before the section: old words")
@Outcome(id = "1, 1, 1, 4", expect = ACCEPTABLE, desc = "validated after the section: new words")
@Outcome(id = "2, (0, 0|1, 1), [24]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), [24]", expect = ACCEPTABLE_INTERESTING, desc = "discarded a torn copy: race caught")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped the section's change, or a stale one")
@State
public class SpeculationTest
{
    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

    /**
     * Speculates: begin, copy, validate.
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIII_Result r)
    {
        final long s = mm.speculateTryBegin();
        r.r4 = (int)s;
        if (s == MmLock.NO_SPECULATION)
        {
            return;
        }
        final int b = region.b;
        final int a = region.a;
        r.r1 = mm.speculateRetry(s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
    }

    /** Locks the region and changes both words in one section. */
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
    }
}
