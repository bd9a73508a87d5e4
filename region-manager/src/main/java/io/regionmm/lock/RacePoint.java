package io.regionmm.lock;

/**
 * Named places inside the protocol where a test can pause a thread, to replay a race deterministically.
 *
 * <p>Off unless the JVM starts with {@code -Dregionmm.racePoints=true} (the test runs do): then each point reads a
 * static field. Off, the points are a constant-false branch that the JIT removes, so the read paths pay nothing.
 *
 * <p>Test-only: {@link #install} is public because the replay tests live in other packages (the space's tests,
 * protocol-ordering's jcstress tests on the class path), but it is no API. The package is not exported from the
 * module, so no module can name it, and without the property installing a hook fails, so a production JVM cannot
 * be made to stop at a point even from the class path.
 */
public enum RacePoint
{
    /** A reader passed the early lock-sequence check and is about to take a reference. */
    READER_BEFORE_INCREMENT,
    /** A reader took its reference and is about to re-check the lock sequence. */
    READER_AFTER_INCREMENT,
    /** A speculative reader copied its data and is about to validate the sequence. */
    SPECULATION_BEFORE_VALIDATE,
    /**
     * A speculative reader, validating, has read the lock state (the region's lock word, or the lock log's state)
     * and not yet what must be read after it (the log's entries, the sequence).
     */
    SPECULATION_MID_VALIDATION,
    /** A writer set the writer flag and is about to wait for readers to drain. */
    WRITER_WAITING_FOR_READERS,
    /** A writer began an invalidation that overlaps subscriptions (sequence odd) and has told no listener yet. */
    INVALIDATION_BEGUN,
    /** A writer told every listener of an invalidation and has not changed anything yet. */
    INVALIDATION_TOLD;

    /**
     * What a test installs to be called at each point.
     */
    @FunctionalInterface
    public interface Hook
    {
        /**
         * @param point the point the calling thread reached.
         */
        void reached(RacePoint point);
    }

    /** Whether points may be hooked at all: fixed at class initialisation, so the JIT folds it. */
    public static final boolean ENABLED = Boolean.getBoolean("regionmm.racePoints");

    private static volatile Hook hook;

    /**
     * Installs the hook; null removes it. Test-only (see the class comment): refused unless race points are on.
     *
     * @param h the hook.
     * @throws IllegalStateException when the JVM was started without {@code -Dregionmm.racePoints=true}.
     */
    public static void install(final Hook h)
    {
        if (!ENABLED && h != null)
        {
            throw new IllegalStateException("race points are off: start the JVM with -Dregionmm.racePoints=true");
        }
        hook = h;
    }

    /**
     * Called by the protocol at this point.
     */
    public void reach()
    {
        if (ENABLED)
        {
            final Hook h = hook;
            if (h != null)
            {
                h.reached(this);
            }
        }
    }
}
