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
 * Per-region speculation validating across the end of its section and the start of the next, the race
 * {@code MmLockRaceReplayTest} replays step by step, here left to the scheduler with its windows stretched
 * ({@link Stall}): the reader is held between reading the region's lock word and reading the sequence.
 *
 * <p>The region is born in section 1 (speculation starts at 2). The writer's section A (3) locks the region and
 * changes both words slowly, ending at 4; section B (5) locks the region again without changing it, ending at 6.
 * A reader that began in A before A locked the region and copied during A's change must be refused: A's number is
 * in the lock word when it reads it. Were the sequence read first (3, A still open) and the lock word after the
 * hold (5, B's), the copy would pass.
 *
 * <p>Result: r1 the verdict (1 validated, 2 discarded, 0 refused by speculateRegion); r2, r3 the words copied; r4
 * the sequence speculation began at. A bug shows as a validated copy that is torn, holds new words begun at 2 or 3
 * (a copy of A's change validated against A), or holds old words begun at 4 or later. A discarded torn copy begun
 * at 3 is the window being hit and caught (interesting: its count says how often the run produced the race).
 */
@JCStressTest
@Outcome(id = "0, 0, 0, [35]", expect = ACCEPTABLE, desc = "refused: the open section had locked the region")
@Outcome(id = "0, 0, 0, [246]", expect = ACCEPTABLE_INTERESTING, desc = "refused with no section open (false 'locked')")
@Outcome(id = "1, 0, 0, [23]", expect = ACCEPTABLE, desc = "validated before A changed the region: old words")
@Outcome(id = "1, 1, 1, [456]", expect = ACCEPTABLE, desc = "validated after A: new words")
@Outcome(id = "2, (0, 0|1, 1), [23456]", expect = ACCEPTABLE, desc = "discarded a consistent copy")
@Outcome(id = "2, (1, 0|0, 1), 3", expect = ACCEPTABLE_INTERESTING,
    desc = "discarded a copy torn by A, begun in A: the window was hit and caught")
@Outcome(id = "2, (1, 0|0, 1), [2456]", expect = ACCEPTABLE, desc = "discarded a torn copy")
@Outcome(expect = FORBIDDEN, desc = "validated a copy that overlapped A's change, or a stale one")
@State
public class RegionValidationWindowTest
{
    static
    {
        Stall.install();
    }

    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

    /**
     * Speculates on the region: begin, check its lock, a slow copy, validate (held in the middle).
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
        Stall.spin(Stall.COPY_NS);
        final int a = region.a;
        r.r1 = mm.speculateRetry(region, s) ? 2 : 1;
        r.r2 = a;
        r.r3 = b;
    }

    /** Section A locks and slowly changes the region; section B locks it again. */
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
            mm.writeLock(region);
        }
        finally
        {
            mm.endWrite();
        }
    }
}
