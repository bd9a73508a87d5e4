package io.regionmm.space;

import io.regionmm.lock.RacePoint;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import static io.regionmm.space.StampedFiles.PAGE;

/**
 * What the regression tests of the trust fixes share: a space on a {@link HookedKernel} with two stamped files,
 * named single-thread lanes (a lease belongs to the thread that took it, so each actor is one thread), race point
 * hooks, and waits that are all bounded: a deadlock the fixes removed shows up as a failed wait, never a hung build.
 */
abstract class TrustFixture
{
    /** How long any wait for something that must happen may take before the test calls it a deadlock. */
    static final long BOUND_SECONDS = 10;
    static final RegionFunction LONG = (r, memory, offset) -> memory.get(ValueLayout.JAVA_LONG, offset);

    @TempDir
    Path dir;

    HookedKernel kernel;
    AddressSpace space;
    Path p1;
    Path p2;
    FileHandle f1;
    FileHandle f2;

    private final List<Lane> lanes = new CopyOnWriteArrayList<>();
    private final List<RacePoint.Hook> hooks = new CopyOnWriteArrayList<>();

    @BeforeEach
    void openSpace() throws Exception
    {
        kernel = new HookedKernel();
        space = AddressSpace.create(kernel, 256 * PAGE);
        p1 = StampedFiles.create(dir, 1, 16);
        p2 = StampedFiles.create(dir, 2, 16);
        f1 = space.openFile(p1, FileAccess.READ_WRITE);
        f2 = space.openFile(p2, FileAccess.READ_WRITE);
        RacePoint.install(p -> {
            for (final RacePoint.Hook h : hooks)
            {
                h.reached(p);
            }
        });
    }

    @AfterEach
    void closeSpace() throws Exception
    {
        RacePoint.install(null);
        for (final Lane lane : lanes)
        {
            lane.closePinsQuietly(); // lets writers that wait for them finish
        }
        try
        {
            if (!space.isClosed())
            {
                // Bounded: after a failure that left a thread stuck, this fails too instead of hanging.
                space.close(BOUND_SECONDS, TimeUnit.SECONDS);
            }
        }
        finally
        {
            lanes.forEach(l -> l.executor.shutdownNow());
        }
    }

    /** @return a new lane: one named daemon thread that runs what is submitted to it, in order. */
    Lane lane(final String name)
    {
        final Lane lane = new Lane(name);
        lanes.add(lane);
        return lane;
    }

    /** Calls {@code hook} at every race point reached (by any thread) until the test ends. */
    void onRacePoint(final RacePoint.Hook hook)
    {
        hooks.add(hook);
    }

    /** @return a latch opened when {@code writer} sets the writer flag on a region and starts draining its pins. */
    CountDownLatch drainingOn(final Lane writer)
    {
        final CountDownLatch latch = new CountDownLatch(1);
        onRacePoint(p -> {
            if (p == RacePoint.WRITER_WAITING_FOR_READERS && Thread.currentThread() == writer.thread)
            {
                latch.countDown();
            }
        });
        return latch;
    }

    static void await(final CountDownLatch latch, final String what) throws InterruptedException
    {
        if (!latch.await(BOUND_SECONDS, TimeUnit.SECONDS))
        {
            throw new AssertionError(what + " did not happen within " + BOUND_SECONDS + " s");
        }
    }

    /** Waits until {@code condition} holds; the wait is bounded, not the ordering mechanism. */
    static void awaitTrue(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError(what + " did not happen within " + BOUND_SECONDS + " s");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Waits until {@code f} is done or some thread queues on the mm lock (a reader that fell back to it). */
    void awaitDoneOrQueued(final Future<?> f, final String what)
    {
        awaitTrue(() -> f.isDone() || space.mm().lock.hasQueuedThreads(), what + " returned or queued on the mm lock");
    }

    /**
     * @return the result of {@code f}, which must come within the bound; a failure inside it is rethrown as is
     *         (errors and runtime exceptions), so assertions made on a lane fail the test with their own message.
     */
    static <T> T get(final Future<T> f, final String what) throws Exception
    {
        try
        {
            return f.get(BOUND_SECONDS, TimeUnit.SECONDS);
        }
        catch (final TimeoutException ex)
        {
            throw new AssertionError(what + " did not complete within " + BOUND_SECONDS + " s (a deadlock?)", ex);
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof Error e)
            {
                throw e;
            }
            if (ex.getCause() instanceof Exception e)
            {
                throw e;
            }
            throw ex;
        }
    }

    /** Either what a call returned or what it threw: for calls that may do either but must not hang. */
    record Outcome(Object value, Throwable thrown)
    {
        static Outcome of(final Callable<?> call)
        {
            try
            {
                return new Outcome(call.call(), null);
            }
            catch (final Throwable t)
            {
                return new Outcome(null, t);
            }
        }

        @Override
        public String toString()
        {
            return thrown == null ? "returned " + value : "threw " + thrown;
        }
    }

    /** One thread, and the leases it took (closed on it by {@link #closePins()}). */
    final class Lane
    {
        final String name;
        final ExecutorService executor;
        volatile Thread thread;
        private final List<PinOwner> pins = new ArrayList<>(); // touched on the lane's thread only

        Lane(final String name)
        {
            this.name = name;
            this.executor = Executors.newSingleThreadExecutor(r -> {
                final Thread t = new Thread(r, name);
                t.setDaemon(true); // a lane left stuck by a failed test must not keep the JVM alive
                thread = t;
                return t;
            });
            try
            {
                executor.submit(() -> null).get(); // start the thread now: tests compare threads with it
            }
            catch (final InterruptedException | ExecutionException ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        <T> Future<T> submit(final Callable<T> call)
        {
            return executor.submit(call);
        }

        <T> T call(final Callable<T> call) throws Exception
        {
            return get(submit(call), name);
        }

        /** Takes a lease on this lane's thread; it stays open until {@link #closePins()} (or the test's end). */
        Lease lease(final long address) throws Exception
        {
            return call(() -> {
                final Lease l = space.lease(address);
                pins.add(l);
                return l;
            });
        }

        RangeLease leaseRange(final long start, final long length) throws Exception
        {
            return call(() -> {
                final RangeLease l = space.leaseRange(start, length);
                pins.add(l);
                return l;
            });
        }

        /** Closes, on this lane's thread, every lease it took. */
        void closePins() throws Exception
        {
            call(() -> {
                for (int i = pins.size() - 1; i >= 0; i--)
                {
                    pins.get(i).close();
                }
                pins.clear();
                return null;
            });
        }

        private void closePinsQuietly()
        {
            try
            {
                closePins();
            }
            catch (final Throwable ignored)
            {
                // the lane is stuck (the test has failed already) or a lease was closed by the test itself
            }
        }
    }

    static long pages(final long n)
    {
        return n * PAGE;
    }
}
