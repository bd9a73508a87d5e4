package io.regionmm.space;

import io.regionmm.lock.MmLock;
import io.regionmm.region.FileHandle;

import java.util.concurrent.TimeUnit;

/**
 * How a writer gets into a space: a new write section (the mm lock, exclusively), or the section its thread already
 * has open. Sections do not nest; a one-shot write ({@code space.map(...)}) on a thread with an open section joins
 * it, so its changes are released with the rest of that section (a second section would make the mm sequence even
 * while the first is still open).
 */
final class WriterGate
{
    /** A one-shot write operation: run in this thread's open section, or in one of its own. */
    @FunctionalInterface
    interface SectionCall<T>
    {
        T run(WriteSection w) throws MappingException;
    }

    /** A one-shot write operation with no result. */
    @FunctionalInterface
    interface SectionRun
    {
        void run(WriteSection w) throws MappingException;
    }

    private final Mm mm;
    private final MmLock lock;
    private final Rollback rollback;
    // The open section, set and cleared by its thread under the write lock, so read only by that thread (the one
    // that sees the lock held by itself).
    private WriteSection section;

    WriterGate(final Mm mm)
    {
        this.mm = mm;
        this.lock = mm.lock;
        this.rollback = new Rollback(mm);
    }

    WriteSection begin()
    {
        mm.subscribers.refuseInListener("beginWrite");
        mm.checkWritable("beginWrite");
        return opened("beginWrite", lock.beginWrite(), 0, true);
    }

    WriteSection begin(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        mm.subscribers.refuseInListener("beginWrite");
        mm.checkWritable("beginWrite");
        final long s = lock.tryBeginWrite(timeout, unit);
        if (s == 0)
        {
            throw new RegionBusyException("beginWrite", "another thread held the mm lock for " +
                unit.toNanos(timeout) + " ns");
        }
        return opened("beginWrite", s, unit.toNanos(timeout), true);
    }

    /**
     * A section that never waits (the kernel's {@code _nonblock} invalidation): the mm lock only if free now, no
     * region lock that would wait for a lease, and listeners told they may not block.
     */
    WriteSection beginNonBlocking()
    {
        final String op = "beginWriteNonBlocking";
        mm.subscribers.refuseInListener(op);
        mm.checkWritable(op);
        final long s;
        try
        {
            s = lock.tryBeginWrite(0, TimeUnit.NANOSECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new RegionBusyException(op, "interrupted before it could take the mm lock");
        }
        if (s == 0)
        {
            throw new RegionBusyException(op, "another thread holds the mm lock");
        }
        return opened(op, s, 0, false);
    }

    private WriteSection opened(final String op, final long s, final long timeoutNs, final boolean mayBlock)
    {
        refuseIfNotWritable(op);
        section = new WriteSection(mm, rollback, s, timeoutNs, mayBlock, this::ended);
        return section;
    }

    /** Called by the section as it ends, still holding the write lock. */
    private void ended(final WriteSection w)
    {
        if (section == w)
        {
            section = null;
        }
    }

    <T> T oneShot(final String op, final SectionCall<T> call) throws MappingException
    {
        mm.subscribers.refuseInListener(op);
        final WriteSection open = lock.isWriteLockedByCurrentThread() ? section : null;
        if (open != null)
        {
            return call.run(open); // joins: released with the rest of that section when it closes
        }
        mm.checkWritable(op); // a closed or poisoned space refuses naming the operation, not beginWrite
        try (WriteSection w = begin())
        {
            return call.run(w);
        }
    }

    void run(final String op, final SectionRun call) throws MappingException
    {
        oneShot(op, w -> {
            call.run(w);
            return null;
        });
    }

    /** For operations that make no system call (split, merge): no MappingException can come. */
    void runUnchecked(final String op, final SectionRun call)
    {
        try
        {
            run(op, call);
        }
        catch (final MappingException ex)
        {
            throw new IllegalStateException(op + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Takes the write lock for a change that is not a section's (the file table), joining this thread's open
     * section if there is one.
     *
     * @return true when the caller must release it ({@link #exit}).
     */
    boolean enter(final String op)
    {
        mm.subscribers.refuseInListener(op);
        if (lock.isWriteLockedByCurrentThread())
        {
            return false;
        }
        lock.beginWrite();
        refuseIfNotWritable(op);
        return true;
    }

    /** With the write lock just taken: closed or poisoned meanwhile, release it and refuse. */
    private void refuseIfNotWritable(final String op)
    {
        try
        {
            mm.checkWritable(op);
        }
        catch (final IllegalStateException ex)
        {
            lock.endWrite();
            throw ex;
        }
    }

    /** Releases a file under the write lock (or this thread's section): no section can be using its descriptor. */
    void releaseFile(final FileHandle file)
    {
        mm.checkWritable("releaseFile");
        final boolean opened = enter("releaseFile");
        try
        {
            mm.files.release("releaseFile", file);
        }
        finally
        {
            exit(opened);
        }
    }

    void exit(final boolean entered)
    {
        if (entered)
        {
            lock.endWrite();
        }
    }
}
