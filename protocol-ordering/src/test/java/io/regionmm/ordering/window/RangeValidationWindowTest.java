package io.regionmm.ordering.window;

import io.regionmm.lock.MmLock;
import io.regionmm.ordering.Region;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Range speculation validating across the end of its section and the start of the next, with its windows
 * stretched ({@link Stall}): the reader is held between reading the log's state and reading its entries.
 *
 * <p>Two regions, [0, 1) and [1, 2), born in section 1 (speculation starts at 2). The writer's section A (3) locks
 * [1, 2), which becomes the log's first entry, and changes its words slowly, ending at 4; section B (5) locks
 * [0, 1), whose range overwrites that first entry, ending at 6. A reader of [1, 2) that began in A and copied during
 * A's change reads A's state (one entry), is held, and finds B's entry there: only the sequence, read after the
 * entries, still tells it that A is over. Were the sequence read before the state (3, A still open), the copy
 * would pass.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded); r2, r3 the words of [1, 2) copied; r4 the sequence
 * speculation began at. A bug shows as a validated copy that is torn, holds new words begun at 2 or 3, or holds
 * old words begun at 4 or later. A discarded torn copy begun at 3 is the window being hit and caught.
 */
@JCStressTest
@Outcome(id = "1, 0, 0, [23]", expect = ACCEPTABLE, desc = "validated before A changed the range: old words")
@Outcome(id = "1, 1, 1, [456]", expect = ACCEPTABLE, desc = "validated after A: new words")
@Outcome(id = "2, (0, 0|1, 1), [23456]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), 3", expect = ACCEPTABLE_INTERESTING,
    desc = "discarded a copy torn by A, begun in A: the window was hit and caught")
@Outcome(id = "2, (1, 0|0, 1), [2456]", expect = ACCEPTABLE, desc = "discarded a torn copy")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped A's change, or a stale one")
@State
public class RangeValidationWindowTest
{
    static
    {
        Stall.install();
    }

    private final MmLock mm = new MmLock();
    private final Region[] regions = Region.born(mm, 0, 1, 1, 2);
    private final Region other = regions[0];
    private final Region region = regions[1];

    /**
     * Speculates on [1, 2): begin, a slow copy, validate against the log (held in the middle).
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIII_Result r)
    {
        final long s = mm.speculateBegin();
        final int b = region.b;
        Stall.spin(Stall.COPY_NS);
        final int a = region.a;
        r.r1 = mm.speculateRangeRetry(1, 2, s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
        r.r4 = (int)s;
    }

    /** Section A locks and slowly changes [1, 2); section B locks [0, 1), taking over the log. */
    @Actor
    public void writer()
    {
        mm.beginWrite();
        try
        {
            Stall.spin(Stall.BEFORE_LOCK_NS);
            mm.writeLock(region);
            region.a = 1;
            Stall.spin(Stall.CHANGE_NS);
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
