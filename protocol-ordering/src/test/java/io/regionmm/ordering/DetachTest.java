package io.regionmm.ordering;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.StartRead;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A reader's {@code tryStartRead} against a writer that detaches the region (it leaves the map: unmap, or replaced
 * by a split or merge) and then changes its memory (the tombstone that goes over an unmapped range).
 *
 * <p>Same shape as {@link PinRecheckTest}: the region is born in section 1, the writer's section is 3 and ends at 4.
 * Result: r1 the reader's outcome (1 PINNED, 0 WRITE_LOCKED, 2 DETACHED); r2, r3 the words it read while pinned;
 * r4 the sequence it read after them; r5 the mark (stored by a pinned reader) the writer read after detaching. A
 * bug shows as:
 * <ul>
 * <li>pinned, and saw any of the writer's change: a detached region was pinned (refcnt 0 or the flag not refused,
 *     or the writer went ahead of an increment it did not see);</li>
 * <li>pinned, and the writer did not see the mark: detach did not wait for the pin, or did not acquire what the
 *     reader did through it;</li>
 * <li>a mark seen although the reader never pinned.</li>
 * </ul>
 * A region once detached is never pinned again, so no outcome pins after the section.
 */
@JCStressTest
@Outcome(id = "0, 0, 0, 0, 0", expect = ACCEPTABLE,
    desc = "refused while the writer excluded readers (or a stale early check: a false 'locked' is allowed)")
@Outcome(id = "2, 0, 0, 0, 0", expect = ACCEPTABLE, desc = "DETACHED: the count was 0")
@Outcome(id = "1, 0, 0, [23], 1", expect = ACCEPTABLE,
    desc = "pinned before the writer's flag: old words; detach waited for the pin and saw the reader's mark")
@Outcome(expect = FORBIDDEN, desc = "a detached region was pinned, or detach went ahead of a pin")
@State
public class DetachTest
{
    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

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
     * Detaches, reads the mark, changes what was the region's memory, ends the section.
     *
     * @param r the result.
     */
    @Actor
    public void writer(final IIIII_Result r)
    {
        mm.beginWrite();
        try
        {
            mm.detach(region);
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
