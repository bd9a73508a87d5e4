package io.regionmm.guard;

/**
 * The liveness check every view of a lease makes before it touches the lease's memory: "am I on the thread that
 * holds the lease, and is the lease still open?" in one comparison.
 *
 * <p>{@code accessor} is the lease's owner thread while the lease is open and null once it closes; the owner is the
 * only thread that ever writes it (the lease closes on its owner). So the owner sees its own write, and any other
 * thread sees either the owner or null, never itself: a plain field is enough, and no other thread can pass the
 * check even through a data race. That confinement is also what makes the check sound at all: a view that another
 * thread could pass might be between its check and its access when the owner closes the lease and a writer remaps
 * the range (a read of whatever is mapped then, or a write that kills the JVM).
 *
 * <p>Cost: a load of the current thread (a register and one load on HotSpot), a load of this field and a compare,
 * per access; in a loop the JIT hoists both loads, since nothing in the loop can write the field.
 */
public final class LeaseGuard
{
    private final Thread owner;
    private final java.util.function.Supplier<String> description;
    private Thread accessor;

    /**
     * @param owner       the thread that took the lease (the only one that may use its views).
     * @param description what the lease pins, for messages, e.g. {@code lease on Region[...]}; asked only when a
     *                    message needs it (building it for every view cost 6x the lease itself).
     */
    public LeaseGuard(final Thread owner, final java.util.function.Supplier<String> description)
    {
        this.owner = owner;
        this.description = description;
        this.accessor = owner;
    }

    /**
     * @param op the access about to be made, for the message.
     * @throws IllegalStateException when the lease is closed.
     * @throws WrongThreadException  when called by another thread than the lease's owner.
     */
    public void check(final String op)
    {
        if (Thread.currentThread() != accessor)
        {
            throw refused(op);
        }
    }

    /** @return true until the lease closes (on the owner thread; another thread may see it late). */
    public boolean isOpen()
    {
        return accessor != null;
    }

    /** Kills every view built on this guard; called by the lease on its owner, before its pins are dropped. */
    public void kill()
    {
        accessor = null;
    }

    /** @return what the lease pins, for messages. */
    public String description()
    {
        return description.get();
    }

    private RuntimeException refused(final String op)
    {
        final Thread me = Thread.currentThread();
        if (me != owner)
        {
            return new WrongThreadException(op + ": a view of the " + description() + " is used by thread " +
                me.getName() + ", but the lease and its views belong to thread " + owner.getName());
        }
        return new IllegalStateException(op + ": the " + description() + " is closed, and its views with it");
    }
}
