package io.regionmm.consumer;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Maps a temporary file through the installed regionmm modules, reads a long the file holds, writes one through a
 * lease and finds it in the file after the space is closed. Exits non-zero (an exception) on any mismatch.
 */
public final class Consumer
{
    private static final long FIRST = 0x1122_3344_5566_7788L;
    private static final long SECOND = 42;

    private Consumer()
    {
    }

    /**
     * @param args none.
     * @throws IOException when the temporary file cannot be written or read.
     */
    public static void main(final String[] args) throws IOException
    {
        check("io.regionmm.region".equals(AddressSpace.class.getModule().getName()),
            "AddressSpace is in " + AddressSpace.class.getModule() + ", not in the named module io.regionmm.region");
        final Path dir = Files.createTempDirectory("regionmm-consumer");
        final Path path = dir.resolve("data");
        try
        {
            run(path);
        }
        finally
        {
            Files.deleteIfExists(path);
            Files.delete(dir);
        }
    }

    private static void run(final Path path) throws IOException
    {
        final long page;
        try (AddressSpace space = AddressSpace.create())
        {
            page = space.pageSize();
            writeLong(path, 2 * page, 8, FIRST);

            final FileHandle file = space.openFile(path, FileAccess.READ_WRITE);
            check(space.fileSize(file) == 2 * page, "fileSize " + space.fileSize(file) + ", expected " + 2 * page);
            final long a = space.map(file, 0, 2 * page, Protection.READ_WRITE, Sharing.SHARED);

            check(space.readLong(a + 8) == FIRST, "readLong read " + Long.toHexString(space.readLong(a + 8)));
            try (Lease lease = space.lease(a + page))
            {
                lease.writableSegment().set(ValueLayout.JAVA_LONG, page, SECOND); // index 0 is the region's start
            }
            check(space.readLong(a + page) == SECOND, "readLong after the write read " + space.readLong(a + page));

            final List<Region> regions = space.regions();
            check(regions.size() == 1 && regions.get(0).start() == a, "regions " + regions);
        }
        check(readLong(path, page) == SECOND, "the file does not hold the shared mapping's write");
        System.out.println("regionmm consumer check: mapped, read and wrote through the modules " +
            AddressSpace.class.getModule().getDescriptor().toNameAndVersion() + " and " +
            FileAccess.class.getModule().getLayer().findModule("io.regionmm.kernel")
                .map(m -> m.getDescriptor().toNameAndVersion()).orElse("?"));
    }

    private static void writeLong(final Path path, final long size, final long offset, final long value)
        throws IOException
    {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            ch.truncate(0);
            final ByteBuffer b = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder()).putLong(0, value);
            ch.write(b, offset);
            ch.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    private static long readLong(final Path path, final long offset) throws IOException
    {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ))
        {
            final ByteBuffer b = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.nativeOrder());
            ch.read(b, offset);
            return b.getLong(0);
        }
    }

    private static void check(final boolean ok, final String what)
    {
        if (!ok)
        {
            throw new AssertionError(what);
        }
    }
}
