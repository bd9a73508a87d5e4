package io.regionmm.examples.regions;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.KernelCheck;
import io.regionmm.space.MapOptions;
import io.regionmm.space.ReadCounts;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * The guided tour: map, split, protect a middle range, merge back, grow in place, move, unmap; reader threads check
 * the stamp in every page they read the whole time; after each step the region table is printed beside the
 * kernel's VMAs for the window.
 */
final class Demo
{
    static final long PAGE = 4096;

    private final PrintStream out;
    private final int readers;
    private final long seed;

    Demo(final PrintStream out, final int readers, final long seed)
    {
        this.out = out;
        this.readers = readers;
        this.seed = seed;
    }

    static long stamp(final int fileId, final long page)
    {
        return 0x57A0_0000_0000_0000L | ((long)fileId << 32) | page;
    }

    static Path stampedFile(final Path dir, final int fileId, final int pages) throws IOException
    {
        final Path p = dir.resolve("data" + fileId + ".bin");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            final ByteBuffer buf = ByteBuffer.allocate((int)PAGE).order(ByteOrder.nativeOrder());
            for (int i = 0; i < pages; i++)
            {
                buf.clear();
                buf.putLong(0, stamp(fileId, i));
                ch.write(buf, i * PAGE);
            }
        }
        return p;
    }

    /**
     * @return 0 when every step agreed with the kernel and every read matched its stamp.
     */
    int run() throws IOException, InterruptedException
    {
        final Path dir = Files.createTempDirectory("regions-demo");
        final AtomicBoolean stop = new AtomicBoolean();
        final LongAdder reads = new LongAdder();
        final LongAdder mismatches = new LongAdder();
        final LongAdder errors = new LongAdder();
        int disagreements = 0;
        try (AddressSpace space = AddressSpace.create(io.regionmm.kernel.Kernel.system(), 256 * PAGE))
        {
            final FileHandle a = space.openFile(stampedFile(dir, 1, 64), FileAccess.READ_WRITE);
            final FileHandle b = space.openFile(stampedFile(dir, 2, 64), FileAccess.READ_WRITE);
            out.printf("window [%x, %x), %d pages; files %s, %s%n%n", space.windowStart(), space.windowEnd(),
                (space.windowEnd() - space.windowStart()) / PAGE, a, b);

            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < readers; t++)
            {
                final SplittableRandom random = new SplittableRandom(seed + t);
                final Thread th = new Thread(() -> readLoop(space, random, stop, reads, mismatches, errors),
                    "reader-" + t);
                th.setDaemon(true);
                th.start();
                threads.add(th);
            }

            final long r1 = space.map(a, 0, 16 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
            disagreements += step(space, "map data1.bin [0, 16 pages) READ_WRITE SHARED");
            space.map(b, 0, 8 * PAGE, Protection.READ, Sharing.PRIVATE, MapOptions.DEFAULT.at(r1 + 20 * PAGE));
            disagreements += step(space, "map data2.bin [0, 8 pages) READ PRIVATE at +20 pages");
            space.split(r1 + 8 * PAGE);
            disagreements += step(space, "split data1 at +8 pages (the kernel keeps one VMA; our map shows two)");
            space.protect(r1 + 4 * PAGE, 8 * PAGE, Protection.READ);
            disagreements += step(space,
                "protect pages 4..12 READ (splits; merges 4..8 with 8..12 as the kernel does)");
            space.protect(r1 + 4 * PAGE, 8 * PAGE, Protection.READ_WRITE);
            disagreements += step(space, "protect pages 4..12 back to READ_WRITE (merges back to one region)");
            space.merge(r1, 16 * PAGE);
            disagreements += step(space, "merge [0, 16 pages) (already one region: nothing to do)");
            space.remap(r1, 20 * PAGE, false);
            disagreements += step(space, "remap data1 to 20 pages: grows in place into the free range");
            final long moved = space.remap(r1, 32 * PAGE, false);
            disagreements += step(space, "remap data1 to 32 pages: data2 blocks it, so it moves to " +
                Long.toHexString(moved) + "; the old range becomes a tombstone");
            space.unmap(moved + 8 * PAGE, 8 * PAGE);
            disagreements += step(space, "unmap pages 8..16 of data1 (cuts it in two; tombstone in between)");

            stop.set(true);
            for (final Thread th : threads)
            {
                th.join();
            }
            final ReadCounts counts = space.readCounts();
            out.printf("reads validated: %d (speculative %d, fell back to a pin %d, to the mm lock %d); " +
                "speculation retries: %d%n", reads.sum(), reads.sum() - counts.pinned() - counts.locked(),
                counts.pinned(), counts.locked(), counts.retries());
            out.printf("stamp mismatches: %d, reader errors: %d, faults: 0 (the JVM is still here)%n",
                mismatches.sum(), errors.sum());
            out.printf("steps where the map and the kernel disagreed: %d%n", disagreements);
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return disagreements == 0 && mismatches.sum() == 0 && errors.sum() == 0 ? 0 : 1;
    }

    private int step(final AddressSpace space, final String what)
    {
        final KernelCheck.Report report = space.checkAgainstKernel();
        out.println("== " + what);
        for (final Region r : space.regions())
        {
            out.println("   region  " + r);
        }
        out.print(report.table().indent(3));
        out.println("   " + (report.agrees() ? "agrees with the kernel" : "DISAGREES with the kernel"));
        out.println();
        return report.agrees() ? 0 : 1;
    }

    private static void readLoop(final AddressSpace space, final SplittableRandom random, final AtomicBoolean stop,
        final LongAdder reads, final LongAdder mismatches, final LongAdder errors)
    {
        while (!stop.get())
        {
            final List<Region> regions = space.regions();
            if (regions.isEmpty())
            {
                Thread.onSpinWait();
                continue;
            }
            final Region pick = regions.get(random.nextInt(regions.size()));
            final long address = pick.start() + random.nextLong(pick.length() / PAGE) * PAGE;
            try
            {
                // Validated together: the value read and the region that says what should be there.
                final long wrong = space.read(address, (region, memory, offset) ->
                    memory.get(ValueLayout.JAVA_LONG, offset) ^
                    stamp(region.file().id(), region.fileOffsetOf(address) / PAGE));
                reads.increment();
                if (wrong != 0)
                {
                    mismatches.increment();
                }
            }
            catch (final IllegalArgumentException gone)
            {
                // the region was unmapped between our pick and the read: not an error
            }
            catch (final RuntimeException ex)
            {
                if (!space.isClosed())
                {
                    errors.increment();
                }
            }
        }
    }

}
