package io.regionmm.ordering;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.StartRead;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A writer waiting on pins, and the readers' {@code endRead} that lets it go: the last one out wakes it.
 *
 * <p>The reader actor takes two pins on the region (pins belong to the thread that takes them, so the actor takes them
 * itself, both or none; refused while the writer's section holds the region, it tries again), writes word a through
 * them, drops one pin, writes word b, drops the other. The writer write-locks the region, which waits until both pins
 * are gone, then reads both words.
 *
 * <p>Result: the words the writer read after locking. {@code 1, 1}: the writer waited for the reader;
 * {@code 0, 0}: the writer's section ran before the reader pinned. A bug shows as a mix:
 * <ul>
 * <li>{@code 1, 0}: the writer went ahead while the second pin was still held (it took the first endRead for the
 *     last);</li>
 * <li>{@code 0, 1}: the writer saw the drain but not the store made before it (endRead without release, or the
 *     writer's check of the count without acquire).</li>
 * </ul>
 * A lost wake-up is not an outcome: the waiting writer parks at most 200 us at a time, so it only slows the test; an
 * unbounded park would show as a jcstress timeout, which fails the run too.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the writer went on after the last pin, seeing what it covered")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the writer's section came first; the reader pinned after it")
@Outcome(expect = FORBIDDEN, desc = "the writer went on while a pin was held, or without what the pins covered")
@State
public class EndReadWakesWriterTest
{
    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

    /** Pins twice, writes through the pins, dropping them one after the other. */
    @Actor
    public void reader()
    {
        while (true)
        {
            // Both pins or none: holding one while waiting for the other would wait for a writer draining the first.
            if (mm.tryStartRead(region) == StartRead.PINNED)
            {
                if (mm.tryStartRead(region) == StartRead.PINNED)
                {
                    break;
                }
                mm.endRead(region);
            }
            Thread.onSpinWait(); // refused while the writer holds or drains the region; it waits for nobody then
        }
        region.a = 1;
        mm.endRead(region);
        region.b = 1;
        mm.endRead(region);
    }

    /**
     * Locks (waiting for the pins) and reads what they covered.
     *
     * @param r the result.
     */
    @Actor
    public void writer(final II_Result r)
    {
        mm.beginWrite();
        try
        {
            mm.writeLock(region);
            r.r1 = region.a;
            r.r2 = region.b;
        }
        finally
        {
            mm.endWrite();
        }
    }
}
