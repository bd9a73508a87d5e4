package io.regionmm.bench;

import io.regionmm.kernel.Mman;
import io.regionmm.region.Region;
import io.regionmm.space.Lease;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.concurrent.locks.StampedLock;

/**
 * Find the region of a random address and read 8 bytes there, over real mappings of 10 to 20 000 regions, against
 * baselines in the same run: a raw segment read (no lookup), and the usual Java ways to guard a sorted map.
 * Optionally a writer changes the map the whole time ({@code writer=regions}: map, split, merge, unmap, back to
 * back), or, as the control, makes the same system calls on a mapping of its own without touching the space
 * ({@code writer=syscalls}): what is left between the two is what our writer costs our readers, apart from what
 * any busy second thread costs on this machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LookupBenchmark
{
    @Param({"10", "1000", "20000"})
    public int regions;

    /**
     * none, syscalls (the control: the same system calls outside the space), regions (changes the space), sections
     * (empty write sections: the floor of any seqlock writer), or held
     * (a write section held open for the whole trial, which locked one region no reader reads: readers take the
     * paths that run while a writer works, and nothing else changes, so no line moves between cores).
     */
    @Param({"none"})
    public String writer;

    /**
     * Writer rounds per second to aim for (0: back to back, as fast as the writer goes). A database remaps far less
     * often than a writer that does nothing else; this shows how what readers keep depends on the writer's rate.
     */
    @Param({"0"})
    public long writerRate;

    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int COUNT_STRIDE = 16; // one 64-byte line per region, as a region object has its own

    Fixture fx;
    int[] counts;
    final TreeMap<Long, Region> tree = new TreeMap<>();
    final ConcurrentSkipListMap<Long, Region> skipList = new ConcurrentSkipListMap<>();
    final StampedLock stamped = new StampedLock();
    final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private Thread writerThread;
    private volatile boolean stop;
    // Writer rounds (four write sections each for writer=regions), read after join: the rate readers are up against.
    private long writerRounds;
    private long writerStartNanos;

    /** Each thread walks the address list from its own cursor. */
    @State(Scope.Thread)
    public static class Cursor
    {
        int i;
        final java.lang.foreign.MemorySegment line = java.lang.foreign.MemorySegment.ofArray(new long[8]);

        int next()
        {
            return i++ & (Fixture.ADDRESSES - 1);
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(regions);
        counts = new int[regions * COUNT_STRIDE];
        for (final Region r : fx.space.regions())
        {
            tree.put(r.start(), r);
            skipList.put(r.start(), r);
        }
        if (!writer.equals("none"))
        {
            final Runnable loop = switch (writer)
            {
                case "regions" -> this::splitAndMerge;
                case "syscalls" -> this::sameSystemCalls;
                case "held" -> this::holdASection;
                case "sections" -> this::emptySections;
                default -> throw new IllegalArgumentException("writer=" + writer +
                    ": none, syscalls, regions, sections or held");
            };
            writerThread = new Thread(loop, "writer");
            writerThread.setDaemon(true);
            writerStartNanos = System.nanoTime();
            writerThread.start();
        }
    }

    private void splitAndMerge()
    {
        long i = 0;
        while (!stop)
        {
            // Map two pages past the last region, split, merge, unmap; then the baselines' own change.
            final long at = fx.base + (regions + 2 + (i++ & 7)) * Fixture.PAGE;
            try
            {
                fx.space.map(fx.file, 0, 2 * Fixture.PAGE, io.regionmm.region.Protection.READ,
                    io.regionmm.region.Sharing.SHARED, io.regionmm.space.MapOptions.DEFAULT.at(at));
                fx.space.split(at + Fixture.PAGE);
                fx.space.merge(at, 2 * Fixture.PAGE);
                fx.space.unmap(at, 2 * Fixture.PAGE);
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
            baselineWrites(at);
            endRound();
        }
    }

    /**
     * Write sections with nothing in them, back to back (or paced): the sequence count's cache line moving twice per
     * section is all any seqlock writer makes its readers pay; one round is four sections, as in splitAndMerge.
     */
    private void emptySections()
    {
        while (!stop)
        {
            for (int i = 0; i < 4; i++)
            {
                fx.space.beginWrite().close();
            }
            endRound();
        }
    }

    /**
     * Counts a finished writer round and waits, when a rate is set, until the next one is due. Spins, never parks: a
     * parked writer woken by a timer may be run on the reader's core for a moment (two cores here), which would charge
     * the scheduler to the protocol.
     */
    private void endRound()
    {
        writerRounds++;
        if (writerRate == 0)
        {
            return;
        }
        final long due = writerStartNanos + (long)(writerRounds * (1e9 / writerRate));
        while (System.nanoTime() < due)
        {
            Thread.onSpinWait();
        }
    }

    private void holdASection()
    {
        try
        {
            final long far = fx.base + (regions + 4) * Fixture.PAGE;
            fx.space.map(fx.file, 0, Fixture.PAGE, io.regionmm.region.Protection.READ,
                io.regionmm.region.Sharing.SHARED, io.regionmm.space.MapOptions.DEFAULT.at(far));
            try (var w = fx.space.beginWrite())
            {
                w.protect(far, Fixture.PAGE, io.regionmm.region.Protection.READ_WRITE); // locks (and logs) it
                while (!stop)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * The system calls splitAndMerge makes (fstat and MAP_FIXED for the map, a tombstone for the unmap; split and
     * merge make none), on a reservation of its own: the control for a second busy thread.
     */
    private void sameSystemCalls()
    {
        final io.regionmm.kernel.Kernel k = io.regionmm.kernel.Kernel.system();
        final int tombstone = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE;
        try
        {
            final long at = k.mmap(0, 2 * Fixture.PAGE, Mman.PROT_READ, tombstone, -1, 0);
            long i = 0;
            while (!stop)
            {
                k.fstat(fx.fd);
                k.mmap(at, 2 * Fixture.PAGE, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd, 0);
                k.mmap(at, 2 * Fixture.PAGE, Mman.PROT_READ, tombstone | Mman.MAP_FIXED, -1, 0);
                baselineWrites(fx.base + (regions + 2 + (i++ & 7)) * Fixture.PAGE);
                endRound();
            }
            k.munmap(at, 2 * Fixture.PAGE);
        }
        catch (final io.regionmm.kernel.KernelException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** A structural change under each baseline's own lock, so every baseline reader pays for a concurrent writer. */
    private void baselineWrites(final long at)
    {
        final long s = stamped.writeLock();
        tree.put(at, fx.regionAt(0));
        tree.remove(at);
        stamped.unlockWrite(s);
        rw.writeLock().lock();
        tree.put(at + 1, fx.regionAt(0));
        tree.remove(at + 1);
        rw.writeLock().unlock();
        skipList.put(at, fx.regionAt(0));
        skipList.remove(at);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        // How often reads left their fast path during the trial: a diagnostic printed with the results.
        System.out.println("regionmm read counts (writer=" + writer + ", regions=" + regions + "): " +
            fx.space.readCounts());
        stop = true;
        if (writerThread != null)
        {
            writerThread.join();
            final double seconds = (System.nanoTime() - writerStartNanos) / 1e9;
            System.out.printf("writer=%s, regions=%d: %.0f rounds/s over the trial%n", writer, regions,
                writerRounds / seconds);
        }
        fx.close();
    }

    @Benchmark
    public long rawSegmentRead(final Cursor c)
    {
        return fx.raw.get(ValueLayout.JAVA_LONG, fx.addresses[c.next()] - fx.base);
    }

    @Benchmark
    public Region mapFindPageIndex(final Cursor c)
    {
        return fx.map.find(fx.addresses[c.next()]);
    }

    @Benchmark
    public Region mapFindBinarySearch(final Cursor c)
    {
        return MapStructureBenchmark.findByBinarySearch(fx.map, fx.addresses[c.next()]);
    }

    @Benchmark
    public long speculativeFindAndRead(final Cursor c)
    {
        return fx.space.readLong(fx.addresses[c.next()]);
    }

    /** A bulk read: the 64-byte line around the address, copied into the caller's buffer. */
    @Benchmark
    public long bulkRead64(final Cursor c)
    {
        fx.space.read(fx.addresses[c.next()] & ~63L, c.line);
        return c.line.get(ValueLayout.JAVA_LONG, 0);
    }

    /** The baseline of {@link #bulkRead64}: the same copy from the raw mapping, no lookup. */
    @Benchmark
    public long bulkRawCopy64(final Cursor c)
    {
        java.lang.foreign.MemorySegment.copy(fx.raw, (fx.addresses[c.next()] & ~63L) - fx.base, c.line, 0, 64);
        return c.line.get(ValueLayout.JAVA_LONG, 0);
    }

    @Benchmark
    public long leaseFindReadClose(final Cursor c)
    {
        final long address = fx.addresses[c.next()];
        try (Lease lease = fx.space.lease(address))
        {
            return lease.getLong(address - lease.region().start());
        }
    }

    /**
     * The floor of any pin made of a per-region reference count, which the lease protocol prescribes: an acquire CAS
     * up and a release decrement of a word on the region's own cache line, around the same raw read. No lookup, no
     * validation: what is left between this and the lease is the protocol's own cost.
     */
    @Benchmark
    public long refcountPinFloor(final Cursor c)
    {
        final long address = fx.addresses[c.next()];
        final int slot = (int)((address - fx.base) / Fixture.PAGE) * COUNT_STRIDE;
        int n;
        do
        {
            n = (int)COUNT.getOpaque(counts, slot);
        }
        while (!COUNT.weakCompareAndSetAcquire(counts, slot, n, n + 1));
        final long v = fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base);
        COUNT.getAndAddRelease(counts, slot, -1);
        return v;
    }

    @Benchmark
    public long stampedLockTreeMap(final Cursor c)
    {
        final long address = fx.addresses[c.next()];
        long s = stamped.tryOptimisticRead();
        Map.Entry<Long, Region> e = tree.floorEntry(address);
        long v = e != null && e.getValue().covers(address) ? fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base) : 0;
        if (!stamped.validate(s))
        {
            s = stamped.readLock();
            try
            {
                e = tree.floorEntry(address);
                v = e != null && e.getValue().covers(address) ?
                    fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base) : 0;
            }
            finally
            {
                stamped.unlockRead(s);
            }
        }
        return v;
    }

    @Benchmark
    public long readWriteLockTreeMap(final Cursor c)
    {
        final long address = fx.addresses[c.next()];
        rw.readLock().lock();
        try
        {
            final Map.Entry<Long, Region> e = tree.floorEntry(address);
            return e != null && e.getValue().covers(address) ? fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base) : 0;
        }
        finally
        {
            rw.readLock().unlock();
        }
    }

    @Benchmark
    public long concurrentSkipListMap(final Cursor c)
    {
        final long address = fx.addresses[c.next()];
        final Map.Entry<Long, Region> e = skipList.floorEntry(address);
        return e != null && e.getValue().covers(address) ? fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base) : 0;
    }
}
