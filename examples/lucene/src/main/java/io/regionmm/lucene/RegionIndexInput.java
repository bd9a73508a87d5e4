package io.regionmm.lucene;

import io.regionmm.region.Advice;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.RandomAccessInput;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.Optional;

/**
 * An {@link IndexInput} (and {@link RandomAccessInput}) over a file mapped as a region of a {@link RegionDirectory}'s
 * address space. Every read copies from the input's segment, a read-only slice of the space's window, and then
 * validates through the shared {@link MappedFile}: no lease, no lookup, no allocation on the hot path.
 *
 * <p>As with {@code MMapDirectory}: closing the input that {@link RegionDirectory#openInput} returned unmaps the file;
 * its clones and slices then throw {@link AlreadyClosedException}; closing a clone or slice only makes that one
 * unusable. Not thread-safe (as every {@link IndexInput}): one thread per clone.
 */
final class RegionIndexInput extends IndexInput implements RandomAccessInput
{
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    /** This input's first byte in the file (non-zero for slices). */
    private final long offset;
    private final long length;
    private boolean isClone;
    /** [offset, offset + length) of the file; null once this input (master, clone or slice) is closed. */
    private MemorySegment segment;
    private long pos;

    RegionIndexInput(final String description, final MappedFile file, final long offset, final long length,
        final MemorySegment segment, final boolean isClone)
    {
        super(description);
        this.file = file;
        this.offset = offset;
        this.length = length;
        this.segment = segment;
        this.isClone = isClone;
    }

    // ------------------------------------------------------------------ sequential reads

