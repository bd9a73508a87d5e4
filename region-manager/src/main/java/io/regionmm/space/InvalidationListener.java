package io.regionmm.space;

/**
 * Told by a writer, before it changes memory in a subscribed range, to drop every pointer into that range (the
 * kernel's {@code mmu_interval_notifier_ops.invalidate}).
 *
 * <p>It runs on the writer's thread, inside its write section: it must not lease, read through a path that can
 * wait for the mm lock, begin a write, subscribe or close a subscription (each is refused with
 * {@link IllegalStateException}). It should take the lock under which its subscriber checks
 * {@link Subscription#readRetry}, record {@code sequence} there with {@link Subscription#setSequence}, drop the
 * pointers into {@code invalidation}'s range, and return.
 */
@FunctionalInterface
public interface InvalidationListener
{
    /**
     * @param subscription the subscription whose range the invalidation overlaps.
     * @param invalidation the changing range, why, and whether this call may block.
     * @param sequence     the sequence to record with {@link Subscription#setSequence}.
     * @return true when done; false only when {@code invalidation.mayBlock()} is false and finishing would block
     *         (the write then fails, nothing changed). A false return from a blocking call, or a throw, also fails
     *         the write, with nothing changed: the pointers may still be cached.
     */
    boolean invalidate(Subscription subscription, Invalidation invalidation, long sequence);
}
