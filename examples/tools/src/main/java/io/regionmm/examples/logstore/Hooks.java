package io.regionmm.examples.logstore;

/**
 * Named places in the store's write path where a crash test stops the process, to kill it at a precise point
 * instead of at a random time. Test-only and off by default: nothing is installed, and each point costs a
 * volatile read and a null check. Package-private, so only the store's own package ({@link CrashChild}) can
 * install a hook.
 */
final class Hooks
{
    /** The points, in the order a write meets them. */
    enum Point
    {
        /** A record's body and checksum are written, its length (which makes a scan take it) is not. */
        RECORD_TORN,
        /** The active segment is about to grow: neither its file nor its region is longer yet. */
        GROW_BEFORE,
        /** The active segment grew (file and region); the record that needed the room is not written yet. */
        GROW_AFTER,
        /** A new segment file was created and mapped; nothing is written in it yet. */
        ROLLOVER,
        /** Compaction read a batch of live records without the writer lock; it appends their copies next. */
        COMPACT_READ,
        /** Compaction appended one more copy of a live record (not synced yet). */
        COMPACT_COPIED,
        /** Compaction made its copies durable and has deleted no sealed segment yet. */
        COMPACT_SYNCED,
        /** Compaction unmapped and deleted one more sealed segment. */
        COMPACT_DELETED
    }

    /** What a test installs. */
    @FunctionalInterface
    interface Hook
    {
        /**
         * @param point the point the writer reached (it holds the writer lock).
         */
        void reached(Point point);
    }

    private static volatile Hook hook;

    private Hooks()
    {
    }

    /**
     * @param h the hook; null removes it.
     */
    static void install(final Hook h)
    {
        hook = h;
    }

    static void reach(final Point point)
    {
        final Hook h = hook;
        if (h != null)
        {
            h.reached(point);
        }
    }
}