    @Override
    public byte readByte() throws IOException
    {
        final long p = pos;
        final byte v;
        try
        {
            v = segment.get(BYTE, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("read", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + 1;
        return v;
    }

    @Override
    public void readBytes(final byte[] b, final int off, final int len) throws IOException
    {
        Objects.checkFromIndexSize(off, len, b.length); // the caller's array is wrong, not the file short
        final long p = pos;
        try
        {
            MemorySegment.copy(segment, BYTE, p, b, off, len);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readBytes", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + len;
    }

    @Override
    public short readShort() throws IOException
    {
        final long p = pos;
        final short v;
        try
        {
            v = segment.get(LE_SHORT, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readShort", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + Short.BYTES;
        return v;
    }

    @Override
    public int readInt() throws IOException
    {
        final long p = pos;
        final int v;
        try
        {
            v = segment.get(LE_INT, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readInt", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + Integer.BYTES;
        return v;
    }

    @Override
    public long readLong() throws IOException
    {
        final long p = pos;
        final long v;
        try
        {
            v = segment.get(LE_LONG, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readLong", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + Long.BYTES;
        return v;
    }

    @Override
    public int readVInt() throws IOException
    {
        return super.readVInt(); // as MMapDirectory's input: a smaller method the JIT inlines better (LUCENE-10366)
    }

    @Override
    public long readVLong() throws IOException
    {
        return super.readVLong();
    }

    @Override
    public void readLongs(final long[] dst, final int off, final int len) throws IOException
    {
        final long p = pos;
        try
        {
            MemorySegment.copy(segment, LE_LONG, p, dst, off, len);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readLongs", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + (long) Long.BYTES * len;
    }

    @Override
    public void readInts(final int[] dst, final int off, final int len) throws IOException
    {
        final long p = pos;
        try
        {
            MemorySegment.copy(segment, LE_INT, p, dst, off, len);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readInts", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + (long) Integer.BYTES * len;
    }

    @Override
    public void readFloats(final float[] dst, final int off, final int len) throws IOException
    {
        final long p = pos;
        try
        {
            MemorySegment.copy(segment, LE_FLOAT, p, dst, off, len);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readFloats", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        pos = p + (long) Float.BYTES * len;
    }

    // ------------------------------------------------------------------ positional reads (RandomAccessInput)

    @Override
    public byte readByte(final long p) throws IOException
    {
        final byte v;
        try
        {
            v = segment.get(BYTE, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readByte", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        return v;
    }

    @Override
    public void readBytes(final long p, final byte[] b, final int off, final int len) throws IOException
    {
        try
        {
            MemorySegment.copy(segment, BYTE, p, b, off, len);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readBytes", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
    }

    @Override
    public short readShort(final long p) throws IOException
    {
        final short v;
        try
        {
            v = segment.get(LE_SHORT, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readShort", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        return v;
    }

    @Override
    public int readInt(final long p) throws IOException
    {
        final int v;
        try
        {
            v = segment.get(LE_INT, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readInt", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        return v;
    }

    @Override
    public long readLong(final long p) throws IOException
    {
        final long v;
        try
        {
            v = segment.get(LE_LONG, p);
        }
        catch (final IndexOutOfBoundsException ex)
        {
            throw eof("readLong", p, ex);
        }
        catch (final NullPointerException | IllegalStateException ex)
        {
            throw closed(ex);
        }
        file.validate();
        return v;
    }

    // ------------------------------------------------------------------ position, clones, slices

    @Override
    public long getFilePointer()
    {
        ensureOpen();
        return pos;
    }

    @Override
    public void seek(final long p) throws IOException
    {
        ensureOpen();
        if (p < 0)
        {
            throw new IllegalArgumentException("seek to a negative position (pos=" + p + "): " + this);
        }
        if (p > length)
        {
            throw new EOFException("seek past EOF (pos=" + p + ", length=" + length + "): " + this);
        }
        pos = p;
    }

    @Override
    public long length()
    {
        return length;
    }

    @Override
    public RegionIndexInput clone()
    {
        ensureOpen();
        final RegionIndexInput c = (RegionIndexInput) super.clone();
        c.isClone = true;
        return c;
    }

    @Override
    public RegionIndexInput slice(final String sliceDescription, final long sliceOffset, final long sliceLength)
    {
        ensureOpen();
        if (sliceOffset < 0 || sliceLength < 0 || sliceOffset > length - sliceLength)
        {
            throw new IllegalArgumentException("slice() " + sliceDescription + " out of bounds: offset=" +
                sliceOffset + ", length=" + sliceLength + ", fileLength=" + length + ": " + this);
        }
        return new RegionIndexInput(getFullSliceDescription(sliceDescription), file,
            offset + sliceOffset, sliceLength, segment.asSlice(sliceOffset, sliceLength), true);
    }

    @Override
    public void close() throws IOException
    {
        if (segment == null)
        {
            return;
        }
        segment = null; // this input (clone or not) throws AlreadyClosedException from now on
        if (!isClone)
        {
            file.unmap();
        }
    }

    // ------------------------------------------------------------------ hints

    @Override
    public void prefetch(final long from, final long bytes) throws IOException
    {
        ensureOpen();
        Objects.checkFromIndexSize(from, bytes, length); // as MMapDirectory: IndexOutOfBoundsException
        // MADV_WILLNEED takes the space's mm lock (shared), and regionmm has no cheap residency check (mincore)
        // yet to skip it for cached pages as MMapDirectory does: so advise on the 1st, 2nd,
        // 4th, 8th, ... prefetch of the file (counted across the master, its clones and slices: Lucene clones an
        // input per query), as MMapDirectory does after a run of page-cache hits.
        if (!file.countPrefetch())
        {
            return;
        }
        file.advise(offset + from, bytes, Advice.WILLNEED);
    }

    /**
     * Applies a lasting read advice to this input's range of the file (all of it for the input the directory returned).
     *
     * @param advice NORMAL, RANDOM or SEQUENTIAL.
     * @throws IOException when the kernel refuses.
     */
    void advise(final Advice advice) throws IOException
    {
        ensureOpen();
        file.advise(offset, length, advice);
    }

    @Override
    public Optional<Boolean> isLoaded()
    {
        return Optional.empty(); // regionmm has no mincore yet; Lucene reads empty as "cannot tell"
    }

    // ------------------------------------------------------------------ failures (cold)

    private void ensureOpen()
    {
        if (segment == null || file.isClosed())
        {
            throw file.alreadyClosed(null);
        }
    }

    /** An index past the end: EOF, unless the mapping closed meanwhile (then the read is void either way). */
    private IOException eof(final String op, final long p, final IndexOutOfBoundsException ex)
    {
        if (segment == null || file.isClosed())
        {
            throw file.alreadyClosed(ex);
        }
        if (p < 0)
        {
            throw new IllegalArgumentException(op + " at a negative position (pos=" + p + "): " + this, ex);
        }
        final EOFException eof = new EOFException(op + " past EOF (pos=" + p + ", length=" + length + "): " + this);
        eof.initCause(ex);
        return eof;
    }

    /**
     * A null segment (this input closed) or a closed arena (the directory's space closed) is a read after close; any
     * other null or state failure is a bug and stays what it is.
     */
    private RuntimeException closed(final RuntimeException ex)
    {
        if (segment == null || file.isClosed() || !segmentAlive())
        {
            return file.alreadyClosed(ex);
        }
        return ex;
    }

    private boolean segmentAlive()
    {
        final MemorySegment s = segment;
        return s != null && s.scope().isAlive();
    }

    /** @return the mapping, for tests of this package. */
    MappedFile mappedFile()
    {
        return file;
    }

    /** @return whether this is a clone or slice (closing it unmaps nothing). */
    boolean isClone()
    {
        return isClone;
    }

    /** @return a message-only check that the input is still usable, for {@link AlreadyClosedException} tests. */
    boolean isOpen()
    {
        return segment != null && !file.isClosed();
    }
}
