package io.regionmm.space;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Test files whose every page starts with a stamp naming the file and the page, so a read through any mapping
 * can be checked against what the map says is there.
 */
final class StampedFiles
{
    static final long PAGE = 4096;

    private StampedFiles()
    {
    }

    static long stamp(final int fileId, final long pageIndex)
    {
        return 0x57A0_0000_0000_0000L | ((long)fileId << 32) | pageIndex;
    }

    static Path create(final Path dir, final int fileId, final int pages) throws IOException
    {
        final Path p = dir.resolve("file" + fileId + ".dat");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING))
        {
            final ByteBuffer buf = ByteBuffer.allocate((int)PAGE).order(ByteOrder.nativeOrder());
            for (int i = 0; i < pages; i++)
            {
                buf.clear();
                buf.putLong(0, stamp(fileId, i));
                for (int b = 8; b < PAGE; b += 8)
                {
                    buf.putLong(b, stamp(fileId, i) ^ b);
                }
                ch.write(buf, i * PAGE);
            }
        }
        return p;
    }

    static long readStampFromFile(final Path p, final long offset) throws IOException
    {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ))
        {
            final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            ch.read(buf, offset);
            return buf.getLong(0);
        }
    }
}
