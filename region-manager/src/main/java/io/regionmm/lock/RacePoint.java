package io.regionmm.lock;

/**
 * Named places inside the protocol where a test can pause a thread, to replay a race deterministically.
 * Off by default: each point costs one read of a static field that is null.
 */
public enum RacePoint
{
    /** A reader passed the early lock-sequence check and is about to take a reference. */
    READER_BEFORE_INCREMENT,
    /** A reader took its reference and is about to re-check the lock sequence. */
    READER_AFTER_INCREMENT,
    /** A speculative reader copied its data and is about to validate the sequence. */
    SPECULATION_BEFORE_VALIDATE,
    /** A writer set the writer flag and is about to wait for readers to drain. */
    WRITER_WAITING_FOR_READERS;

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

    private static volatile Hook hook;

    /**
     * Installs the hook (tests only); null removes it.
     *
     * @param h the hook.
     */
    public static void install(final Hook h)
    {
        hook = h;
    }

    /**
     * Called by the protocol at this point.
     */
    public void reach()
    {
        final Hook h = hook;
        if (h != null)
        {
            h.reached(this);
        }
    }
}
