package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subscription guarantee under stress, on real mappings: subscriber threads cache page addresses (with the stamp
 * the map says each page holds) over random ranges, validated with readBegin/readRetry, and read through them
 * while a writer unmaps, maps, moves, shrinks, grows, protects and DONTNEEDs. Two ways of using a cached pointer:
 * under the subscriber's lock (which the listener also takes), and lock-free (read, then checkRetry). Either way a
 * read that the check accepts must find the cached stamp: a mismatch means a pointer was used for a range that
 * stopped being mapped as cached.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SubscriptionStressTest
{
    private static final long SECONDS = Long.getLong("regionmm.stress.seconds", 3);
    private static final int FILES = 4;
    private static final int FILE_PAGES = 64;
    private static final int WINDOW_PAGES = 1024;

    @TempDir
    Path dir;

    /** One subscriber's cache over one range: page address → (stamp, sequence it was validated under). */
    private static final class Cache
    {
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentHashMap<Long, long[]> entries = new ConcurrentHashMap<>();
        Subscription sub;
    }

    @Test
    void noValidatedPointerIsEverUsedAfterItsRangeChanged() throws Exception
    {
        final long seed = Long.getLong("regionmm.stress.seed", 14);
        try (AddressSpace space = AddressSpace.create(Kernel.system(), WINDOW_PAGES * PAGE))
        {
            final Map<FileHandle, Integer> ids = new HashMap<>();
            final FileHandle[] files = new FileHandle[FILES];
            for (int i = 0; i < FILES; i++)
            {
                files[i] = space.openFile(StampedFiles.create(dir, i + 1, FILE_PAGES), FileAccess.READ_WRITE);
                ids.put(files[i], i + 1);
            }
            final MemorySegment window = space.mm().window.segment;
            final long base = space.windowStart();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final LongAdder mismatches = new LongAdder();
            final LongAdder lockedUses = new LongAdder();
            final LongAdder freeUses = new LongAdder();
            final LongAdder retries = new LongAdder();
            final LongAdder invalidations = new LongAdder();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            final int subscribers = 2;
            final CountDownLatch done = new CountDownLatch(subscribers + 1);

            for (int t = 0; t < subscribers; t++)
            {
                final SplittableRandom rnd = new SplittableRandom(seed * 31 + t);
                final Cache[] caches = new Cache[4];
                for (int c = 0; c < caches.length; c++)
                {
                    final Cache cache = new Cache();
                    final long start = base + rnd.nextLong(WINDOW_PAGES - 64) * PAGE;
                    cache.sub = space.subscribe(start, (16 + rnd.nextLong(48)) * PAGE, (s, inv, seq) -> {
                        cache.lock.lock();
                        try
                        {
                            s.setSequence(seq);
                            // only the entries the invalidation covers go
                            cache.entries.keySet().removeIf(a -> a >= inv.start() && a < inv.end());
                            invalidations.increment();
                        }
                        finally
                        {
                            cache.lock.unlock();
                        }
                        return true;
                    });
                    caches[c] = cache;
                }
                Thread.ofPlatform().name("subscriber-" + t).start(() -> {
                    try
                    {
                        while (System.nanoTime() < deadline && failure.get() == null)
                        {
                            final Cache cache = caches[rnd.nextInt(caches.length)];
                            final Subscription sub = cache.sub;
                            final long page = sub.start() + rnd.nextLong((sub.end() - sub.start()) / PAGE) * PAGE;
                            final long[] e = cache.entries.get(page);
                            if (e == null)
                            {
                                // build: look the page up (a validated read), cache it if no invalidation came since
                                final long s = sub.readBegin();
                                final long expected;
                                try
                                {
                                    expected = space.readNoWait(page, (r, m, off) ->
                                        stamp(ids.get(r.file()), r.fileOffsetOf(r.start() + off) / PAGE), -1);
                                }
                                catch (final RegionArgumentException unmapped)
                                {
                                    continue; // nothing mapped there now: nothing to cache
                                }
                                if (expected == -1)
                                {
                                    continue; // busy: try another page
                                }
                                cache.lock.lock();
                                try
                                {
                                    if (sub.readRetry(s))
                                    {
                                        retries.increment();
                                        continue;
                                    }
                                    cache.entries.put(page, new long[] {expected, s});
                                }
                                finally
                                {
                                    cache.lock.unlock();
                                }
                            }
                            else if (rnd.nextBoolean())
                            {
                                // use under the lock: the listener cannot have run since the entry was checked
                                cache.lock.lock();
                                try
                                {
                                    if (cache.entries.get(page) == e)
                                    {
                                        lockedUses.increment();
                                        if (window.get(ValueLayout.JAVA_LONG, page - base) != e[0])
                                        {
                                            mismatches.increment();
                                        }
                                    }
                                }
                                finally
                                {
                                    cache.lock.unlock();
                                }
                            }
                            else
                            {
                                // use without the lock: read, then check that no invalidation had started
                                final long v = window.get(ValueLayout.JAVA_LONG, page - base);
                                VarHandle.acquireFence(); // the read above before the check below
                                if (!sub.checkRetry(e[1]))
                                {
                                    freeUses.increment();
                                    if (v != e[0])
                                    {
                                        mismatches.increment();
                                    }
                                }
                            }
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                    finally
                    {
                        done.countDown();
                    }
                });
            }

            final SplittableRandom wr = new SplittableRandom(seed);
            final long[] ops = new long[1];
            Thread.ofPlatform().name("writer").start(() -> {
                try
                {
                    while (System.nanoTime() < deadline && failure.get() == null)
                    {
                        writeOnce(space, files, wr);
                        ops[0]++;
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
                finally
                {
                    done.countDown();
                }
            });
            assertTrue(done.await(SECONDS + 60, TimeUnit.SECONDS), "threads finished");
            assertNull(failure.get(), () -> "seed " + seed + ": " + failure.get());
            space.verify();
            System.out.printf("subscription stress seed %d, %d s: writer ops %d, invalidations %d, locked uses %d, " +
                "lock-free uses %d, build retries %d%n", seed, SECONDS, ops[0], invalidations.sum(), lockedUses.sum(),
                freeUses.sum(), retries.sum());
            assertEquals(0, mismatches.sum(), "seed " + seed + ": a validated pointer read a changed range");
            assertTrue(invalidations.sum() > 0 && lockedUses.sum() > 0 && freeUses.sum() > 0,
                "the test exercised every path");
        }
    }

    /** One random write: keeps the window between a few and many regions, every kind of change. */
    private static void writeOnce(final AddressSpace space, final FileHandle[] files, final SplittableRandom r)
        throws MappingException
    {
        final List<Region> regions = space.regions();
        final long mapped = regions.stream().mapToLong(Region::length).sum() / PAGE;
        final int op = regions.size() < 6 ? 0 : mapped > WINDOW_PAGES / 4 ? 1 : r.nextInt(8);
        try
        {
            if (op == 0 || regions.isEmpty())
            {
                final long len = (1 + r.nextLong(16)) * PAGE;
                space.map(files[r.nextInt(files.length)], r.nextLong(FILE_PAGES - 16) * PAGE, len,
                    Protection.READ_WRITE, r.nextBoolean() ? Sharing.SHARED : Sharing.PRIVATE);
                return;
            }
            final Region g = regions.get(r.nextInt(regions.size()));
            final long pages = g.length() / PAGE;
            final long at = g.start() + r.nextLong(pages) * PAGE;
            final long len = (1 + r.nextLong(Math.max(1, (g.end() - at) / PAGE))) * PAGE;
            switch (op)
            {
                case 1, 2 -> space.unmap(at, len);
                case 3 -> space.remap(g.start(), (1 + r.nextLong(pages)) * PAGE, false); // shrink (or same)
                case 4 -> space.remap(g.start(), Math.min(g.length() + (1 + r.nextLong(8)) * PAGE,
                    FILE_PAGES * PAGE - g.fileOffset()), false); // grow in place or move
                case 5 -> space.protect(at, len, g.protection() == Protection.READ ? Protection.READ_WRITE :
                    Protection.READ);
                case 6 -> space.advise(at, len, Advice.DONTNEED);
                default -> space.map(files[r.nextInt(files.length)], r.nextLong(FILE_PAGES - 16) * PAGE,
                    (1 + r.nextLong(16)) * PAGE, Protection.READ, Sharing.SHARED);
            }
        }
        catch (final MappingException ex)
        {
            if (!ex.getMessage().contains("no free range"))
            {
                throw ex;
            }
        }
    }
}
