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
 * <p>The state holds two pins on the region (taken before the actors run, as by readers that found it earlier).
 * The reader actor writes word a through them, drops one pin, writes word b, drops the other. The writer
 * write-locks the region, which waits until both pins are gone, then reads both words.
 *
 * <p>Result: the words the writer read after locking. A bug shows as anything but {@code 1, 1}:
 * <ul>
 * <li>{@code 1, 0} or {@code 0, 0}: the writer went ahead while a pin was still held (it took the first endRead for
 *     the last, or did not wait at all);</li>
 * <li>{@code 0, 1}: the writer saw the drain but not the store made before it (endRead without release, or the
 *     writer's check of the count without acquire).</li>
 * </ul>
 * A lost wake-up is not an outcome: the waiting writer parks at most 200 us at a time (BackoffIdleStrategy), so it
 * only slows the test; an unbounded park would show as a jcstress timeout, which fails the run too.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the writer went on after the last pin, seeing what it covered")
@Outcome(expect = FORBIDDEN, desc = "the writer went on while a pin was held, or without what the pins covered")
@State
public class EndReadWakesWriterTest
{
    private final MmLock mm = new MmLock();
    private final Region region = Region.born(mm, 0, 1)[0];

    /** Takes the two pins the reader actor will drop. */
    public EndReadWakesWriterTest()
    {
        for (int i = 0; i < 2; i++)
        {
            if (mm.tryStartRead(region) != StartRead.PINNED)
            {
                throw new IllegalStateException("a fresh region refused a pin");
            }
        }
    }

    /** Writes through the pins, dropping them one after the other. */
    @Actor
    public void reader()
    {
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
