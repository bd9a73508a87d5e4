package io.regionmm.examples.logstore;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * A flyweight that writes one record's fields into a {@link MutableDirectBuffer} (the format: {@link Records}), as
 * an SBE encoder does: {@link #wrap} it at the record's offset, then call the setters named after the fields, the
 * variable-length ones in their order ({@link #key}, then {@link #value}, then {@link #checksum}, each written where
 * the one before ended). {@link #bodyLength} may come at any time; {@link Records#write} sets it last, so that a
 * scan never takes a record whose body is not all there.
 */
final class RecordEncoder
{
    private MutableDirectBuffer buffer;
    private int offset;
    private int limit; // where the next variable-length field goes

    /**
     * @param buffer the bytes.
     * @param offset where the record starts.
     * @return this.
     */
    RecordEncoder wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.limit = offset + Records.KEY_OFFSET;
        return this;
    }

    /**
     * @param bodyLength the body's length (type..value).
     * @return this.
     */
    RecordEncoder bodyLength(final int bodyLength)
    {
        buffer.putInt(offset + Records.BODY_LENGTH_OFFSET, bodyLength);
        return this;
    }

    /**
     * @param type PUT or DELETE.
     * @return this.
     */
    RecordEncoder type(final byte type)
    {
        buffer.putByte(offset + Records.TYPE_OFFSET, type);
        return this;
    }

    /**
     * Writes the key's length and the key.
     *
     * @param key the key.
     * @return this.
     */
    RecordEncoder key(final byte[] key)
    {
        buffer.putInt(offset + Records.KEY_LENGTH_OFFSET, key.length, ByteOrder.BIG_ENDIAN);
        buffer.putBytes(offset + Records.KEY_OFFSET, key);
        limit = offset + Records.KEY_OFFSET + key.length;
        return this;
    }

    /**
     * Writes the value after the key.
     *
     * @param value the value.
     * @return this.
     */
    RecordEncoder value(final byte[] value)
    {
        buffer.putBytes(limit, value);
        limit += value.length;
        return this;
    }

    /**
     * Writes the checksum after the value.
     *
     * @param checksum the CRC32C of the body ({@link Records#checksum}).
     * @return this.
     */
    RecordEncoder checksum(final int checksum)
    {
        buffer.putInt(limit, checksum);
        limit += Records.TRAILER;
        return this;
    }
}
