package io.regionmm.ordering.window;

import io.regionmm.lock.RacePoint;

/**
 * Stretches the windows of the window tests: the writer's steps take as long as the system calls they stand for,
 * the reader's copy takes as long as a bulk copy, and every reader is held inside its validation, at
 * {@link RacePoint#SPECULATION_MID_VALIDATION}, long enough for a writer to end a section and start the next.
 * The lengths are in nanoseconds. A reader that begins while the writer is before its lock (0 to 1 us into the
 * section) copies the second word at once and the first 1.5 us later, inside the change (1 to 3 us), validates
 * while the section is still open, and is held past its end and the next section's lock (about 3.5 us).
 */
final class Stall
{
    /** What a writer does in its section before it locks the region (another system call). */
    static final long BEFORE_LOCK_NS = 1_000;
    /** Between the writer's two stores: the change itself (an munmap, a madvise). */
    static final long CHANGE_NS = 2_000;
    /** Between the reader's two loads: a copy of more than a few bytes. */
    static final long COPY_NS = 1_500;
    /** A reader held between the lock state and the rest of its validation. */
    static final long MID_VALIDATION_NS = 4_000;

    private Stall()
    {
    }

    /**
     * Installs the hold at {@link RacePoint#SPECULATION_MID_VALIDATION} for this JVM (a window test's fork only:
     * the ordering tests run without race points, as production does).
     *
     * @throws IllegalStateException when the fork was started without {@code -Dregionmm.racePoints=true}.
     */
    static void install()
    {
        RacePoint.install(p ->
        {
            if (p == RacePoint.SPECULATION_MID_VALIDATION)
            {
                spin(MID_VALIDATION_NS);
            }
        });
    }

    /**
     * Busy-waits, without parking (a parked thread would leave the other actor's CPU idle too, on two cores).
     *
     * @param ns how long.
     */
    static void spin(final long ns)
    {
        final long until = System.nanoTime() + ns;
        while (System.nanoTime() < until)
        {
            Thread.onSpinWait();
        }
    }
}
