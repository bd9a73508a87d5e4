package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process {@link RealFaultsTest} starts under a real limit (RLIMIT_FSIZE, or RLIMIT_MEMLOCK without
 * CAP_IPC_LOCK): provokes the kernel's refusal through the library and prints one line per fact.
 */
public final class RealFaultChild
{
    private static final long PAGE = 4096;

    private RealFaultChild()
    {
    }

    /**
     * @param args "fsize" or "memlock", then a folder.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final Path dir = Path.of(args[1]);
        try (AddressSpace space = AddressSpace.create())
        {
            if (args[0].equals("fsize"))
            {
                // RLIMIT_FSIZE is 1 MiB: growing the file to 4 MiB is refused by fallocate (EFBIG; the JVM ignores
                // SIGXFSZ), before any mapping exists, so nothing can fault later.
                final Path p = Files.write(dir.resolve("grow.dat"), new byte[(int)PAGE]);
                final FileHandle f = space.openFile(p, FileAccess.READ_WRITE);
                final long a = space.map(f, 0, PAGE, Protection.READ_WRITE, Sharing.SHARED);
                report("MAP", () -> space.map(f, 0, 1024 * PAGE, Protection.READ_WRITE, Sharing.SHARED,
                    MapOptions.DEFAULT.growingFile()));
                report("REMAP", () -> space.remap(a, 1024 * PAGE, true));
                System.out.println("SIZE " + Files.size(p));
                System.out.println("REGIONS " + space.regions().size());
                space.verify();
                System.out.println("GREW " + space.remap(a, 16 * PAGE, true)); // within the limit
                space.verify();
            }
            else
            {
                // RLIMIT_MEMLOCK is 64 KiB and CAP_IPC_LOCK is gone: locking 1 MiB is refused, 4 KiB is not.
                final Path p = Files.write(dir.resolve("lock.dat"), new byte[(int)(256 * PAGE)]);
                final FileHandle f = space.openFile(p, FileAccess.READ_WRITE);
                final long a = space.map(f, 0, 256 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
                report("LOCK", () -> {
                    space.lock(a, 256 * PAGE);
                    return null;
                });
                boolean anyLocked = false;
                for (final Region r : space.regions())
                {
                    anyLocked |= r.locked();
                }
                System.out.println("LOCKED AFTER REFUSAL " + anyLocked + " REGIONS " + space.regions().size());
                space.verify();
                space.lock(a, PAGE);
                System.out.println("LOCKED ONE PAGE " + space.regions().get(0).locked());
                space.verify();
            }
        }
        System.out.println("CLOSED");
    }

    @FunctionalInterface
    private interface Call
    {
        Object run() throws Exception;
    }

    private static void report(final String what, final Call call)
    {
        try
        {
            call.run();
            System.out.println(what + " NOT REFUSED");
        }
        catch (final MappingException ex)
        {
            System.out.println(what + " REFUSED " + ex.errnoName() + " :: " + ex.getMessage());
        }
        catch (final Exception ex)
        {
            System.out.println(what + " FAILED " + ex);
        }
    }
}
