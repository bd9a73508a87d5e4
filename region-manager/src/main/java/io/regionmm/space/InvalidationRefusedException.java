package io.regionmm.space;

/**
 * A write failed because a subscription's listener did not finish its invalidation: it answered "would block" to
 * a non-blocking write section, or returned false or threw in a blocking one. The invalidation comes before the
 * write changes anything, so nothing changed: the region map, the kernel's mappings and the files are as before.
 * Listeners that were already told may have dropped pointers; their subscribers retry, as after any invalidation.
 */
public final class InvalidationRefusedException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final transient Subscription subscription;

    InvalidationRefusedException(final String operation, final Subscription subscription, final String why,
        final Throwable cause)
    {
        super(operation + ": the listener of " + subscription + " " + why + "; nothing changed", cause);
        this.operation = operation;
        this.subscription = subscription;
    }

    /** @return the write operation that failed. */
    public String operation()
    {
        return operation;
    }

    /** @return the subscription whose listener refused (null after deserialization). */
    public Subscription subscription()
    {
        return subscription;
    }
}
