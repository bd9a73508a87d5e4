package io.regionmm.bench;

import io.regionmm.region.Region;
import io.regionmm.view.Lease;
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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.concurrent.locks.StampedLock;

/**
 * Find the region of a random address and read 8 bytes there, over real mappings of 10 to 20 000 regions, against
 * baselines in the same run: a raw segment read (no lookup), and the usual Java ways to guard a sorted map.
 * Optionally a writer splits and merges regions the whole time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LookupBenchmark
{
    @Param({"10", "1000", "20000"})
    public int regions;

    /** Whether a writer thread splits and merges regions continuously. */
    @Param({"false"})
    public boolean writer;

    Fixture fx;
    final TreeMap<Long, Region> tree = new TreeMap<>();
    final ConcurrentSkipListMap<Long, Region> skipList = new ConcurrentSkipListMap<>();
    final StampedLock stamped = new StampedLock();
    final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    private Thread writerThread;
    private volatile boolean stop;

    /** Each thread walks the address list from its own cursor. */
    @State(Scope.Thread)
    public static class Cursor
    {
        int i;

        int next()
        {
            return i++ & (Fixture.ADDRESSES - 1);
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(regions);
        for (final Region r : fx.space.regions())
        {
            tree.put(r.start(), r);
            skipList.put(r.start(), r);
        }
        if (writer)
        {
            writerThread = new Thread(this::splitAndMerge, "writer");
            writerThread.setDaemon(true);
            writerThread.start();
        }
    }

    private void splitAndMerge()
    {
        long i = 0;
        while (!stop)
        {
            // Map two pages past the last region, split, merge, unmap; and (baselines) a structural change under
            // their own locks, so every reader pays for a concurrent writer.
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
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        stop = true;
        if (writerThread != null)
        {
            writerThread.join();
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
        return fx.space.snapshot().find(fx.addresses[c.next()]);
    }

    @Benchmark
    public Region mapFindBinarySearch(final Cursor c)
    {
        return fx.space.snapshot().findByBinarySearch(fx.addresses[c.next()]);
    }

    @Benchmark
    public long speculativeFindAndRead(final Cursor c)
    {
        return fx.space.readLong(fx.addresses[c.next()]);
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
                v = e != null && e.getValue().covers(address) ? fx.raw.get(ValueLayout.JAVA_LONG, address - fx.base) : 0;
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
