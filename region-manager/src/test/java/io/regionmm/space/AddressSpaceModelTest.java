package io.regionmm.space;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Syscall;
import io.regionmm.kernel.fault.FaultInjectingKernel;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random sequences of every write operation, each step checked against a plain page-by-page reference
 * model, against the kernel (/proc/self/maps) and against the bytes of the files. A failure names the seed and
 * the step; {@code -Dregionmm.model.seeds=S1,S2} replays chosen seeds and {@code -Dregionmm.model.steps=N} sets
 * the length.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AddressSpaceModelTest
{
    private static final int WINDOW_PAGES = 384;
    private static final int FILE_PAGES = 64;
    private static final int FILES = 3;
    private static final int STEPS = Integer.getInteger("regionmm.model.steps", 1500);

    @TempDir
    Path dir;

    /** The operation being executed, for the failure message. */
    private String doing = "";
    /** Pages a lock or protect works on: if it fails midway, the kernel may already have copied some of them. */
    private int populateFrom;
    private int populateTo;

    static LongStream seeds()
    {
        final String chosen = System.getProperty("regionmm.model.seeds");
        if (chosen != null)
        {
            return java.util.Arrays.stream(chosen.split(",")).mapToLong(Long::parseLong);
        }
        return LongStream.of(1, 2, 3, 20261127);
    }

    /** What the model says one page of the window holds; null entries are tombstones. */
    private record Page(int file, long filePage, Protection prot, Sharing sharing, Advice advice, boolean locked)
    {
        Page next(final int n)
        {
            return new Page(file, filePage + n, prot, sharing, advice, locked);
        }
    }

    private final class Model
    {
        final Page[] pages = new Page[WINDOW_PAGES];
        final Long[] privateValue = new Long[WINDOW_PAGES];          // value at +8 written privately, per page
        final Map<Long, Long> sharedValue = new HashMap<>();         // (file, page) -> value at +8 written shared

        long fileValue(final int file, final long filePage)
        {
            return sharedValue.getOrDefault(key(file, filePage), stamp(file, filePage) ^ 8);
        }

        int lowestGap(final int length)
        {
            int run = 0;
            for (int p = 0; p < WINDOW_PAGES; p++)
            {
                run = pages[p] == null ? run + 1 : 0;
                if (run == length)
                {
                    return p - length + 1;
                }
            }
            return -1;
        }

        boolean free(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                if (p >= WINDOW_PAGES || pages[p] != null)
                {
                    return false;
                }
            }
            return true;
        }

        boolean covered(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                if (pages[p] == null)
                {
                    return false;
                }
            }
            return true;
        }

        /**
         * The kernel populates locked, private, writable pages with write faults (to break COW up front), so from
         * then on they are private copies of what the file held at that moment.
         */
        void breakCopyOnWriteIfLockedPrivateWritable(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                final Page q = pages[p];
                if (q != null && q.locked() && q.sharing() == Sharing.PRIVATE && q.prot() == Protection.READ_WRITE &&
                    privateValue[p] == null && !maybeCopied[p])
                {
                    privateValue[p] = fileValue(q.file(), q.filePage());
                }
            }
        }

        final boolean[] maybeCopied = new boolean[WINDOW_PAGES];

        void markMaybeCopied(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                final Page q = pages[p];
                if (q != null && q.sharing() == Sharing.PRIVATE && privateValue[p] == null)
                {
                    maybeCopied[p] = true; // its value at +8 is no longer known until it is rewritten or dropped
                }
            }
        }

        boolean anyLocked(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                if (pages[p] != null && pages[p].locked())
                {
                    return true;
                }
            }
            return false;
        }

        void clear(final int from, final int to)
        {
            for (int p = from; p < to; p++)
            {
                pages[p] = null;
                privateValue[p] = null;
                maybeCopied[p] = false;
            }
        }
    }

    private static long key(final int file, final long page)
    {
        return ((long)file << 32) | page;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomOperationsAgreeWithTheModelTheKernelAndTheFiles(final long seed) throws Exception
    {
        run(seed, false);
    }

    /**
     * The same sequences with one system call failing in about a third of the steps: every failed operation must
     * leave the map, the kernel's mappings and the files exactly as the model (which did not change) says.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aFailingSystemCallLeavesEverythingAsItWas(final long seed) throws Exception
    {
        run(seed, true);
    }

    private static final Syscall[] INJECTABLE = {Syscall.MMAP, Syscall.MREMAP, Syscall.MPROTECT, Syscall.MADVISE,
        Syscall.MLOCK, Syscall.MUNLOCK, Syscall.FALLOCATE, Syscall.MSYNC};

    private void run(final long seed, final boolean faults) throws Exception
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final SplittableRandom faultRandom = new SplittableRandom(~seed);
        final Path[] paths = new Path[FILES + 1];
        final FaultInjectingKernel kernel = new FaultInjectingKernel(Kernel.system(), seed);
        int failedSteps = 0;
        try (AddressSpace space = AddressSpace.create(kernel, WINDOW_PAGES * PAGE))
        {
            final FileHandle[] files = new FileHandle[FILES + 1];
            for (int f = 1; f <= FILES; f++)
            {
                paths[f] = StampedFiles.create(dir, f, FILE_PAGES);
                files[f] = space.openFile(paths[f], FileAccess.READ_WRITE);
            }
            final Model model = new Model();
            final long base = space.windowStart();
            String op = "";
            for (int step = 0; step < STEPS; step++)
            {
                try
                {
                    doing = "";
                    if (faults && faultRandom.nextInt(3) == 0)
                    {
                        final Syscall victim = INJECTABLE[faultRandom.nextInt(INJECTABLE.length)];
                        kernel.failNth(victim, kernel.calls(victim) + 1 + faultRandom.nextInt(3), Errno.ENOMEM);
                    }
                    try
                    {
                        op = step(space, model, files, random, base);
                    }
                    catch (final MappingException injected)
                    {
                        if (!faults || injected.kernelCause() == null)
                        {
                            throw injected;
                        }
                        failedSteps++;
                        op = doing + " (failed: " + injected.errnoName() + ")";
                        if (doing.startsWith("protect") || doing.startsWith("lock"))
                        {
                            // Pieces done before the failure were populated (the kernel breaks copy-on-write of
                            // locked private writable pages) and undoing the attribute cannot undo the copy: the
                            // bytes are the same, but such a page may no longer follow later writes to the file.
                            model.markMaybeCopied(populateFrom, populateTo);
                        }
                    }
                    kernel.clearRules();
                    check(space, model, base, paths, faults || step % 50 == 0);
                }
                catch (final Throwable t)
                {
                    fail("seed " + seed + " fails at step " + step + " (" + (doing.isEmpty() ? "after " + op : doing) +
                        "); replay with " +
                        "-Dregionmm.model.seeds=" + seed + " -Dregionmm.model.steps=" + (step + 1) + "\n" +
                        space.checkAgainstKernel().table(), t);
                }
            }
        }
        if (faults && failedSteps == 0)
        {
            fail("seed " + seed + ": no injected failure hit an operation; the test proved nothing");
        }
    }

    private String step(final AddressSpace space, final Model m, final FileHandle[] files,
        final SplittableRandom random, final long base) throws Exception
    {
        final List<Region> regions = space.regions();
        final int kind = random.nextInt(100);
        if (kind < 22 || regions.isEmpty())
        {
            final int f = 1 + random.nextInt(FILES);
            final int len = 1 + random.nextInt(16);
            final int off = random.nextInt(FILE_PAGES - len + 1);
            final Protection prot = random.nextBoolean() ? Protection.READ : Protection.READ_WRITE;
            final Sharing sharing = random.nextInt(3) == 0 ? Sharing.PRIVATE : Sharing.SHARED;
            final boolean fixed = random.nextInt(3) == 0;
            final int at = fixed ? random.nextInt(WINDOW_PAGES) : m.lowestGap(len);
            final String op = "map f" + f + " off=" + off + " len=" + len + " " + prot + " " + sharing +
                (fixed ? " at page " + at : "");
            doing = op;
            if (fixed && !m.free(at, at + len))
            {
                expectRefusal(() -> space.map(files[f], off * PAGE, len * PAGE, prot, sharing,
                    MapOptions.DEFAULT.at(base + at * PAGE)));
                return op + " (refused)";
            }
            if (at < 0)
            {
                try
                {
                    space.map(files[f], off * PAGE, len * PAGE, prot, sharing);
                    fail("expected no room");
                }
                catch (final MappingException expected)
                {
                    return op + " (no room)";
                }
            }
            final long addr = space.map(files[f], off * PAGE, len * PAGE, prot, sharing,
                fixed ? MapOptions.DEFAULT.at(base + at * PAGE) : MapOptions.DEFAULT);
            if (addr != base + at * PAGE)
            {
                fail(op + " placed at page " + (addr - base) / PAGE + ", model says " + at);
            }
            final Page first = new Page(f, off, prot, sharing, Advice.NORMAL, false);
            for (int i = 0; i < len; i++)
            {
                m.pages[at + i] = first.next(i);
                m.privateValue[at + i] = null;
                m.maybeCopied[at + i] = false;
            }
            return op;
        }
        if (kind < 34)
        {
            final int s = random.nextInt(WINDOW_PAGES);
            final int len = 1 + random.nextInt(Math.min(32, WINDOW_PAGES - s));
            doing = "unmap page " + s + " len=" + len;
            space.unmap(base + s * PAGE, len * PAGE);
            m.clear(s, s + len);
            return "unmap page " + s + " len=" + len;
        }
        final Region r = regions.get(random.nextInt(regions.size()));
        final int rs = (int)((r.start() - base) / PAGE);
        final int rlen = (int)(r.length() / PAGE);
        final int s = rs + random.nextInt(rlen);
        final int len = 1 + random.nextInt(rlen + 4);
        final int e = Math.min(WINDOW_PAGES, s + len);
        if (kind < 48)
        {
            final Protection prot = random.nextBoolean() ? Protection.READ : Protection.READ_WRITE;
            final String op = "protect page " + s + ".." + e + " " + prot;
            doing = op;
            populateFrom = s;
            populateTo = e;
            if (!m.covered(s, e))
            {
                expectRefusal(() -> space.protect(base + s * PAGE, (e - s) * PAGE, prot));
                return op + " (refused)";
            }
            space.protect(base + s * PAGE, (e - s) * PAGE, prot);
            for (int p = s; p < e; p++)
            {
                final Page q = m.pages[p];
                m.pages[p] = new Page(q.file(), q.filePage(), prot, q.sharing(), q.advice(), q.locked());
            }
            m.breakCopyOnWriteIfLockedPrivateWritable(s, e);
            return op;
        }
        if (kind < 56)
        {
            final Advice advice = Advice.values()[random.nextInt(Advice.values().length)];
            final String op = "advise page " + s + ".." + e + " " + advice;
            doing = op;
            if (!m.covered(s, e) || advice == Advice.DONTNEED && m.anyLocked(s, e))
            {
                expectRefusal(() -> space.advise(base + s * PAGE, (e - s) * PAGE, advice));
                return op + " (refused)";
            }
            space.advise(base + s * PAGE, (e - s) * PAGE, advice);
            for (int p = s; p < e; p++)
            {
                final Page q = m.pages[p];
                if (advice.lasting())
                {
                    m.pages[p] = new Page(q.file(), q.filePage(), q.prot(), q.sharing(), advice, q.locked());
                }
                else if (advice == Advice.DONTNEED)
                {
                    m.privateValue[p] = null; // private copies are dropped; the file's bytes show again
                    m.maybeCopied[p] = false;
                }
            }
            return op;
        }
        if (kind < 62)
        {
            final boolean lock = random.nextBoolean();
            final String op = (lock ? "lock" : "unlock") + " page " + s + ".." + e;
            doing = op;
            populateFrom = s;
            populateTo = e;
            if (!m.covered(s, e))
            {
                expectRefusal(() -> space.lock(base + s * PAGE, (e - s) * PAGE));
                return op + " (refused)";
            }
            if (lock)
            {
                space.lock(base + s * PAGE, (e - s) * PAGE);
            }
            else
            {
                space.unlock(base + s * PAGE, (e - s) * PAGE);
            }
            for (int p = s; p < e; p++)
            {
                final Page q = m.pages[p];
                m.pages[p] = new Page(q.file(), q.filePage(), q.prot(), q.sharing(), q.advice(), lock);
            }
            m.breakCopyOnWriteIfLockedPrivateWritable(s, e);
            return op;
        }
        if (kind < 68)
        {
            if (rlen < 2)
            {
                return "split skipped (one-page region)";
            }
            final int at = rs + 1 + random.nextInt(rlen - 1);
            doing = "split at page " + at;
            space.split(base + at * PAGE);
            return "split at page " + at;
        }
        if (kind < 74)
        {
            final int i = regions.indexOf(r);
            if (i + 1 >= regions.size() || regions.get(i + 1).start() != r.end())
            {
                return "merge skipped (no adjacent region)";
            }
            final Region next = regions.get(i + 1);
            final Page a = m.pages[rs + rlen - 1];
            final Page b = m.pages[rs + rlen];
            final boolean compatible = a.file() == b.file() && a.filePage() + 1 == b.filePage() &&
                a.prot() == b.prot() && a.sharing() == b.sharing() && a.advice() == b.advice() &&
                a.locked() == b.locked();
            final String op = "merge page " + rs + " len=" + (rlen + next.length() / PAGE) +
                (compatible ? "" : " (incompatible)");
            doing = op;
            if (compatible)
            {
                space.merge(r.start(), next.end() - r.start());
            }
            else
            {
                try
                {
                    space.merge(r.start(), next.end() - r.start());
                    fail("merge of incompatible regions was accepted");
                }
                catch (final IncompatibleRegionsException expected)
                {
                    // the model agrees: nothing changes
                }
            }
            return op;
        }
        if (kind < 88)
        {
            return remap(space, m, random, base, r, rs, rlen);
        }
        return write(space, m, random, base, r, rs, rlen);
    }

    private String remap(final AddressSpace space, final Model m, final SplittableRandom random, final long base,
        final Region r, final int rs, final int rlen) throws Exception
    {
        final int newLen = 1 + random.nextInt(24);
        final Page first = m.pages[rs];
        final String op = "remap page " + rs + " len " + rlen + " -> " + newLen;
        doing = op;
        if (first.filePage() + newLen > FILE_PAGES)
        {
            expectRefusal(() -> space.remap(r.start(), newLen * PAGE, false));
            return op + " (refused: past end of file)";
        }
        if (newLen <= rlen)
        {
            space.remap(r.start(), newLen * PAGE, false);
            m.clear(rs + newLen, rs + rlen);
            return op;
        }
        int dest;
        if (rs + newLen <= WINDOW_PAGES && m.free(rs + rlen, rs + newLen))
        {
            dest = rs;
        }
        else
        {
            dest = m.lowestGap(newLen);
            if (dest < 0)
            {
                try
                {
                    space.remap(r.start(), newLen * PAGE, false);
                    fail("expected no room");
                }
                catch (final MappingException expected)
                {
                    return op + " (no room)";
                }
            }
        }
        final long got = space.remap(r.start(), newLen * PAGE, false);
        if (got != base + dest * PAGE)
        {
            fail(op + " went to page " + (got - base) / PAGE + ", model says " + dest);
        }
        final Page[] moved = new Page[newLen];
        final Long[] movedPrivate = new Long[newLen];
        final boolean[] movedMaybe = new boolean[newLen];
        for (int i = 0; i < rlen; i++)
        {
            moved[i] = m.pages[rs + i];
            movedPrivate[i] = first.sharing() == Sharing.PRIVATE ? m.privateValue[rs + i] : null;
            movedMaybe[i] = m.maybeCopied[rs + i];
        }
        for (int i = rlen; i < newLen; i++)
        {
            moved[i] = m.pages[rs + rlen - 1].next(i - rlen + 1);
        }
        m.clear(rs, rs + rlen);
        for (int i = 0; i < newLen; i++)
        {
            m.pages[dest + i] = moved[i];
            m.privateValue[dest + i] = movedPrivate[i];
            m.maybeCopied[dest + i] = movedMaybe[i];
        }
        m.breakCopyOnWriteIfLockedPrivateWritable(dest + rlen, dest + newLen);
        return op + (dest == rs ? " (in place)" : " (moved to page " + dest + ")");
    }

    private String write(final AddressSpace space, final Model m, final SplittableRandom random, final long base,
        final Region r, final int rs, final int rlen)
    {
        if (r.protection() != Protection.READ_WRITE)
        {
            return "write skipped (read-only region)";
        }
        final int p = rs + random.nextInt(rlen);
        final long value = random.nextLong();
        doing = "write page " + p;
        try (Lease lease = space.lease(base + p * PAGE))
        {
            lease.writableSegment().set(ValueLayout.JAVA_LONG, (p - rs) * PAGE + 8, value);
        }
        final Page q = m.pages[p];
        if (q.sharing() == Sharing.SHARED)
        {
            m.sharedValue.put(key(q.file(), q.filePage()), value);
        }
        else
        {
            m.privateValue[p] = value;
            m.maybeCopied[p] = false;
        }
        return "write page " + p + " (" + q.sharing() + ")";
    }

    private static void expectRefusal(final org.junit.jupiter.api.function.Executable call)
    {
        try
        {
            call.execute();
        }
        catch (final RegionArgumentException expected)
        {
            return;
        }
        catch (final Throwable t)
        {
            throw new AssertionError("expected a RegionArgumentException", t);
        }
        fail("expected a RegionArgumentException, the call was accepted");
    }

    private static void check(final AddressSpace space, final Model m, final long base, final Path[] paths,
        final boolean checkFiles) throws IOException
    {
        final List<Region> regions = space.regions();
        final Page[] ours = new Page[WINDOW_PAGES];
        for (final Region r : regions)
        {
            final int rs = (int)((r.start() - base) / PAGE);
            for (int i = 0; i < r.length() / PAGE; i++)
            {
                ours[rs + i] = new Page(r.file().id(), r.fileOffset() / PAGE + i, r.protection(), r.sharing(),
                    r.advice(), r.locked());
            }
        }
        for (int p = 0; p < WINDOW_PAGES; p++)
        {
            if (!Objects.equals(ours[p], m.pages[p]))
            {
                fail("page " + p + ": map has " + ours[p] + ", model has " + m.pages[p] + "\nregions: " + regions);
            }
        }
        space.verify();
        for (int p = 0; p < WINDOW_PAGES; p++)
        {
            final Page q = m.pages[p];
            if (q == null)
            {
                continue;
            }
            final long addr = base + p * PAGE;
            final long stamp = space.readLong(addr);
            if (stamp != stamp(q.file(), q.filePage()))
            {
                fail("page " + p + " reads stamp " + Long.toHexString(stamp) + ", expected file " + q.file() +
                    " page " + q.filePage());
            }
            final long expected = m.privateValue[p] != null ? m.privateValue[p] : m.fileValue(q.file(), q.filePage());
            final long actual = space.readLong(addr + 8);
            final boolean unknown = m.privateValue[p] == null && m.maybeCopied[p];
            if (actual != expected && !unknown)
            {
                fail("page " + p + " (" + q + ") reads " + Long.toHexString(actual) + " at +8, expected " +
                    Long.toHexString(expected));
            }
        }
        if (checkFiles)
        {
            final List<String> wrong = new ArrayList<>();
            for (int f = 1; f < paths.length; f++)
            {
                try (FileChannel ch = FileChannel.open(paths[f], StandardOpenOption.READ))
                {
                    final ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
                    for (long fp = 0; fp < FILE_PAGES; fp++)
                    {
                        buf.clear();
                        ch.read(buf, fp * PAGE);
                        if (buf.getLong(0) != stamp(f, fp) || buf.getLong(8) != m.fileValue(f, fp))
                        {
                            wrong.add("file " + f + " page " + fp);
                        }
                    }
                }
            }
            if (!wrong.isEmpty())
            {
                fail("file contents differ from the model at " + wrong);
            }
        }
    }
}
