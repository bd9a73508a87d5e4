package io.regionmm.space;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Syscall;
import io.regionmm.kernel.fault.FaultInjectingKernel;
import io.regionmm.kernel.maps.ProcMaps;
import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.CRC32;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The exhaustive syscall sweep (issue 13). For each write operation: record the system calls it makes on a fresh,
 * seeded fixture; then, on a fresh fixture each time, fail the Nth of those calls with each errno the kernel
 * documents for it, and check that the operation threw a {@link MappingException} naming that call and errno and
 * that everything is exactly as before: the region map, the kernel's view of the window (merged tables, and page by
 * page: permissions, file offset, inode and the VmFlags of /proc/self/smaps, so advice and mlock are compared too),
 * the bytes of every mapped page (private copies included), the files' lengths and bytes, and the set of open
 * descriptors; and that the space still accepts writes.
 *
 * <p>Then the double faults: for each failure whose undo made system calls, fail each undo call as well; the space
 * must be poisoned (the original error with a {@link SpacePoisonedException} attached, later writes refused), reads
 * of an untouched region must work, and close must release the window and every descriptor.
 *
 * <p>Not rollbacks, with their own expectations: {@code releaseFile} whose close(2) fails (no error: Linux releases
 * the descriptor even when close reports one, so the handle is released and nothing is retried), and the space's
 * {@code close} (never throws; releases every other descriptor and the window; a failed munmap of the window is
 * logged and leaves the reservation, since nothing more can be done).
 *
 * <p>The normal run samples: every (operation, call) once, with one errno drawn from the seed, and one double fault
 * per operation whose undos make calls. {@code -Dregionmm.sweep=all} (Maven profile {@code sweep}) runs the whole
 * product: every errno, every undo call; {@code -Dregionmm.sweep.seed=S} chooses the seed.
 */
