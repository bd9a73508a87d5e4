package io.regionmm.view;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A real file mapped into a real space for the view tests: its bytes are read back with a FileChannel, not through
 * the mapping, so a test sees what reached the file.
 */
public final class LeasedFile implements AutoCloseable
{
    public final Path path;
    public final AddressSpace space;
    public final long address;

    private LeasedFile(final Path path, final AddressSpace space, final long address)
    {
        this.path = path;
        this.space = space;
        this.address = address;
    }

    /**
     * @param path       the file, created or grown to {@code length} bytes.
     * @param length     bytes mapped from offset 0.
     * @param protection READ maps a file opened read-only.
     */
    public static LeasedFile map(final Path path, final long length, final Protection protection) throws IOException
    {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw"))
        {
            f.setLength(length);
        }
        final AddressSpace space = AddressSpace.create();
        final FileHandle file = space.openFile(path,
            protection == Protection.READ ? FileAccess.READ_ONLY : FileAccess.READ_WRITE);
        return new LeasedFile(path, space, space.map(file, 0, length, protection, Sharing.SHARED));
    }

    /** @return {@code length} bytes of the file from {@code offset}, read with a FileChannel. */
    public byte[] fileBytes(final long offset, final int length) throws IOException
    {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ))
        {
            final ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0)
            {
                continue;
            }
            return b.array();
        }
    }

    /** @return the file's 8 bytes at {@code offset}, read as a native-order long. */
    public long fileLong(final long offset) throws IOException
    {
        return ByteBuffer.wrap(fileBytes(offset, 8)).order(java.nio.ByteOrder.nativeOrder()).getLong();
    }

    /** Writes through the file channel, not the mapping: a READ region's content to check later. */
    public void writeFile(final long offset, final byte[] bytes) throws IOException
    {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE))
        {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    @Override
    public void close()
    {
        space.close();
    }
}
