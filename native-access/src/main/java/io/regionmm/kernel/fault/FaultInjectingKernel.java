package io.regionmm.kernel.fault;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.FileStat;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Syscall;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * A {@link Kernel} that forwards to another one, except where a rule says a call fails or waits. Injected
 * failures are built exactly as real ones ({@link KernelException#of}), so the code under test cannot tell them
 * apart; the call is then not forwarded, so the kernel's state is untouched, as with a real failure.
 *
 * <p>Rules are checked in the order they were added; the first failing rule wins. Calls are counted per system
 * call from 1 (or from the last {@link #resetCounters()}); {@link #failNth} refers to those counts. Random rules
 * draw from one generator seeded at construction, so a single-threaded run replays exactly from its seed.
 *
 * <p>{@link #startRecording()} / {@link #stopRecording()} keep every call made in between, in order (injected
 * failures included), so a test can first observe the calls an operation makes and then fail each in turn.
 *
 * <p>Thread-safe: rules may be added while other threads make calls.
 */
public final class FaultInjectingKernel implements Kernel
{
    private final Kernel delegate;
    private final long seed;
    private final SplittableRandom random;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final AtomicLongArray calls = new AtomicLongArray(Syscall.values().length);
    private final AtomicLongArray injected = new AtomicLongArray(Syscall.values().length);
    private final List<Call> recorded = new CopyOnWriteArrayList<>();
    private volatile boolean recording;

    /**
     * A call as the rules see it.
     *
     * @param syscall which call.
     * @param ordinal its count among calls of the same syscall, from 1.
     * @param path    the path of {@code open}, else null.
     * @param args    the numeric arguments in declaration order (see {@link Syscall}).
     */
    public record Call(Syscall syscall, long ordinal, String path, long[] args)
    {
        /**
         * @param index argument position.
         * @return that argument.
         */
        public long arg(final int index)
        {
            return args[index];
        }
    }

    private record Rule(Syscall syscall, Predicate<Call> when, Errno errno, CountDownLatch arrived,
        CountDownLatch release, boolean once, boolean[] spent)
    {
    }

    /**
     * @param delegate the kernel that does the real work, usually {@link Kernel#system()}.
     * @param seed     seed for {@link #failRandomly}.
     */
    public FaultInjectingKernel(final Kernel delegate, final long seed)
    {
        this.delegate = delegate;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /**
     * @return the seed random rules draw from.
     */
    public long seed()
    {
        return seed;
    }

    /**
     * The {@code n}th call of {@code syscall} (counted from 1) fails with {@code errno}.
     *
     * @param syscall the call.
     * @param n       its ordinal.
     * @param errno   the error it reports.
     * @return this.
     */
    public FaultInjectingKernel failNth(final Syscall syscall, final long n, final Errno errno)
    {
        return failWhen(syscall, c -> c.ordinal() == n, errno);
    }

    /**
     * Every call of {@code syscall} matching {@code when} fails with {@code errno}.
     *
     * @param syscall the call.
     * @param when    which calls fail.
     * @param errno   the error they report.
     * @return this.
     */
    public FaultInjectingKernel failWhen(final Syscall syscall, final Predicate<Call> when, final Errno errno)
    {
        rules.add(new Rule(syscall, when, errno, null, null, false, new boolean[1]));
        return this;
    }

    /**
     * Every call of {@code syscall} fails with {@code errno} with the given probability, drawn from the seeded
     * generator.
     *
     * @param syscall     the call.
     * @param probability between 0 and 1.
     * @param errno       the error.
     * @return this.
     */
    public FaultInjectingKernel failRandomly(final Syscall syscall, final double probability, final Errno errno)
    {
        if (!(probability >= 0 && probability <= 1))
        {
            throw new IllegalArgumentException("failRandomly: probability=" + probability + " is not in [0, 1]");
        }
        return failWhen(syscall, c -> draw() < probability, errno);
    }

    /**
     * The first call of {@code syscall} matching {@code when} counts down {@code arrived}, then waits (before
     * reaching the kernel) until {@code release} opens. Lets a test stop a thread exactly inside an operation.
     *
     * @param syscall the call.
     * @param when    which call pauses.
     * @param arrived counted down when the call arrives.
     * @param release awaited before the call proceeds.
     * @return this.
     */
    public FaultInjectingKernel pauseAt(final Syscall syscall, final Predicate<Call> when, final CountDownLatch arrived,
        final CountDownLatch release)
    {
        rules.add(new Rule(syscall, when, null, arrived, release, true, new boolean[1]));
        return this;
    }

    /**
     * Removes every rule; counters stay.
     */
    public void clearRules()
    {
        rules.clear();
    }

    /**
     * Starts keeping every call (a new, empty record).
     */
    public void startRecording()
    {
        recorded.clear();
        recording = true;
    }

    /**
     * Stops keeping calls.
     *
     * @return the calls made since {@link #startRecording()}, in order, injected failures included.
     */
    public List<Call> stopRecording()
    {
        recording = false;
        return List.copyOf(recorded);
    }

    /**
     * Sets every counter back to zero.
     */
    public void resetCounters()
    {
        for (int i = 0; i < calls.length(); i++)
        {
            calls.set(i, 0);
            injected.set(i, 0);
        }
    }

    /**
     * @param syscall a call.
     * @return how many times it was made (injected failures included).
     */
    public long calls(final Syscall syscall)
    {
        return calls.get(syscall.ordinal());
    }

    /**
     * @param syscall a call.
     * @return how many of its calls failed by injection.
     */
    public long injected(final Syscall syscall)
    {
        return injected.get(syscall.ordinal());
    }

    private synchronized double draw()
    {
        return random.nextDouble();
    }

    private void enter(final Syscall syscall, final String path, final long... args) throws KernelException
    {
        final long ordinal = calls.incrementAndGet(syscall.ordinal());
        if (rules.isEmpty() && !recording)
        {
            return;
        }
        final Call call = new Call(syscall, ordinal, path, args);
        if (recording)
        {
            recorded.add(call);
        }
        for (final Rule rule : rules)
        {
            if (rule.syscall() != syscall || !rule.when().test(call))
            {
                continue;
            }
            if (rule.release() != null)
            {
                pause(rule);
                continue;
            }
            injected.incrementAndGet(syscall.ordinal());
            throw KernelException.of(syscall, rule.errno().number(), syscall.describe(path, args));
        }
    }

    private static void pause(final Rule rule)
    {
        synchronized (rule.spent())
        {
            if (rule.once() && rule.spent()[0])
            {
                return;
            }
            rule.spent()[0] = true;
        }
        rule.arrived().countDown();
        try
        {
            rule.release().await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public int pageSize()
    {
        return delegate.pageSize();
    }

    @Override
    public long mmap(
        final long addr, final long length, final int prot, final int flags, final int fd, final long offset)
        throws KernelException
    {
        enter(Syscall.MMAP, null, addr, length, prot, flags, fd, offset);
        return delegate.mmap(addr, length, prot, flags, fd, offset);
    }

    @Override
    public void munmap(final long addr, final long length) throws KernelException
    {
        enter(Syscall.MUNMAP, null, addr, length);
        delegate.munmap(addr, length);
    }

    @Override
    public long mremap(final long oldAddr, final long oldSize, final long newSize, final int flags, final long newAddr)
        throws KernelException
    {
        enter(Syscall.MREMAP, null, oldAddr, oldSize, newSize, flags, newAddr);
        return delegate.mremap(oldAddr, oldSize, newSize, flags, newAddr);
    }

    @Override
    public void mprotect(final long addr, final long length, final int prot) throws KernelException
    {
        enter(Syscall.MPROTECT, null, addr, length, prot);
        delegate.mprotect(addr, length, prot);
    }

    @Override
    public void madvise(final long addr, final long length, final int advice) throws KernelException
    {
        enter(Syscall.MADVISE, null, addr, length, advice);
        delegate.madvise(addr, length, advice);
    }

    @Override
    public void msync(final long addr, final long length, final int flags) throws KernelException
    {
        enter(Syscall.MSYNC, null, addr, length, flags);
        delegate.msync(addr, length, flags);
    }

    @Override
    public void mlock(final long addr, final long length) throws KernelException
    {
        enter(Syscall.MLOCK, null, addr, length);
        delegate.mlock(addr, length);
    }

    @Override
    public void munlock(final long addr, final long length) throws KernelException
    {
        enter(Syscall.MUNLOCK, null, addr, length);
        delegate.munlock(addr, length);
    }

    @Override
    public int open(final String path, final int flags, final int mode) throws KernelException
    {
        enter(Syscall.OPEN, path, flags, mode);
        return delegate.open(path, flags, mode);
    }

    @Override
    public void close(final int fd) throws KernelException
    {
        enter(Syscall.CLOSE, null, fd);
        delegate.close(fd);
    }

    @Override
    public void ftruncate(final int fd, final long length) throws KernelException
    {
        enter(Syscall.FTRUNCATE, null, fd, length);
        delegate.ftruncate(fd, length);
    }

    @Override
    public void fallocate(final int fd, final int mode, final long offset, final long length) throws KernelException
    {
        enter(Syscall.FALLOCATE, null, fd, mode, offset, length);
        delegate.fallocate(fd, mode, offset, length);
    }

    @Override
    public FileStat fstat(final int fd) throws KernelException
    {
        enter(Syscall.FSTAT, null, fd);
        return delegate.fstat(fd);
    }

    @Override
    public void fsync(final int fd) throws KernelException
    {
        enter(Syscall.FSYNC, null, fd);
        delegate.fsync(fd);
    }

    @Override
    public void fdatasync(final int fd) throws KernelException
    {
        enter(Syscall.FDATASYNC, null, fd);
        delegate.fdatasync(fd);
    }
}
