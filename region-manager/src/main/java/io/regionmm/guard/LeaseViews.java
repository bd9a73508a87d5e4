package io.regionmm.guard;

/**
 * How the view packages reach into a lease without the lease's package exporting anything for them: the space
 * package installs the one implementation (when its lease classes initialize), the view packages call it. This
 * package is not exported, so code outside the module can neither call nor replace it.
 */
public abstract class LeaseViews
{
    private static volatile LeaseViews installed;

    /**
     * @param views the implementation; called once, by the space package.
     * @throws IllegalStateException when one is installed already (on the class path, where this package is not
     *                               encapsulated, nothing else may swap the lease's checks for its own).
     */
    public static synchronized void install(final LeaseViews views)
    {
        if (installed != null)
        {
            throw new IllegalStateException("LeaseViews.install: installed already");
        }
        installed = views;
    }

    /** @return the implementation (installed before any lease exists, so before any view can be asked for). */
    public static LeaseViews get()
    {
        return installed;
    }

    /**
     * Opens a guarded stretch of a lease's memory: checked on the lease's owner thread, registered with the lease so
     * that its guard dies when the lease closes, before the pins are dropped.
     *
     * @param lease    a {@code Lease} or {@code RangeLease}.
     * @param op       the caller's operation, for messages.
     * @param offset   from the lease's first byte.
     * @param length   bytes.
     * @param writable true to require that every region under it is READ_WRITE.
     * @return the stretch.
     */
    public abstract LeasedMemory open(Object lease, String op, long offset, long length, boolean writable);

    /**
     * @param lease a {@code Lease} or {@code RangeLease}.
     * @param op    the caller's operation, for messages.
     * @return its length in bytes (the region's, or the range's).
     */
    public abstract long length(Object lease, String op);
}