@Timeout(value = 600, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SyscallSweepTest
{
    private static final boolean ALL = "all".equals(System.getProperty("regionmm.sweep"));
    private static final long SEED = Long.getLong("regionmm.sweep.seed", 13);
    private static final int WINDOW_PAGES = 64;
    private static final int[] FILE_PAGES = {16, 16, 4, 4, 4};
    private static final Map<Syscall, List<Errno>> ERRNOS = new EnumMap<>(Syscall.class);

    static
    {
        // What each call's man page documents (those that can happen to a call made correctly included).
        ERRNOS.put(Syscall.MMAP, List.of(Errno.ENOMEM, Errno.EINVAL, Errno.EACCES, Errno.EAGAIN, Errno.ENFILE,
            Errno.EPERM, Errno.ENODEV, Errno.EOVERFLOW));
        ERRNOS.put(Syscall.MREMAP, List.of(Errno.ENOMEM, Errno.EINVAL, Errno.EAGAIN, Errno.EFAULT));
        ERRNOS.put(Syscall.MPROTECT, List.of(Errno.ENOMEM, Errno.EACCES, Errno.EINVAL));
        ERRNOS.put(Syscall.MADVISE, List.of(Errno.EINVAL, Errno.EAGAIN, Errno.EIO, Errno.ENOMEM, Errno.EPERM));
        ERRNOS.put(Syscall.MLOCK, List.of(Errno.ENOMEM, Errno.EAGAIN, Errno.EPERM, Errno.EINVAL));
        ERRNOS.put(Syscall.MUNLOCK, List.of(Errno.ENOMEM, Errno.EINVAL, Errno.EPERM));
        ERRNOS.put(Syscall.MSYNC, List.of(Errno.EIO, Errno.ENOMEM, Errno.EINVAL, Errno.EBUSY));
        ERRNOS.put(Syscall.FALLOCATE, List.of(Errno.ENOSPC, Errno.EFBIG, Errno.EIO, Errno.EPERM, Errno.EINTR,
            Errno.EDQUOT));
        ERRNOS.put(Syscall.FTRUNCATE, List.of(Errno.EFBIG, Errno.EIO, Errno.EPERM, Errno.EINTR));
        ERRNOS.put(Syscall.FSTAT, List.of(Errno.EIO, Errno.ENOMEM, Errno.EOVERFLOW));
        ERRNOS.put(Syscall.CLOSE, List.of(Errno.EIO, Errno.EINTR, Errno.ENOSPC, Errno.EDQUOT));
        ERRNOS.put(Syscall.MUNMAP, List.of(Errno.EINVAL, Errno.ENOMEM));
    }

    @TempDir
    Path tempDir;
    /** Where the fixture's files live: tmpfs when there is one (msync and fallocate cost no disk I/O), else tempDir. */
    private Path dir;

    private int cases;
    private int ownExpectations; // releaseFile and close: not rollbacks
    private int doubleFaults;

    /** What a failure of the operation must leave behind. */
    private enum Expect
    {
        /** A MappingException naming the call and errno, and everything as before. */
        ROLLBACK,
        /** releaseFile: no error, the handle released; the descriptor is gone as after a successful close. */
        RELEASE,
        /** The space's close: no error, every other resource released. */
        CLOSE
    }

    /** One write operation on a fixture. */
    @FunctionalInterface
    private interface Action
    {
        void run(Fixture f) throws MappingException;
    }

    /**
     * A write operation of the sweep.
     *
     * @param name   for the report.
     * @param op     the operation name its MappingException carries.
     * @param expect what a failure must leave.
     * @param action the call.
     */
    private record Op(String name, String op, Expect expect, Action action)
    {
    }

    /**
     * The fixture, page by page (window pages; the files are stamped, ids 1 to 5):
     * <pre>
     *  0..2  A1a fa 0..2  RW SHARED   (split from A1b)      20..24 C  fc 0..4   RW SHARED (fc is 4 pages)
     *  2..4  A1b fa 2..4  RW SHARED                          28..32 D  fb 8..12  RW SHARED
     *  8..12 B   fb 0..4  RW PRIVATE  (dirty private pages)  32..36 E  fa 12..16 READ PRIVATE, locked
     * 12..16 A2  fa 8..12 READ SHARED                        36..40 F  fe 0..4   RW PRIVATE (dirty; fe 4 pages)
     *                                                        40..44 G  fb 12..16 READ SHARED, locked
     * </pre>
     * fd (4 pages) is open and unmapped. Shared writes in A1 (page 0), C (synced) and D; seeded values.
     */
    private final class Fixture implements AutoCloseable
    {
        final FaultInjectingKernel kernel;
        final AddressSpace space;
        final long base;
        final FileHandle fa;
        final FileHandle fb;
        final FileHandle fc;
        final FileHandle fd;
        final FileHandle fe;
        final Path[] paths = new Path[FILE_PAGES.length];

        Fixture(final long seed) throws IOException
        {
            for (int i = 0; i < paths.length; i++)
            {
                paths[i] = StampedFiles.create(dir, i + 1, FILE_PAGES[i]);
            }
            kernel = new FaultInjectingKernel(Kernel.system(), seed);
            space = AddressSpace.create(kernel, WINDOW_PAGES * PAGE);
            base = space.windowStart();
            fa = space.openFile(paths[0], FileAccess.READ_WRITE);
            fb = space.openFile(paths[1], FileAccess.READ_WRITE);
            fc = space.openFile(paths[2], FileAccess.READ_WRITE);
            fd = space.openFile(paths[3], FileAccess.READ_WRITE);
            fe = space.openFile(paths[4], FileAccess.READ_WRITE);
            mapAt(fa, 0, 4, Protection.READ_WRITE, Sharing.SHARED, 0);
            space.split(at(2));
            mapAt(fb, 0, 4, Protection.READ_WRITE, Sharing.PRIVATE, 8);
            mapAt(fa, 8, 4, Protection.READ, Sharing.SHARED, 12);
            mapAt(fc, 0, 4, Protection.READ_WRITE, Sharing.SHARED, 20);
            mapAt(fb, 8, 4, Protection.READ_WRITE, Sharing.SHARED, 28);
            mapAt(fa, 12, 4, Protection.READ, Sharing.PRIVATE, 32);
            mapAt(fe, 0, 4, Protection.READ_WRITE, Sharing.PRIVATE, 36);
            mapAt(fb, 12, 4, Protection.READ, Sharing.SHARED, 40);
            space.lock(at(32), 4 * PAGE);
            space.lock(at(40), 4 * PAGE);
            final SplittableRandom random = new SplittableRandom(seed);
            for (final int page : new int[] {0, 8, 9, 11, 20, 28, 36, 38})
            {
                try (Lease lease = space.lease(at(page)))
                {
                    lease.writableSegment().set(ValueLayout.JAVA_LONG, (at(page) - lease.region().start()) + 16,
                        random.nextLong());
                }
            }
            space.sync(at(20), 4 * PAGE, SyncMode.SYNC);
            assertEquals(9, space.regions().size(), space.regions()::toString);
        }

        long at(final int page)
        {
            return base + page * PAGE;
        }

        private void mapAt(final FileHandle file, final int filePage, final int pages, final Protection protection,
            final Sharing sharing, final int page) throws MappingException
        {
            space.map(file, filePage * PAGE, pages * PAGE, protection, sharing, MapOptions.DEFAULT.at(at(page)));
        }

        @Override
        public void close()
        {
            space.close();
        }
    }

    private Fixture fixture() throws IOException
    {
        return new Fixture(SEED);
    }

    private static List<Op> ops()
    {
        final Expect rb = Expect.ROLLBACK;
        final long p = PAGE;
        return List.of(
            new Op("map anywhere", "map", rb,
                f -> assertEquals(f.at(4), f.space.map(f.fb, 4 * p, 4 * p, Protection.READ, Sharing.SHARED))),
            new Op("map fixed", "map", rb, f -> f.space.map(f.fa, 4 * p, 2 * p, Protection.READ_WRITE,
                Sharing.SHARED, MapOptions.DEFAULT.at(f.at(16)))),
            new Op("map with file growth (merging with C)", "map", rb, f -> f.space.map(f.fc, 4 * p, 4 * p,
                Protection.READ_WRITE, Sharing.SHARED, MapOptions.DEFAULT.at(f.at(24)).growingFile())),
            new Op("unmap whole region", "unmap", rb, f -> f.space.unmap(f.at(28), 4 * p)),
            new Op("unmap cutting a region", "unmap", rb, f -> f.space.unmap(f.at(9), 2 * p)),
            new Op("split", "split", rb, f -> f.space.split(f.at(10))),
            new Op("merge", "merge", rb, f -> f.space.merge(f.at(0), 4 * p)),
            new Op("remap grow in place SHARED", "remap", rb,
                f -> assertEquals(f.at(2), f.space.remap(f.at(2), 4 * p, false))),
            new Op("remap grow in place SHARED, file grows", "remap", rb,
                f -> assertEquals(f.at(20), f.space.remap(f.at(20), 6 * p, true))),
            new Op("remap grow moves SHARED", "remap", rb,
                f -> assertEquals(f.at(44), f.space.remap(f.at(28), 6 * p, false))),
            new Op("remap grow moves SHARED, file grows", "remap", rb,
                f -> assertEquals(f.at(44), f.space.remap(f.at(28), 10 * p, true))),
            new Op("remap grow moves PRIVATE", "remap", rb,
                f -> assertEquals(f.at(44), f.space.remap(f.at(8), 6 * p, false))),
            new Op("remap grow moves PRIVATE, file grows", "remap", rb,
                f -> assertEquals(f.at(44), f.space.remap(f.at(36), 6 * p, true))),
            new Op("remap shrink", "remap", rb, f -> f.space.remap(f.at(8), 2 * p, false)),
            new Op("protect two pieces", "protect", rb, f -> f.space.protect(f.at(0), 4 * p, Protection.READ)),
            new Op("protect, one piece unchanged", "protect", rb,
                f -> f.space.protect(f.at(8), 8 * p, Protection.READ)),
            new Op("advise RANDOM", "advise", rb, f -> f.space.advise(f.at(8), 8 * p, Advice.RANDOM)),
            new Op("advise DONTNEED", "advise", rb, f -> f.space.advise(f.at(8), 8 * p, Advice.DONTNEED)),
            new Op("sync", "sync", rb, f -> f.space.sync(f.at(0), 4 * p, SyncMode.SYNC)),
            new Op("lock", "lock", rb, f -> f.space.lock(f.at(8), 8 * p)),
            new Op("unlock", "unlock", rb, f -> f.space.unlock(f.at(32), 12 * p)),
            new Op("releaseFile, unmapped (closes it)", "releaseFile", Expect.RELEASE,
                f -> f.space.releaseFile(f.fd)),
            new Op("releaseFile, mapped (stays open)", "releaseFile", Expect.RELEASE,
                f -> f.space.releaseFile(f.fb)),
            new Op("close", "close", Expect.CLOSE, f -> f.space.close()));
    }

    /**
     * A double fault to inject.
     *
     * @param victim the operation's call that fails first.
     * @param undo   a call its undo makes, which fails too.
     */
    private record Twice(FaultInjectingKernel.Call victim, FaultInjectingKernel.Call undo)
    {
    }

    @Test
    void everyFailingSystemCallOfEveryWriteRollsBack() throws Exception
    {
        final Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "sweep") : tempDir;
        try
        {
            sweep();
        }
        finally
        {
            if (!dir.equals(tempDir))
            {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(dir))
                {
                    for (final Path p : files)
                    {
                        Files.delete(p);
                    }
                }
                Files.delete(dir);
            }
        }
    }

    private void sweep() throws Exception
    {
        final long t0 = System.nanoTime();
        final Map<String, String> fdsAtStart = fds();
        final SplittableRandom sample = new SplittableRandom(SEED);
        final StringBuilder summary = new StringBuilder();
        for (final Op op : ops())
        {
            final State[] fresh = new State[1];
            final List<FaultInjectingKernel.Call> calls = record(op, fresh);
            summary.append(String.format("  %-42s %2d calls: %s%n", op.name(), calls.size(),
                calls.stream().map(c -> c.syscall().cName()).toList()));
            final List<Twice> twice = new ArrayList<>();
            for (int n = 0; n < calls.size(); n++)
            {
                final FaultInjectingKernel.Call victim = calls.get(n);
                final List<Errno> errnos = ERRNOS.get(victim.syscall());
                assertNotNull(errnos, "no errnos listed for " + victim.syscall());
                final List<Errno> chosen = ALL ? errnos : List.of(errnos.get(sample.nextInt(errnos.size())));
                List<FaultInjectingKernel.Call> undo = List.of();
                for (final Errno errno : chosen)
                {
                    undo = failOne(op, n + 1, victim, errno, fresh[0]);
                }
                if (op.expect() != Expect.ROLLBACK || undo.isEmpty())
                {
                    continue;
                }
                summary.append(String.format("      call %d (%s) fails: undone with %s%n", n + 1,
                    victim.syscall().cName(), undo.stream().map(c -> c.syscall().cName()).toList()));
                for (final FaultInjectingKernel.Call u : undo)
                {
                    twice.add(new Twice(victim, u));
                }
            }
            final List<Twice> twiceChosen = ALL || twice.isEmpty() ? twice :
                List.of(twice.get(sample.nextInt(twice.size())));
            for (final Twice pair : twiceChosen)
            {
                failTwice(op, pair.victim(), pair.undo());
            }
        }
        assertEquals(fdsAtStart, fds(), "descriptors leaked over the whole sweep");
        System.out.printf("SyscallSweepTest (%s, seed %d): %d (operation, call index, errno) cases ran, all as " +
            "expected: %d rolled back completely, %d (releaseFile, close) met their own expectations; %d double " +
            "faults, all poisoned the space and closed cleanly; %d ms%n%s", ALL ? "full product" : "sampled", SEED,
            cases, cases - ownExpectations, ownExpectations, doubleFaults, (System.nanoTime() - t0) / 1_000_000,
            summary);
    }

    /**
     * Runs the operation on a fresh fixture without faults.
     *
     * @param fresh set to the state of the fresh fixture, before the operation.
     * @return the calls it makes, in order.
     */
    private List<FaultInjectingKernel.Call> record(final Op op, final State[] fresh) throws Exception
    {
        try (Fixture f = fixture())
        {
            fresh[0] = state(f);
            assertTrue(fresh[0].agrees(), () -> "the fixture disagrees with the kernel: " + fresh[0].kernel());
            assertFalse(fresh[0].pages().contains("?"), () -> "window pages missing in smaps: " + fresh[0].pages());
            assertTrue(fresh[0].pages().get(32).contains(" lo "), () -> "E is not locked: " + fresh[0].pages());
            f.kernel.resetCounters();
            f.kernel.startRecording();
            op.action().run(f);
            final List<FaultInjectingKernel.Call> calls = f.kernel.stopRecording();
            if (!f.space.isClosed())
            {
                f.space.verify();
            }
            return calls;
        }
    }

    /**
     * Fails the {@code n}th call of the operation with {@code errno} on a fresh fixture (whose state is
     * {@code fresh}) and checks what is left.
     *
     * @return the calls made after the failure (the undo).
     */
    private List<FaultInjectingKernel.Call> failOne(final Op op, final int n, final FaultInjectingKernel.Call victim,
        final Errno errno, final State fresh) throws Exception
    {
        final String what = op.name() + ", call " + n + " (" + victim.syscall().cName() + ") fails with " + errno;
        cases++;
        if (op.expect() != Expect.ROLLBACK)
        {
            ownExpectations++;
        }
        final Map<String, String> fdsBefore = fds();
        try (Fixture f = fixture())
        {
            // The fixture is deterministic: every fresh one is in the recorded fresh state (a difference would show
            // as a failure below, never hide one), except for descriptor numbers the JVM may have taken meanwhile.
            final State before = fresh.withFds(fds());
            f.kernel.resetCounters();
            f.kernel.failNth(victim.syscall(), victim.ordinal(), errno);
            f.kernel.startRecording();
            Throwable thrown = null;
            try
            {
                op.action().run(f);
            }
            catch (final Throwable t)
            {
                thrown = t;
            }
            final List<FaultInjectingKernel.Call> made = f.kernel.stopRecording();
            f.kernel.clearRules();
            assertEquals(1, f.kernel.injected(victim.syscall()), what + ": the injected failure did not hit");
            final FaultInjectingKernel.Call failed = made.get(n - 1); // its arguments in this run (fd numbers)
            assertEquals(victim.syscall(), failed.syscall(), what);
            final List<FaultInjectingKernel.Call> undo = made.subList(n, made.size());
            switch (op.expect())
            {
                case ROLLBACK -> checkRolledBack(what, op, victim, errno, f, before, thrown, undo);
                case RELEASE -> checkReleased(what, f, before, thrown, failed);
                case CLOSE -> checkClosed(what, f, fdsBefore, thrown, failed);
                default -> fail(what + ": no expectation");
            }
            return undo;
        }
        catch (final AssertionError e)
        {
            throw new AssertionError("seed " + SEED + ": " + e.getMessage(), e); // the message names the case
        }
    }

    private void checkRolledBack(final String what, final Op op, final FaultInjectingKernel.Call victim,
        final Errno errno, final Fixture f, final State before, final Throwable thrown,
        final List<FaultInjectingKernel.Call> undo) throws IOException
    {
        final MappingException ex = assertInstanceOf(MappingException.class, thrown, what + ": not a MappingException");
        assertEquals(op.op(), ex.operation(), what);
        assertEquals(errno.name(), ex.errnoName(), what);
        assertEquals(victim.syscall(), ex.kernelCause().call(), what);
        assertTrue(ex.getMessage().startsWith(op.op() + ": " + victim.syscall().cName() + "("), ex.getMessage());
        assertEquals(0, ex.getSuppressed().length, what + ": the undo (" + undo + ") failed");
        before.assertSame(what, state(f)); // before.agrees() is true: this is verify() too
        try (WriteSection w = f.space.beginWrite())
        {
            assertTrue(w.sequence() % 2 == 1); // not poisoned: writes are still accepted
        }
    }

    /** releaseFile: a failing close(2) is logged, not thrown; the handle is released all the same. */
    private static void checkReleased(final String what, final Fixture f, final State before, final Throwable thrown,
        final FaultInjectingKernel.Call victim) throws IOException
    {
        if (thrown != null)
        {
            throw new AssertionError(what + ": releaseFile threw", thrown);
        }
        assertFalse(f.space.isFileOpen(f.fd), what);
        // Linux releases the descriptor even when close(2) reports an error; the injected failure did not reach the
        // kernel, so the test finishes the close the kernel would have done.
        final String fd = Long.toString(victim.arg(0));
        assertTrue(fds().containsKey(fd), what + ": fd " + fd + " was not the injected one");
        closeReally(victim);
        final Map<String, String> fds = new TreeMap<>(before.fds());
        fds.remove(fd);
        before.withFds(fds).assertSame(what, state(f));
    }

    /** close: never throws; every other descriptor closed; the window released unless its own munmap failed. */
    private static void checkClosed(final String what, final Fixture f, final Map<String, String> fdsBefore,
        final Throwable thrown, final FaultInjectingKernel.Call victim) throws IOException
    {
        if (thrown != null)
        {
            throw new AssertionError(what + ": close threw", thrown);
        }
        assertTrue(f.space.isClosed(), what);
        final boolean windowFailed = victim.syscall() == Syscall.MUNMAP;
        assertEquals(windowFailed, !ProcMaps.readWindow(f.base, f.base + WINDOW_PAGES * PAGE).isEmpty(),
            what + ": window VMAs left " + ProcMaps.readWindow(f.base, f.base + WINDOW_PAGES * PAGE));
        if (windowFailed)
        {
            try
            {
                Kernel.system().munmap(f.base, WINDOW_PAGES * PAGE);
            }
            catch (final KernelException e)
            {
                throw new AssertionError(e);
            }
        }
        else
        {
            assertTrue(fds().containsKey(Long.toString(victim.arg(0))), what);
            closeReally(victim);
        }
        assertEquals(fdsBefore, fds(), what + ": descriptors");
    }

    private static void closeReally(final FaultInjectingKernel.Call victim)
    {
        try
        {
            Kernel.system().close((int)victim.arg(0));
        }
        catch (final KernelException e)
        {
            throw new AssertionError(e);
        }
    }

    /**
     * Fails the call {@code victim}, then the undo call {@code undo} (recorded when {@code victim} alone failed): the
     * space must be poisoned, readable, and close cleanly.
     */
    private void failTwice(final Op op, final FaultInjectingKernel.Call victim, final FaultInjectingKernel.Call undo)
        throws Exception
    {
        final Errno first = ERRNOS.get(victim.syscall()).getFirst();
        final Errno second = ERRNOS.get(undo.syscall()).getFirst();
        final String what = op.name() + ": " + victim.syscall().cName() + " #" + victim.ordinal() + " fails with " +
            first + ", then its undo's " + undo.syscall().cName() + " #" + undo.ordinal() + " with " + second;
        doubleFaults++;
        final Map<String, String> fdsBefore = fds();
        final Fixture f = fixture();
        try
        {
            f.kernel.resetCounters();
            f.kernel.failNth(victim.syscall(), victim.ordinal(), first);
            f.kernel.failNth(undo.syscall(), undo.ordinal(), second);
            final MappingException ex = assertThrows(MappingException.class, () -> op.action().run(f), what);
            f.kernel.clearRules();
            assertEquals(first.name(), ex.errnoName(), what);
            assertEquals(1, ex.getSuppressed().length, what + ": no poison attached");
            final SpacePoisonedException poison = assertInstanceOf(SpacePoisonedException.class,
                ex.getSuppressed()[0]);
            assertEquals(op.op(), poison.failedOperation(), what);
            assertEquals(second.name(), poison.errnoName(), what);
            checkPoisoned(what, f, op.op(), second);
            f.space.close();
            assertTrue(ProcMaps.readWindow(f.base, f.base + WINDOW_PAGES * PAGE).isEmpty(), what + ": window left");
            assertEquals(fdsBefore, fds(), what + ": descriptors");
        }
        catch (final AssertionError e)
        {
            throw new AssertionError("seed " + SEED + ": " + e.getMessage(), e); // the message names the case
        }
        finally
        {
            f.close();
        }
    }

    /** Writes refused, naming the failed operation and the errno; reads of an untouched region (G) work. */
    static void checkPoisoned(final String what, final AddressSpace space, final long g, final FileHandle file,
        final String failedOp, final Errno errno)
    {
        final List<Runnable> writes = List.of(
            () -> space.beginWrite(),
            () -> space.split(g + PAGE),
            () -> space.releaseFile(file),
            () ->
            {
                try
                {
                    space.map(file, 0, PAGE, Protection.READ, Sharing.SHARED);
                }
                catch (final MappingException e)
                {
                    throw new AssertionError(e);
                }
            });
        for (final Runnable write : writes)
        {
            final SpacePoisonedException refused = assertThrows(SpacePoisonedException.class, write::run, what);
            assertEquals(failedOp, refused.failedOperation(), what);
            assertEquals(errno.name(), refused.errnoName(), what);
            assertTrue(refused.getMessage().contains("may no longer match the kernel's mappings"),
                refused.getMessage());
            assertTrue(refused.getMessage().contains("close the space"), refused.getMessage());
        }
        assertEquals(stamp(2, 12), space.readLong(g), what);
        assertEquals(stamp(2, 13), space.readLong(g + PAGE), what);
        try (Lease lease = space.lease(g))
        {
            assertEquals(stamp(2, 12), lease.segment().get(ValueLayout.JAVA_LONG, g - lease.region().start()));
        }
        assertFalse(space.regions().isEmpty(), what);
    }

    private static void checkPoisoned(final String what, final Fixture f, final String failedOp, final Errno errno)
    {
        checkPoisoned(what, f.space, f.at(40), f.fb, failedOp, errno);
    }

    // ------------------------------------------------------------------ the state compared before and after

    /**
     * Everything a failed write must leave as it was.
     *
     * @param regions the region map, one line per region.
     * @param agrees  whether the map and the kernel agreed.
     * @param kernel  the kernel's merged table of the window (checkAgainstKernel), in pages from the window's
     *                start.
     * @param pages   per window page: /proc/self/smaps' permissions, offset, inode and VmFlags, and a CRC of the
     *                bytes of every mapped page.
     * @param files   per file: its length and a CRC of its bytes.
     * @param fds     /proc/self/fd: descriptor to target.
     */
    private record State(List<String> regions, boolean agrees, List<String> kernel, List<String> pages,
        List<String> files, Map<String, String> fds)
    {
        State withFds(final Map<String, String> now)
        {
            return new State(regions, agrees, kernel, pages, files, now);
        }

        void assertSame(final String what, final State after)
        {
            assertEquals(regions, after.regions, what + ": the region map");
            assertEquals(agrees, after.agrees, what + ": map against kernel");
            assertEquals(kernel, after.kernel, what + ": the kernel's table");
            for (int i = 0; i < pages.size(); i++)
            {
                assertEquals(pages.get(i), after.pages.get(i), what + ": window page " + i);
            }
            assertEquals(files, after.files, what + ": the files");
            assertEquals(fds, after.fds, what + ": open descriptors");
        }
    }

    private static State state(final Fixture f) throws IOException
    {
        final List<String> regions = new ArrayList<>();
        for (final Region r : f.space.regions())
        {
            regions.add(String.format("[%d, %d) file %d @%d %s %s %s%s", (r.start() - f.base) / PAGE,
                (r.end() - f.base) / PAGE, r.file().id(), r.fileOffset(), r.protection(), r.sharing(), r.advice(),
                r.locked() ? " locked" : ""));
        }
        final KernelCheck.Report report = f.space.checkAgainstKernel();
        final List<String> pages = smapsPages(f.base);
        for (final Region r : f.space.regions())
        {
            final byte[] bytes = new byte[(int)PAGE];
            for (long a = r.start(); a < r.end(); a += PAGE)
            {
                f.space.read(a, bytes, 0, bytes.length);
                final CRC32 crc = new CRC32();
                crc.update(bytes);
                final int i = (int)((a - f.base) / PAGE);
                pages.set(i, pages.get(i) + " crc " + Long.toHexString(crc.getValue()));
            }
        }
        final List<String> files = new ArrayList<>();
        for (final Path p : f.paths)
        {
            final byte[] bytes = Files.readAllBytes(p);
            final CRC32 crc = new CRC32();
            crc.update(bytes);
            files.add(p.getFileName() + " " + bytes.length + " bytes crc " + Long.toHexString(crc.getValue()));
        }
        final List<String> kernel = new ArrayList<>();
        for (final KernelCheck.Vma v : report.kernel())
        {
            kernel.add(String.format("[%d, %d) %s ino %d @%d", (v.start() - f.base) / PAGE, (v.end() - f.base) / PAGE,
                v.perms(), v.inode(), v.offset()));
        }
        return new State(regions, report.agrees(), kernel, pages, files, fds());
    }

    /** Per window page: the VMA's permissions, the page's file offset, the inode and the VmFlags. */
    private static List<String> smapsPages(final long base) throws IOException
    {
        final long end = base + WINDOW_PAGES * PAGE;
        final List<String> pages = new ArrayList<>();
        for (int i = 0; i < WINDOW_PAGES; i++)
        {
            pages.add("?");
        }
        long s = 0;
        long e = 0;
        String head = null;
        long offset = 0;
        try (BufferedReader in = Files.newBufferedReader(Path.of("/proc/self/smaps"), StandardCharsets.UTF_8))
        {
            for (String line = in.readLine(); line != null; line = in.readLine())
            {
                final int dash = line.indexOf('-');
                final int space = line.indexOf(' ');
                if (dash <= 0 || space < dash || line.indexOf(':') < space)
                {
                    if (line.startsWith("VmFlags:") && head != null && e > base && s < end)
                    {
                        final boolean anonymous = head.endsWith("ino 0");
                        for (long a = Math.max(s, base); a < Math.min(e, end); a += PAGE)
                        {
                            pages.set((int)((a - base) / PAGE), head + (anonymous ? "" : " @" + (offset + (a - s))) +
                                " " + line.substring("VmFlags:".length()).trim());
                        }
                    }
                    continue;
                }
                final String[] parts = line.trim().split("\\s+");
                s = Long.parseUnsignedLong(parts[0].substring(0, dash), 16);
                if (Long.compareUnsigned(s, end) >= 0)
                {
                    break; // in address order: the rest is past the window (and the kernel need not produce it)
                }
                e = Long.parseUnsignedLong(parts[0].substring(dash + 1), 16);
                offset = Long.parseLong(parts[2], 16);
                head = parts[1] + " ino " + parts[4];
                if (!"0".equals(parts[4]))
                {
                    head += " dev " + parts[3];
                }
            }
        }
        return pages;
    }

    /** /proc/self/fd: descriptor number to target (entries gone while listing, the listing's own, left out). */
    private static Map<String, String> fds() throws IOException
    {
        final Map<String, String> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd")))
        {
            for (final Path p : ds)
            {
                try
                {
                    final String target = Files.readSymbolicLink(p).toString();
                    if (!target.startsWith("/proc/") || !target.endsWith("/fd"))
                    {
                        out.put(p.getFileName().toString(), target);
                    }
                }
                catch (final IOException gone)
                {
                    // closed while listing (the listing's own descriptor, among others)
                }
            }
        }
        return out;
    }
}
