package io.regionmm.space;

import io.regionmm.guard.LeaseGuard;
import io.regionmm.guard.LeaseViews;
import io.regionmm.guard.LeasedMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a lease and a range lease share: the thread that took the pins (only it may drop them: the pins are counted
 * per thread, and the writable view belongs to an arena confined to it), an atomic, idempotent close, and leak
 * detection.
 *
 * <p>Leak detection: a lease that becomes unreachable while still open is reported through SLF4J (WARN) with the
 * region and the thread, and with where it was taken when that was recorded. Its pin is not dropped: a writable
 * segment of it may still be reachable, and a write through it into a region that a writer then made read-only
 * would kill the JVM; so the report is what tells why writers of the region wait. Which leases are watched is set
 * by {@code -Dregionmm.leaseTracking}: {@code off} (the default), {@code sample} (one lease in {@value #SAMPLE_EVERY},
 * with where it was taken) or {@code all} (every lease, with where it was taken: for tests and debugging). Off by
 * default because watching is not free even when no lease is picked (it costs a lease several times its own price:
 * examples/benchmarks/RESULTS.md). Without tracking, {@code close(timeout)} still names the pinned regions.
 */
abstract class PinOwner implements AutoCloseable
{
    static final int SAMPLE_EVERY = 4096;
    // Leak reports log under the public name users know (a range lease's too), without importing a subclass.
    private static final Logger LOG = LoggerFactory.getLogger("io.regionmm.space.Lease");
    private static final Mode MODE = Mode.of(System.getProperty("regionmm.leaseTracking", "off"));
    private static final Cleaner CLEANER = MODE == Mode.OFF ? null : Cleaner.create();

    static
    {
        // The view packages (io.regionmm.view, .view.chronicle) open their guarded memory through this; installed
        // here because no view can be asked for before a lease exists, and a lease initializes this class first.
        LeaseViews.install(new ViewOpener());
    }

    private enum Mode
    {
        OFF, SAMPLE, ALL;

        static Mode of(final String value)
        {
            return switch (value)
            {
                case "sample" -> SAMPLE;
                case "all" -> ALL;
                default -> OFF;
            };
        }
    }

    private final Thread owner = Thread.currentThread();
    private Arena writeArena; // the writable views' arena: confined to the owner, closed before the pins go
    private List<LeaseGuard> viewGuards; // the Agrona and Chronicle views' guards: killed before the pins go
    private Watch watch;
    private boolean closed; // read and written by the owner only

    /** Called at the end of a subclass's constructor, when {@link #describe()} works. */
    final void watchForLeaks()
    {
        if (MODE == Mode.ALL || MODE == Mode.SAMPLE && ThreadLocalRandom.current().nextInt(SAMPLE_EVERY) == 0)
        {
            watch = new Watch(owner.getName(), describe(), new Throwable("the lease was taken here"));
            watch.cleanable = CLEANER.register(this, watch);
        }
    }

    /**
     * @return [address, address + size) writable, valid until the lease closes and only on its owner's thread: a
     *         write through a stale view into a range that has since become read-only would kill the JVM.
     */
    final MemorySegment writableView(final long address, final long size)
    {
        if (writeArena == null)
        {
            writeArena = Arena.ofConfined();
        }
        return MemorySegment.ofAddress(address).reinterpret(size, writeArena, null);
    }

    /**
     * Opens a guarded stretch of the leased memory for a view (Agrona, Chronicle): its guard dies with the lease.
     *
     * @throws RegionArgumentException when the stretch is not inside the leased memory.
     * @throws IllegalStateException   when the lease is closed, or {@code writable} and a region is read-only.
     * @throws WrongThreadException    when called by another thread than the lease's owner.
     */
    final LeasedMemory openView(final String op, final long offset, final long length, final boolean writable)
    {
        checkOwner(op);
        checkOpen();
        if (offset < 0 || length < 0 || offset > viewLength() - length)
        {
            throw new RegionArgumentException(op, "[" + offset + ", +" + length + ") is outside the " + describe() +
                " (" + viewLength() + " bytes)");
        }
        if (writable)
        {
            checkWritable(op);
        }
        final LeaseGuard guard = new LeaseGuard(owner, this::describe);
        if (viewGuards == null)
        {
            viewGuards = new ArrayList<>(2);
        }
        viewGuards.add(guard);
        return new LeasedMemory(viewAddress() + offset, length, writable, guard);
    }

    /** @return the first byte of the leased memory (the region's, or the range's). */
    abstract long viewAddress();

    /** @return how many bytes are leased. */
    abstract long viewLength();

    /** @throws IllegalStateException naming {@code op} and the region when a leased region is not READ_WRITE. */
    abstract void checkWritable(String op);

    /**
     * Kills the writable segments and every view's guard; called by release(), on the owner thread, before the pins
     * are dropped: once a pin is gone a writer may make the range read-only, and a write through a view would kill
     * the JVM.
     */
    final void closeWritableViews()
    {
        if (writeArena != null)
        {
            writeArena.close(); // confined to us, the owner: cannot fail here
        }
        if (viewGuards != null)
        {
            for (final LeaseGuard g : viewGuards)
            {
                g.kill();
            }
        }
    }

    /** @return what the pins are on, for messages (called on leak reports too: must not need the lease). */
    abstract String describe();

    /** Drops the pins and kills the writable view; called once, on the owner thread. */
    abstract void release();

    /** @return true once closed. */
    public final boolean isClosed()
    {
        return closed;
    }

    final void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException(describe() + " is closed");
        }
    }

    /** For a view that only the owner may create (its arena is confined to the owner). */
    final void checkOwner(final String op)
    {
        if (Thread.currentThread() != owner)
        {
            throw new WrongThreadException(op + ": " + describe() + " belongs to thread " + owner.getName() +
                ", not " + Thread.currentThread().getName());
        }
    }

    /**
     * Drops the pin(s) and kills the writable segment. Idempotent. Only the thread that took the lease may close it:
     * from any other thread this throws {@link WrongThreadException} and changes nothing (the lease stays open and
     * its owner's close still works).
     */
    @Override
    public final void close()
    {
        checkOwner("close");
        if (closed)
        {
            return;
        }
        if (watch == null)
        {
            release();
        }
        else
        {
            release();
            watch.closed = true;
            watch.cleanable.clean(); // unregisters; the action sees closed and stays quiet
        }
        closed = true; // last: if release() threw, the lease is still open and close can be called again
    }

    /** The leak report's state: must not refer to the lease, or the lease would never become unreachable. */
    private static final class Watch implements Runnable
    {
        private final String thread;
        private final String description;
        private final Throwable site;
        private volatile boolean closed;
        private Cleaner.Cleanable cleanable;

        Watch(final String thread, final String description, final Throwable site)
        {
            this.thread = thread;
            this.description = description;
            this.site = site;
        }

        @Override
        public void run()
        {
            if (!closed)
            {
                LOG.warn("{} taken by thread {} became unreachable without close(): its pin stays, so writers of " +
                    "its region(s) will wait for it; close leases with try-with-resources", description, thread, site);
            }
        }
    }
}
