package io.regionmm.space;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The README's example ("Reading and writing from many threads"), line for line but one (kept: the lease's writable
 * segment, to check it dies with the lease), with what it promises checked.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReadmeExampleTest
{
    @TempDir
    Path dir;

    @Test
    void theReadmeExampleDoesWhatItSays() throws Exception
    {
        final Path path = dir.resolve("data");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
        {
            f.setLength(1 << 20);
        }
        MemorySegment stale;
        try (AddressSpace space = AddressSpace.create())
        {
            // --- the README's example, from here
            FileHandle file = space.openFile(path, FileAccess.READ_WRITE);
            long a = space.map(file, 0, 1 << 20, Protection.READ_WRITE, Sharing.SHARED); // its own write section
            try (Lease lease = space.lease(a + 4096)) // pins the region: no unmap, move, shrink or protect meanwhile
            {
                lease.writableSegment().set(ValueLayout.JAVA_LONG, 4096, 42); // index 0 is the region's start
                stale = lease.writableSegment(); // not in the README
            }
            long v = space.readLong(a + 4096); // speculative; falls back to a pin, then to the shared lock
            try (WriteSection w = space.beginWrite()) // one section, many changes: readers of other regions go on
            {
                w.split(a + (512 << 10));
                w.protect(a + (512 << 10), 512 << 10, Protection.READ);
            }
            space.unmap(a, 1 << 20);
            // --- to here
            assertEquals(42, v, "the lease's write, read back speculatively");
            final MemorySegment closed = stale;
            assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_LONG, 0),
                "a writable segment dies with its lease");
            assertEquals(0, space.regions().size());
            space.verify(); // the kernel agrees: nothing of ours is mapped in the window any more
        }
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r"))
        {
            f.seek(4096);
            assertEquals(42, Long.reverseBytes(f.readLong()), "the write reached the file (shared mapping)");
        }
    }
}
