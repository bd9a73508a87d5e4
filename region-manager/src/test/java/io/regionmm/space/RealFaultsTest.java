package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.regionmm.space.StampedFiles.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real faults the machine can make, no fault seam: a file that may not grow (RLIMIT_FSIZE, EFBIG from fallocate),
 * locked memory past RLIMIT_MEMLOCK without CAP_IPC_LOCK, and another process truncating a file under live readers.
 */
class RealFaultsTest
{
    private static final long BOUND_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void aGrowthPastRlimitFsizeIsRefusedCleanlyNeverASigbusLater() throws Exception
    {
        final List<String> out = runChild("ulimit -f 1024", "fsize"); // 1 MiB, in 1 KiB blocks
        assertTrue(line(out, "MAP ").startsWith("MAP REFUSED EFBIG :: map: fallocate("), out::toString);
        assertTrue(line(out, "REMAP ").startsWith("REMAP REFUSED EFBIG :: remap: fallocate("), out::toString);
        assertEquals("SIZE " + PAGE, line(out, "SIZE "), "the file is as before");
        assertEquals("REGIONS 1", line(out, "REGIONS "), "the map is as before");
        assertTrue(out.contains("CLOSED"), out::toString);
    }

    @Test
    void aLockPastRlimitMemlockIsRefusedAndChangesNothing() throws Exception
    {
        // capsh drops CAP_IPC_LOCK (root ignores RLIMIT_MEMLOCK with it) before the limit and the JVM start.
        final List<String> out = runChild("ulimit -l 64", "memlock");
        final String lock = line(out, "LOCK ");
        assertTrue(lock.startsWith("LOCK REFUSED ") && lock.contains(":: lock: mlock("), out::toString);
        assertTrue(lock.contains("RLIMIT_MEMLOCK"), lock); // the hint
        assertEquals("LOCKED AFTER REFUSAL false REGIONS 1", line(out, "LOCKED AFTER"));
        assertEquals("LOCKED ONE PAGE true", line(out, "LOCKED ONE"));
        assertTrue(out.contains("CLOSED"), out::toString);
    }

    @Test
    void anotherProcessTruncatingUnderLiveReadersIsATypedFaultAndTheSpaceStaysUsable() throws Exception
    {
        final Path p = StampedFiles.create(dir, 3, 16);
        try (AddressSpace space = AddressSpace.create())
        {
            final FileHandle f = space.openFile(p, FileAccess.READ_ONLY);
            final long a = space.map(f, 0, 16 * PAGE, Protection.READ, Sharing.SHARED);
            final AtomicBoolean stop = new AtomicBoolean();
            final CountDownLatch faulted = new CountDownLatch(2);
            final ConcurrentLinkedQueue<Throwable> other = new ConcurrentLinkedQueue<>();
            final ConcurrentLinkedQueue<RegionFaultException> faults = new ConcurrentLinkedQueue<>();
            final java.util.concurrent.atomic.AtomicLong asyncFaults = new java.util.concurrent.atomic.AtomicLong();
            final List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++)
            {
                final Thread reader = new Thread(() -> {
                    boolean counted = false;
                    for (long i = 0; !stop.get(); i++)
                    {
                        final long at = a + (i % 16) * PAGE + 8 * (i % 7);
                        try
                        {
                            space.readLong(at);
                        }
                        catch (final RegionFaultException ex)
                        {
                            faults.add(ex);
                            if (!counted)
                            {
                                counted = true;
                                faulted.countDown();
                            }
                        }
                        catch (final InternalError ex)
                        {
                            // HotSpot delivers a fault in compiled code asynchronously, at the thread's next
                            // safepoint poll, which may lie past the access's catch (JDK: "may be thrown at a later
                            // point"): no library boundary can type every one. Counted apart, not failed; every
                            // typed one (below) must be right, and the space must stay usable.
                            if (!String.valueOf(ex.getMessage()).contains("unsafe memory access"))
                            {
                                other.add(ex);
                                return;
                            }
                            asyncFaults.incrementAndGet();
                            if (!counted)
                            {
                                counted = true; // it saw the fault, in the only form the JVM let through
                                faulted.countDown();
                            }
                        }
                        catch (final Throwable ex)
                        {
                            other.add(ex);
                            return;
                        }
                    }
                });
                reader.start();
                readers.add(reader);
            }
            final Process truncate = new ProcessBuilder("truncate", "-s", Long.toString(4 * PAGE), p.toString())
                .inheritIO().start();
            assertEquals(0, truncate.waitFor());
            final boolean both = faulted.await(BOUND_SECONDS, TimeUnit.SECONDS);
            stop.set(true);
            for (final Thread reader : readers)
            {
                reader.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
            }
            assertTrue(other.isEmpty(), () -> "readers saw other errors: " + other);
            assertTrue(both, "both readers faulted past the new end");
            System.out.printf("truncation under readers: %d typed faults, %d delivered asynchronously%n",
                faults.size(), asyncFaults.get());
            for (final RegionFaultException ex : faults)
            {
                assertTrue(ex.address() >= a + 4 * PAGE, ex.getMessage()); // only past the new end
                assertTrue(ex.getMessage().contains("truncated"), ex.getMessage());
            }
            // Usable: below the new end reads work, the map equals the kernel's, and the region can go.
            space.readLong(a);
            space.verify();
            space.remap(a, 4 * PAGE, false);
            assertEquals(StampedFiles.stamp(3, 3), space.readLong(a + 3 * PAGE));
            space.unmap(a, 4 * PAGE);
            space.verify();
        }
        assertEquals(4 * PAGE, Files.size(p));
    }

    private List<String> runChild(final String limit, final String mode) throws Exception
    {
        final List<String> java = ChildJvm.command(RealFaultChild.class, List.of("-Xmx64m", "-XX:+UseSerialGC"),
            mode, dir.toString());
        final StringBuilder exec = new StringBuilder("exec");
        for (final String word : java)
        {
            exec.append(' ').append(quote(word));
        }
        // The limit applies to the shell and what it execs. For memlock, capsh first drops CAP_IPC_LOCK, with
        // which root ignores RLIMIT_MEMLOCK (.ci/run installs capsh where it is missing; another user has no
        // CAP_IPC_LOCK to drop, and bash does).
        final boolean capsh = Files.isExecutable(Path.of("/usr/sbin/capsh")) ||
            Files.isExecutable(Path.of("/sbin/capsh"));
        final List<String> command = new ArrayList<>(mode.equals("memlock") && capsh ?
            List.of("capsh", "--drop=cap_ipc_lock", "--") : List.of("bash"));
        command.addAll(List.of("-c", limit + " && " + exec));
        return ChildJvm.run(command, BOUND_SECONDS);
    }

    private static String quote(final String s)
    {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String line(final List<String> out, final String prefix)
    {
        return ChildJvm.line(out, prefix);
    }
}
