package io.regionmm.examples.logstore;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * A flyweight that reads one record's fields from a {@link DirectBuffer} (the format: {@link Records}), as an SBE
 * decoder does: {@link #wrap} it at a record's offset, then call the getters named after the fields. It holds no
 * copy: every getter reads the buffer, so a decoder over a lease's view works only while the lease is open, on its
 * thread, as the view does. Check {@link #isFramed} before reading the key or the value.
 */
final class RecordDecoder
{
    private DirectBuffer buffer;
    private int offset;

    /**
     * @param buffer the bytes.
     * @param offset where the record starts.
     * @return this.
     */
    RecordDecoder wrap(final DirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * @param limit end of the readable bytes (at most the buffer's capacity).
     * @return true when a non-zero length is there, the body and checksum it announces end by {@code limit}, and
     *         the key fits the body; not that the checksum is right.
     */
    boolean isFramed(final int limit)
    {
        if ((long)offset + Records.HEADER > limit)
        {
            return false;
        }
        final int body = bodyLength();
        if (body < Records.FIXED_BODY || (long)offset + Records.HEADER + body + Records.TRAILER > limit)
        {
            return false;
        }
        final int keyLength = keyLength();
        return keyLength >= 0 && keyLength <= body - Records.FIXED_BODY;
    }

    /** @return the body's length (type..value); zero where nothing is written. */
    int bodyLength()
    {
        return buffer.getInt(offset + Records.BODY_LENGTH_OFFSET);
    }

    /** @return PUT or DELETE (anything else in a corrupt record). */
    byte type()
    {
        return buffer.getByte(offset + Records.TYPE_OFFSET);
    }

    /** @return the key's length. */
    int keyLength()
    {
        return buffer.getInt(offset + Records.KEY_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    /** @return a copy of the key. */
    byte[] key()
    {
        final byte[] key = new byte[keyLength()];
        buffer.getBytes(offset + Records.KEY_OFFSET, key);
        return key;
    }

    /** @return where the value starts, from the record's start. */
    int valueOffset()
    {
        return Records.KEY_OFFSET + keyLength();
    }

    /** @return the value's length. */
    int valueLength()
    {
        return bodyLength() - Records.FIXED_BODY - keyLength();
    }

    /** @return a copy of the value. */
    byte[] value()
    {
        final byte[] value = new byte[valueLength()];
        buffer.getBytes(offset + valueOffset(), value);
        return value;
    }

    /** @return the stored CRC32C of the body. */
    int checksum()
    {
        return buffer.getInt(offset + Records.HEADER + bodyLength());
    }

    /** @return the whole record's length: length, body, checksum. */
    int encodedLength()
    {
        return Records.HEADER + bodyLength() + Records.TRAILER;
    }
}
