package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.regionmm.space.StampedFiles.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The symptoms issue 13 found on 687d7c2 that no other test names: a released handle whose descriptor number was
 * reused by the next open, a bulk read after close, and the window's mapping count the library keeps.
 */
class FaultsAndLimitsTest
{
    @TempDir
    Path dir;

    @Test
    void aReleasedHandleIsRefusedEvenWhenItsDescriptorNumberWasReused() throws Exception
    {
        try (AddressSpace space = AddressSpace.create())
        {
            final FileHandle small = space.openFile(StampedFiles.create(dir, 1, 1), FileAccess.READ_ONLY);
            space.releaseFile(small); // its descriptor closes: the next open may get the same number
            final FileHandle big = space.openFile(StampedFiles.create(dir, 2, 8), FileAccess.READ_ONLY);
            assertEquals(8 * PAGE, space.fileSize(big));
            for (final org.junit.jupiter.api.function.Executable call : java.util.List.<
                org.junit.jupiter.api.function.Executable>of(
                    () -> space.fileSize(small),
                    () -> space.map(small, 0, PAGE, Protection.READ, Sharing.SHARED),
                    () -> space.releaseFile(small)))
            {
                final RegionArgumentException ex = assertThrows(RegionArgumentException.class, call);
                assertTrue(ex.getMessage().contains("was released"), ex.getMessage());
            }
            assertTrue(space.regions().isEmpty());
            space.verify();
        }
    }

    @Test
    void aBulkReadAfterCloseSaysClosed() throws Exception
    {
        final AddressSpace space = AddressSpace.create();
        final FileHandle f = space.openFile(StampedFiles.create(dir, 1, 1), FileAccess.READ_ONLY);
        final long a = space.map(f, 0, PAGE, Protection.READ, Sharing.SHARED);
        space.close();
        assertThrows(SpaceClosedException.class, () -> space.read(a, new byte[16], 0, 16));
        assertThrows(SpaceClosedException.class, () -> space.readLong(a));
    }

    @Test
    void theWindowsMappingCountFollowsEveryWrite() throws Exception
    {
        try (AddressSpace space = AddressSpace.create())
        {
            final FileHandle f = space.openFile(StampedFiles.create(dir, 1, 8), FileAccess.READ_WRITE);
            final long a = space.map(f, 0, 8 * PAGE, Protection.READ, Sharing.SHARED);
            space.protect(a + 2 * PAGE, PAGE, Protection.READ_WRITE);
            space.unmap(a + 5 * PAGE, PAGE);
            space.split(a + PAGE);
            final long b = space.map(f, 0, PAGE, Protection.READ, Sharing.SHARED);
            space.remap(b, 2 * PAGE, false);
            // The library's count is the map's regions and the gaps between them, as the kernel would hold them
            // unmerged: never below the kernel's own count of the window.
            final long kernel = space.checkAgainstKernel().kernel().size();
            final long ours = space.mm().mapCount.window();
            long gaps = 0;
            long at = space.windowStart();
            for (final io.regionmm.region.Region r : space.regions())
            {
                gaps += r.start() > at ? 1 : 0;
                at = r.end();
            }
            gaps += space.windowEnd() > at ? 1 : 0;
            assertEquals(space.regions().size() + gaps, ours);
            assertTrue(ours >= kernel, ours + " < the kernel's " + kernel);
        }
    }
}
