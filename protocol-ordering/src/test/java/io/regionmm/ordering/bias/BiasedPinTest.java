package io.regionmm.ordering.bias;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.StartRead;
import io.regionmm.ordering.Region;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * {@link io.regionmm.ordering.PinRecheckTest}'s race on a region whose pins go through the reader bias (MmLock,
 * "Reader bias"): the state pins and unpins the region once before the actors run, which biases it, so the reader
 * publishes the region in its slot of the visible-readers table instead of counting, and the writer revokes the bias
 * and scans the table.
 * Same actors, same results, same forbidden outcomes.
 *
 * <p>The publication and the loads after it, and the writer's flag and its loads of the bias and the slots, form a
 * Dekker pair: either the writer finds the slot and waits, or the reader sees the flag. Each side's store must
 * precede its loads (volatile accesses, one total order). A release store of the slot, which x86 lets a later load
 * pass, shows here as a pin that overlapped the writer's change, or a writer that did not see the mark. This package
 * runs with a table of one slot ({@code -Dregionmm.visibleSlots=1}): the writer's scan is then one load right after
 * its flag and bias, so the window in which a buffered publication goes unseen is as narrow as the hardware makes it,
 * and reachable.
 */
@JCStressTest
@Outcome(id = "0, 0, 0, 0, 0", expect = ACCEPTABLE,
    desc = "refused: the writer's flag or lock was seen (or a stale early check: a false 'locked' is allowed)")
@Outcome(id = "1, 0, 0, [23], 1", expect = ACCEPTABLE,
    desc = "pinned before the writer's flag: old words; the writer waited for the pin and saw the reader's mark")
@Outcome(id = "1, 1, 1, 4, 0", expect = ACCEPTABLE,
    desc = "pinned after the section ended: the writer's change, complete")
@Outcome(expect = FORBIDDEN,
    desc = "a pin overlapped the writer's change, or the writer went ahead of a pin it should have waited for")
@State
public class BiasedPinTest
{
    private final MmLock mm = new MmLock();
    private final Region region = biased(mm, Region.born(mm, 0, 1)[0]);

    private static Region biased(final MmLock mm, final Region r)
    {
        if (mm.tryStartRead(r) != StartRead.PINNED || !MmLock.isReaderBiased(r))
        {
            throw new IllegalStateException("the state's own pin should have biased " + r);
        }
        mm.endRead(r);
        return r;
    }

    /**
     * Pins, reads, marks, unpins.
     *
     * @param r the result.
     */
    @Actor
    public void reader(final IIIII_Result r)
    {
        final StartRead started = mm.tryStartRead(region);
        if (started != StartRead.PINNED)
        {
            r.r1 = started == StartRead.WRITE_LOCKED ? 0 : 2;
            return;
        }
        r.r1 = 1;
        r.r3 = region.b;
        r.r2 = region.a;
        r.r4 = (int)mm.sequence();
        region.mark = 1;
        mm.endRead(region);
    }

    /**
     * Locks, reads the mark, changes the region, ends the section.
     *
     * @param r the result.
     */
    @Actor
    public void writer(final IIIII_Result r)
    {
        mm.beginWrite();
        try
        {
            mm.writeLock(region);
            r.r5 = region.mark;
            region.a = 1;
            region.b = 1;
        }
        finally
        {
            mm.endWrite();
        }
    }
}
