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
 * The pin / re-check race of the kernel's vm_refcnt thread (seed 004): a reader's {@code tryStartRead} against a
 * writer's {@code writeLock} and change of the region's memory.
 *
 * <p>The region is born in section 1, so the state starts at sequence 2; the writer's section is 3 and ends at 4.
 * The reader pins, reads the region's two words (second first, so its two loads straddle the writer's two stores
 * more often), reads the sequence, stores a mark into the region (a pin lets a reader write its region, as a lease
 * does) and unpins. The writer write-locks the region, reads the mark, changes both words, ends its section. Its
 * drain waits for pins, which is why the reader unpins on every path.
 *
 * <p>Result: r1 the reader's outcome (1 PINNED, 0 WRITE_LOCKED, 2 DETACHED); r2, r3 the words it read while
 * pinned; r4 the sequence it read after them; r5 the mark the writer read after locking. A bug shows as:
 * <ul>
 * <li>pinned, and saw the writer's change (or half of it) with the section still open (sequence 3): the reader
 *     pinned a region the writer had locked. This is the seed-004 race: the re-check loads performed before the
 *     increment, so both checks passed while the writer, not seeing the increment, went ahead;</li>
 * <li>pinned, read the old words, and the writer did not see the mark: the writer did not wait for the pin, or the
 *     reader's accesses were not ordered before the writer's (endRead's release, excludeReaders' acquire);</li>
 * <li>pinned after the section ended (sequence 4) but read old or torn words: the re-check's acquire of the
 *     sequence did not bring the section's changes with it (closeSection's release);</li>
 * <li>DETACHED: nothing detaches this region.</li>
 * </ul>
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
public class PinRecheckTest
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
