package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process {@link MapCountLimitTest} fills to vm.max_map_count: maps one-page regions side by side that cannot
 * merge (alternating protections) until a write is refused, then prints what it saw. One line per fact, so the
 * parent can assert each; any uncaught throwable ends the process with a non-zero status.
 */
public final class MapCountChild
{
    private MapCountChild()
    {
    }

    /**
     * @param args a folder for the file.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final Path file = Files.write(Path.of(args[0]).resolve("page.dat"), new byte[4096]);
        // A second, tiny space: one mapping the child gives back after the refusal. At the kernel's own limit even
        // an unmap needs a free mapping (the tombstone goes in with MAP_FIXED, which the kernel refuses at the
        // limit); the library's reserve is there so that never happens.
        final AddressSpace spare = AddressSpace.create(io.regionmm.kernel.Kernel.system(), 16 * 4096);
        try (AddressSpace space = AddressSpace.create())
        {
            final long page = space.pageSize();
            final FileHandle f = space.openFile(file, FileAccess.READ_WRITE);
            final long start = space.windowStart() + page; // a tombstone before the first region
            // What the child does after the refusal it has done once before (the library warms up only its
            // error paths): an unmap, a check against the kernel.
            space.map(f, 0, page, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(start));
            space.unmap(start, page);
            space.verify();
            final long began = System.nanoTime();
            long n = 0;
            MappingException refused = null;
            while (refused == null)
            {
                try
                {
                    space.map(f, 0, page, n % 2 == 0 ? Protection.READ : Protection.READ_WRITE, Sharing.SHARED,
                        MapOptions.DEFAULT.at(start + n * page));
                    n++;
                }
                catch (final MappingException ex)
                {
                    refused = ex;
                }
            }
            // First give mappings back (at the kernel's own limit the JVM itself can map nothing, not even memory
            // for a class it has yet to load), then look: the map equals the kernel's, and mapping works again.
            spare.close();
            space.unmap(start + (n - 100) * page, 100 * page);
            System.out.println("MAPPED " + n + " in " + (System.nanoTime() - began) / 1_000_000 + " ms");
            System.out.println("REFUSED " + refused.getClass().getSimpleName() + " errno=" + refused.errnoName() +
                " :: " + refused.getMessage());
            System.out.println("REGIONS " + (space.regions().size() + 100));
            space.verify();
            System.out.println("VERIFIED");
            space.map(f, 0, page, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT.at(start + (n - 100) * page));
            space.verify();
            System.out.println("MAPPED AGAIN");
        }
        System.out.println("CLOSED");
    }
}
