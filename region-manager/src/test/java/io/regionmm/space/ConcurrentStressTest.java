package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.map.RegionMap;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readers on all three paths check the stamp of every page they read, validated together with the region that
 * says what should be there, while one writer maps, unmaps, splits, merges, remaps (grow, shrink, move) and
 * protects at full speed, some of it in sections that nest several one-shot calls. Zero mismatches and zero faults,
 * and the writer keeps making progress. Runs for {@code regionmm.stress.seconds} (3 by default; the {@code soak}
 * profile runs longer).
 */
@Timeout(value = 600, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConcurrentStressTest
{
    private static final int WINDOW_PAGES = 512;
    private static final int FILE_PAGES = 64;
    private static final int FILES = 3;
    private static final long SECONDS = Long.getLong("regionmm.stress.seconds", 3);

    @TempDir
    Path dir;

    private enum ReadPath
    {
        SPECULATIVE_OR_PINNED, LEASE, LOCKED,
        /** readLong: range speculation, checked against the map version that held for the whole read. */
        READ_LONG,
        /** read(address, dst) of 16 bytes from the last word of the page before: often across two regions. */
        BULK
    }

    @Test
    void readersNeverSeeAWrongPageWhileAWriterChangesTheMappings() throws Exception
    {
        final long seed = Long.getLong("regionmm.stress.seed", 42);
        try (AddressSpace space = AddressSpace.create(Kernel.system(), WINDOW_PAGES * PAGE))
        {
            final FileHandle[] files = new FileHandle[FILES + 1];
            for (int f = 1; f <= FILES; f++)
            {
                files[f] = space.openFile(StampedFiles.create(dir, f, FILE_PAGES), FileAccess.READ_WRITE);
            }
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final LongAdder[] reads = new LongAdder[ReadPath.values().length];
            java.util.Arrays.setAll(reads, i -> new LongAdder());
            final LongAdder mismatches = new LongAdder();
            final LongAdder writerOps = new LongAdder();
            final List<Thread> threads = new ArrayList<>();
            // Three readers (the speculative paths share one), so the writer keeps a fair share of two cores: with a
            // fourth reader it made a third of the changes.
            final ReadPath[][] perThread = {{ReadPath.SPECULATIVE_OR_PINNED, ReadPath.READ_LONG, ReadPath.BULK},
                {ReadPath.LEASE}, {ReadPath.LOCKED}};
            for (final ReadPath[] paths : perThread)
            {
                final SplittableRandom random = new SplittableRandom(seed + paths[0].ordinal());
                threads.add(new Thread(() -> {
                    try
                    {
                        while (!stop.get())
                        {
                            final ReadPath path = paths[random.nextInt(paths.length)];
                            if (read(space, path, random, mismatches))
                            {
                                reads[path.ordinal()].increment();
                            }
                        }
                    }
                    catch (final Throwable t)
                    {
                        failure.compareAndSet(null, t);
                    }
                }, "reader-" + java.util.Arrays.toString(paths)));
            }
            final SplittableRandom writerRandom = new SplittableRandom(seed);
            threads.add(new Thread(() -> {
                try
                {
                    while (!stop.get())
                    {
                        if (write(space, files, writerRandom))
                        {
                            writerOps.increment();
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }, "writer"));
            threads.forEach(Thread::start);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            while (System.nanoTime() < deadline && failure.get() == null)
            {
                Thread.onSpinWait();
                Thread.yield();
            }
            stop.set(true);
            for (final Thread t : threads)
            {
                t.join();
            }
            assertNull(failure.get(), () -> "seed " + seed + ": " + failure.get());
            assertEquals(0, mismatches.sum(), "seed " + seed + ": stamp mismatches");
            assertTrue(writerOps.sum() > 100, "the writer made progress: " + writerOps.sum());
            for (final ReadPath p : ReadPath.values())
            {
                assertTrue(reads[p.ordinal()].sum() > 100, p + " reads: " + reads[p.ordinal()].sum());
            }
            space.verify();
            System.out.printf("stress seed %d, %d s: writer ops %d, reads %s, counts %s%n", seed, SECONDS,
                writerOps.sum(), java.util.Arrays.toString(reads), space.readCounts());
        }
    }

    private static boolean read(final AddressSpace space, final ReadPath path, final SplittableRandom random,
        final LongAdder mismatches)
    {
        final List<Region> regions = space.mm().snapshot().regions();
        if (regions.isEmpty())
        {
            Thread.yield();
            return false;
        }
        final Region pick = regions.get(random.nextInt(regions.size()));
        final long address = pick.start() + random.nextLong(pick.length() / PAGE) * PAGE;
        final RegionFunction check = (region, memory, offset) ->
            memory.get(ValueLayout.JAVA_LONG, offset) ^ stamp(region.file().id(), region.fileOffsetOf(address) / PAGE);
        try
        {
            final long wrong = switch (path)
            {
                case SPECULATIVE_OR_PINNED -> space.read(address, check);
                case LOCKED -> space.readLocked(address, check);
                case READ_LONG ->
                {
                    final RegionMap before = space.mm().snapshot();
                    final long v = space.readLong(address + 8);
                    yield space.mm().snapshot() == before ? v ^ expected(before, address + 8) : 0;
                }
                case BULK ->
                {
                    final long[] words = new long[2];
                    final RegionMap before = space.mm().snapshot();
                    space.read(address - 8, MemorySegment.ofArray(words));
                    yield space.mm().snapshot() == before ?
                        (words[0] ^ expected(before, address - 8)) | (words[1] ^ expected(before, address)) : 0;
                }
                case LEASE ->
                {
                    try (Lease lease = space.lease(address))
                    {
                        final Region r = lease.region();
                        final long offset = address - r.start();
                        if (r.protection() == Protection.READ_WRITE)
                        {
                            // Writes through a pinned region never fault: it cannot become read-only meanwhile.
                            final MemorySegment w = lease.writableSegment();
                            w.set(ValueLayout.JAVA_LONG, offset + 16, Thread.currentThread().threadId());
                        }
                        yield check.apply(r, lease.segment(), offset);
                    }
                }
            };
            if (wrong != 0)
            {
                mismatches.increment();
            }
            return true;
        }
        catch (final RegionArgumentException unmappedMeanwhile)
        {
            return false;
        }
    }

    /**
     * @return the word a read at {@code a} must return when {@code map} held from before the read until after it (no
     *         write section published meanwhile, so a validated read saw this map's mapping). Reads whose map changed
     *         while they ran are not checked: which version they saw is not known. The unchecked window is not
     *         where a torn read would show: a writer changes memory before it publishes the map of the change.
     */
    private static long expected(final RegionMap map, final long a)
    {
        final Region r = map.find(a);
        if (r == null)
        {
            return 0x0BAD_0BAD_0BAD_0BADL; // the read should have been refused: counts as a mismatch
        }
        final long inFile = r.fileOffsetOf(a);
        return stamp(r.file().id(), inFile / PAGE) ^ (inFile % PAGE);
    }

    /**
     * One change in a section of its own, or (one time in four) a section holding two to four, made with the
     * space's one-shot methods, which join it: the sequence must stay the section's (odd) throughout, and the
     * readers must see none of the changes before the section closes releases them all at once.
     */
    private static boolean write(final AddressSpace space, final FileHandle[] files, final SplittableRandom random)
        throws MappingException
    {
        if (random.nextInt(4) != 0)
        {
            return writeOne(space, files, random);
        }
        boolean changed = false;
        try (WriteSection w = space.beginWrite())
        {
            for (int i = 2 + random.nextInt(3); i > 0; i--)
            {
                changed |= writeOne(space, files, random);
                if (space.mm().lock.sequence() != w.sequence() || !space.mm().lock.isWriteLockedByCurrentThread())
                {
                    throw new AssertionError("a one-shot call nested in section " + w.sequence() + " left the " +
                        "sequence at " + space.mm().lock.sequence());
                }
            }
        }
        return changed;
    }

    private static boolean writeOne(final AddressSpace space, final FileHandle[] files,
        final SplittableRandom random) throws MappingException
    {
        final long base = space.windowStart();
        final List<Region> regions = space.regions();
        final int kind = random.nextInt(100);
        try
        {
            if (kind < 25 || regions.size() < 3)
            {
                final int len = 1 + random.nextInt(12);
                final int f = 1 + random.nextInt(FILES);
                space.map(files[f], random.nextInt(FILE_PAGES - len + 1) * PAGE, len * PAGE,
                    random.nextBoolean() ? Protection.READ : Protection.READ_WRITE,
                    random.nextInt(3) == 0 ? Sharing.PRIVATE : Sharing.SHARED);
                return true;
            }
            final Region r = regions.get(random.nextInt(regions.size()));
            final long pages = r.length() / PAGE;
            if (kind < 40)
            {
                space.unmap(r.start() + random.nextLong(pages) * PAGE, (1 + random.nextInt(8)) * PAGE);
            }
            else if (kind < 52)
            {
                if (pages < 2)
                {
                    return false;
                }
                space.split(r.start() + (1 + random.nextLong(pages - 1)) * PAGE);
            }
            else if (kind < 62)
            {
                final int i = regions.indexOf(r);
                if (i + 1 >= regions.size() || regions.get(i + 1).start() != r.end() ||
                    !r.canMergeWith(regions.get(i + 1)))
                {
                    return false;
                }
                space.merge(r.start(), regions.get(i + 1).end() - r.start());
            }
            else if (kind < 82)
            {
                final long newPages = 1 + random.nextInt(20);
                if (r.fileOffset() / PAGE + newPages > FILE_PAGES)
                {
                    return false;
                }
                space.remap(r.start(), newPages * PAGE, false);
            }
            else
            {
                final long s = r.start() + random.nextLong(pages) * PAGE;
                final long len = Math.min(r.end() - s, (1 + random.nextInt(4)) * PAGE);
                space.protect(s, len, random.nextBoolean() ? Protection.READ : Protection.READ_WRITE);
            }
            return true;
        }
        catch (final RegionArgumentException refused)
        {
            return false; // a stale pick (the writer is the only writer, but regions() is a copy) or a bad range
        }
        catch (final MappingException full)
        {
            if (full.kernelCause() != null)
            {
                throw full;
            }
            space.unmap(base, WINDOW_PAGES * PAGE / 2); // no room: clear half the window
            return true;
        }
    }
}
