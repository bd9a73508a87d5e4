package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process {@link BiasFindingsTest} starts to show what finding B1 costs a writable lease: a non-blocking section
 * gives up on the lease's region, tries again, and re-protects it to READ under the lease; the lease's next write
 * through its writable segment is then a SIGSEGV, which kills the JVM. Prints one line per step; "SURVIVED" last.
 */
public final class BiasCrashChild
{
    private static final long PAGE = 4096;

    private BiasCrashChild()
    {
    }

    /**
     * @param args a folder.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final Path p = Files.write(Path.of(args[0]).resolve("crash.dat"), new byte[(int)(4 * PAGE)]);
        try (AddressSpace space = AddressSpace.create())
        {
            final FileHandle f = space.openFile(p, FileAccess.READ_WRITE);
            final long a = space.map(f, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
            space.lease(a).close(); // counted: biases the region
            try (Lease lease = space.lease(a)) // through its slot
            {
                final MemorySegment w = lease.writableSegment();
                w.set(ValueLayout.JAVA_LONG, 0, 1);
                System.out.println("LEASED");
                final Thread writer = new Thread(() -> {
                    try (WriteSection s = space.beginWriteNonBlocking())
                    {
                        for (int attempt = 1; attempt <= 2; attempt++)
                        {
                            try
                            {
                                s.protect(a, 4 * PAGE, Protection.READ);
                                System.out.println("ATTEMPT " + attempt + " PROTECTED UNDER THE LEASE");
                                break;
                            }
                            catch (final RegionBusyException ex)
                            {
                                System.out.println("ATTEMPT " + attempt + " BUSY");
                            }
                            catch (final MappingException ex)
                            {
                                System.out.println("ATTEMPT " + attempt + " " + ex);
                            }
                        }
                    }
                }, "writer");
                writer.start();
                writer.join();
                System.out.println("WRITING");
                System.out.flush();
                w.set(ValueLayout.JAVA_LONG, 8, 2);
                System.out.println("SURVIVED");
            }
        }
    }
}
