package io.regionmm.examples.logstore;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * {@code logstore}: the log-structured store's load driver.
 */
@Command(name = "logstore", mixinStandardHelpOptions = true, subcommands = LogStoreMain.Bench.class,
    description = "A small log-structured key-value store on regionmm.")
public final class LogStoreMain implements Runnable
{
    /**
     * The command, for picocli: its options are filled in by the command line.
     */
    public LogStoreMain()
    {
    }

    @Override
    public void run()
    {
        new CommandLine(this).usage(System.out);
    }

    /**
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        System.exit(new CommandLine(new LogStoreMain()).execute(args));
    }

    @Command(name = "bench", description = "Writers put, readers get and check values, compaction runs; a live " +
        "progress line, then a summary.")
    static final class Bench implements Callable<Integer>
    {
        @Option(names = "--writers", defaultValue = "1")
        int writers;
        @Option(names = "--readers", defaultValue = "2")
        int readers;
        @Option(names = "--keys", defaultValue = "50000")
        int keys;
        @Option(names = "--value-size", defaultValue = "100")
        int valueSize;
        @Option(names = "--duration", defaultValue = "30", description = "seconds (default ${DEFAULT-VALUE})")
        int seconds;
        @Option(names = "--compact-every", defaultValue = "5", description = "seconds between compactions")
        int compactEvery;
        @Option(names = "--commit-every", defaultValue = "1000", description = "puts per writer between commits")
        int commitEvery;
        @Option(names = "--puts-per-second", defaultValue = "0",
            description = "each writer's pace (0: as fast as it goes; a read-mostly store puts far less)")
        long putsPerSecond;
        @Option(names = "--segment-size", defaultValue = "8388608")
        long segmentSize;
        @Option(names = "--dir", description = "store folder (default: a temporary one, deleted after)")
        Path dir;

        @Override
        public Integer call() throws Exception
        {
            final PrintStream out = System.out;
            final boolean temporary = dir == null;
            final Path folder = temporary ? Files.createTempDirectory("logstore-bench") : dir;
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Recorder putLatency = new Recorder(3);
            final Recorder getLatency = new Recorder(3);
            final Histogram putDuringCompaction = new Histogram(3); // writer-0's puts that overlap a compaction
            // Every reader alternates get (the pointer cache) and getUncached, op by op, each into its own pair of
            // histograms: the two paths share threads, keys and load, so scheduling cannot favour one.
            final Histogram[] cachedGetsOf = new Histogram[readers];
            final Histogram[] uncachedGetsOf = new Histogram[readers];
            final AtomicBoolean compacting = new AtomicBoolean();
            final LongAdder puts = new LongAdder();
            final LongAdder gets = new LongAdder();
            final LongAdder wrong = new LongAdder();
            final Histogram putTotal = new Histogram(3);
            final Histogram getTotal = new Histogram(3);
            try (LogStore store = LogStore.open(folder, new LogStore.Options(segmentSize, 1L << 20)))
            {
                for (int k = 0; k < keys; k++)
                {
                    store.put("key" + k, value(k, 0, valueSize)); // every key present before anyone reads
                }
                store.commit();
                final List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < writers; w++)
                {
                    final int id = w;
                    threads.add(new Thread(() -> {
                        final SplittableRandom random = new SplittableRandom(id);
                        final long paceStart = System.nanoTime();
                        long n = 0;
                        try
                        {
                            while (!stop.get())
                            {
                                final int k = random.nextInt(keys);
                                if (putsPerSecond > 0)
                                {
                                    // paced: wait for this put's slot (a bench, not a test: parking is the point)
                                    final long slot = paceStart + n * 1_000_000_000L / putsPerSecond;
                                    final long ahead = slot - System.nanoTime();
                                    if (ahead > 0)
                                    {
                                        java.util.concurrent.locks.LockSupport.parkNanos(ahead);
                                    }
                                }
                                final long t0 = System.nanoTime();
                                final boolean during = compacting.get();
                                store.put("key" + k, value(k, random.nextInt(1 << 20), valueSize));
                                final long took = System.nanoTime() - t0;
                                putLatency.recordValue(took);
                                if (id == 0 && (during || compacting.get()))
                                {
                                    putDuringCompaction.recordValue(took); // one writer: no lock needed
                                }
                                puts.increment();
                                if (++n % commitEvery == 0)
                                {
                                    store.commit();
                                }
                            }
                        }
                        catch (final Throwable t)
                        {
                            failure.compareAndSet(null, t);
                        }
                    }, "writer-" + w));
                }
                for (int r = 0; r < readers; r++)
                {
                    final int id = r;
                    threads.add(new Thread(() -> {
                        final SplittableRandom random = new SplittableRandom(1000 + id);
                        final Histogram cachedMine = new Histogram(3);
                        final Histogram uncachedMine = new Histogram(3);
                        cachedGetsOf[id] = cachedMine;
                        uncachedGetsOf[id] = uncachedMine;
                        boolean cached = false;
                        try
                        {
                            while (!stop.get())
                            {
                                final int k = random.nextInt(keys);
                                final long t0 = System.nanoTime();
                                cached = !cached;
                                final byte[] v = cached ? store.get("key" + k) : store.getUncached("key" + k);
                                final long took = System.nanoTime() - t0;
                                getLatency.recordValue(took);
                                (cached ? cachedMine : uncachedMine).recordValue(took);
                                gets.increment();
                                if (v != null && !valid(k, v, valueSize))
                                {
                                    wrong.increment();
                                }
                            }
                        }
                        catch (final Throwable t)
                        {
                            failure.compareAndSet(null, t);
                        }
                    }, "reader-" + r));
                }
                final long start = System.nanoTime();
                // Compaction on its own thread, every compactEvery seconds: the puts beside it are what is measured.
                threads.add(new Thread(() -> {
                    long next = start + compactEvery * 1_000_000_000L;
                    try
                    {
                        while (compactEvery > 0 && !stop.get())
                        {
                            final long now = System.nanoTime();
                            if (now < next)
                            {
                                Thread.sleep(Math.max(1, Math.min(100, (next - now) / 1_000_000)));
                                continue;
                            }
                            compacting.set(true);
                            try
                            {
                                store.compact();
                            }
                            finally
                            {
                                compacting.set(false);
                            }
                            next = System.nanoTime() + compactEvery * 1_000_000_000L;
                        }
                    }
                    catch (final Throwable t)
                    {
                        failure.compareAndSet(null, t);
                    }
                }, "compactor"));
                threads.forEach(Thread::start);
                Histogram putInterval = null;
                Histogram getInterval = null;
                long lastPuts = 0;
                long lastGets = 0;
                for (int second = 1; second <= seconds && failure.get() == null; second++)
                {
                    final long until = start + second * 1_000_000_000L;
                    while (System.nanoTime() < until)
                    {
                        Thread.sleep(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                    }
                    putInterval = putLatency.getIntervalHistogram(putInterval);
                    getInterval = getLatency.getIntervalHistogram(getInterval);
                    putTotal.add(putInterval);
                    getTotal.add(getInterval);
                    final long p = puts.sum();
                    final long g = gets.sum();
                    out.printf("%3ds  put %,9d/s p50 %6.1fus p99 %7.1fus | get %,10d/s p50 %6.1fus p99 %7.1fus | " +
                        "keys %,d segments %d compactions %d%n", second, p - lastPuts,
                        putInterval.getValueAtPercentile(50) / 1e3, putInterval.getValueAtPercentile(99) / 1e3,
                        g - lastGets, getInterval.getValueAtPercentile(50) / 1e3,
                        getInterval.getValueAtPercentile(99) / 1e3, store.size(), store.segmentCount(),
                        store.compactions());
                    lastPuts = p;
                    lastGets = g;
                }
                stop.set(true);
                for (final Thread t : threads)
                {
                    t.join();
                }
                final double secs = (System.nanoTime() - start) / 1e9;
                out.printf("%nsummary: %.1f s, %d writer(s), %d reader(s), %,d keys, %d-byte values%n", secs, writers,
                    readers, keys, valueSize);
                out.printf("  puts %,d (%,.0f/s)  p50 %.1fus p99 %.1fus p99.9 %.1fus max %.1fus%n", puts.sum(),
                    puts.sum() / secs, putTotal.getValueAtPercentile(50) / 1e3,
                    putTotal.getValueAtPercentile(99) / 1e3, putTotal.getValueAtPercentile(99.9) / 1e3,
                    putTotal.getMaxValue() / 1e3);
                out.printf("  gets %,d (%,.0f/s)  p50 %.1fus p99 %.1fus p99.9 %.1fus max %.1fus%n", gets.sum(),
                    gets.sum() / secs, getTotal.getValueAtPercentile(50) / 1e3,
                    getTotal.getValueAtPercentile(99) / 1e3, getTotal.getValueAtPercentile(99.9) / 1e3,
                    getTotal.getMaxValue() / 1e3);
                out.printf("  puts during compactions (writer 0): %,d  p50 %.1fus p99 %.1fus p99.9 %.1fus max %.1fus%n",
                    putDuringCompaction.getTotalCount(), putDuringCompaction.getValueAtPercentile(50) / 1e3,
                    putDuringCompaction.getValueAtPercentile(99) / 1e3,
                    putDuringCompaction.getValueAtPercentile(99.9) / 1e3, putDuringCompaction.getMaxValue() / 1e3);
                final Histogram cachedGets = new Histogram(3);
                final Histogram uncachedGets = new Histogram(3);
                for (int r = 0; r < readers; r++)
                {
                    cachedGets.add(cachedGetsOf[r]);
                    uncachedGets.add(uncachedGetsOf[r]);
                }
                printGets(out, "cached   (get)        ", cachedGets, secs);
                printGets(out, "uncached (getUncached)", uncachedGets, secs);
                if (cachedGets.getTotalCount() > 0 && uncachedGets.getTotalCount() > 0)
                {
                    out.printf("  cached/uncached: p50 %.2fx, mean %.2fx (same run, same threads, alternating)%n",
                        cachedGets.getValueAtPercentile(50) / (double)uncachedGets.getValueAtPercentile(50),
                        cachedGets.getMean() / uncachedGets.getMean());
                }
                out.printf("  compactions %d, segments %d, read retries %,d, cached gets %,d, invalidations %,d, " +
                    "wrong values %d, %s%n", store.compactions(), store.segmentCount(), store.readRetries(),
                    store.cachedGets(), store.invalidations(), wrong.sum(), store.space().readCounts());
            }
            finally
            {
                if (temporary)
                {
                    try (Stream<Path> files = Files.walk(folder))
                    {
                        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            }
            if (failure.get() != null)
            {
                System.out.println("FAILED: " + failure.get());
                failure.get().printStackTrace(System.out);
                return 1;
            }
            return wrong.sum() == 0 ? 0 : 1;
        }
    }

    private static void printGets(final PrintStream out, final String what, final Histogram h, final double secs)
    {
        out.printf("  gets %s %,d (%,.0f/s)  p50 %.2fus p99 %.2fus mean %.3fus%n", what, h.getTotalCount(),
            h.getTotalCount() / secs, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
            h.getMean() / 1e3);
    }

    /** A value that names its key, so a reader can tell it got the right one. */
    static byte[] value(final int key, final int version, final int size)
    {
        final byte[] v = new byte[Math.max(12, size)];
        final String head = key + ":" + version + ":";
        final byte[] h = head.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, v, 0, Math.min(h.length, v.length));
        for (int i = h.length; i < v.length; i++)
        {
            v[i] = (byte)(key + i);
        }
        return v;
    }

    static boolean valid(final int key, final byte[] v, final int size)
    {
        if (v.length != Math.max(12, size))
        {
            return false;
        }
        final String s = new String(v, 0, Math.min(v.length, 24), java.nio.charset.StandardCharsets.US_ASCII);
        if (!s.startsWith(key + ":"))
        {
            return false;
        }
        final int h = s.indexOf(':', s.indexOf(':') + 1) + 1;
        for (int i = h; i < v.length; i++)
        {
            if (v[i] != (byte)(key + i))
            {
                return false;
            }
        }
        return true;
    }
}
