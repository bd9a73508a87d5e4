package io.regionmm.examples.logstore;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/**
 * The record format: {@code int bodyLength | byte type | int keyLength | key | value | int crc32c}, where the body
 * is type..value and the CRC covers the body. A zero length marks the end of the written part (the file grows
 * with zeros).
 */
final class Records
{
    static final byte PUT = 1;
    static final byte DELETE = 2;
    static final int HEADER = 4;
    static final int TRAILER = 4;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    private Records()
    {
    }

    static int size(final int keyLength, final int valueLength)
    {
        return HEADER + 1 + 4 + keyLength + valueLength + TRAILER;
    }

    /** Writes a record at {@code offset} of {@code dst}. */
    static void write(final MemorySegment dst, final long offset, final byte type, final byte[] key, final byte[] value)
    {
        final int body = 1 + 4 + key.length + value.length;
        final byte[] bytes = new byte[body];
        bytes[0] = type;
        bytes[1] = (byte)(key.length >>> 24);
        bytes[2] = (byte)(key.length >>> 16);
        bytes[3] = (byte)(key.length >>> 8);
        bytes[4] = (byte)key.length;
        System.arraycopy(key, 0, bytes, 5, key.length);
        System.arraycopy(value, 0, bytes, 5 + key.length, value.length);
        final CRC32C crc = new CRC32C();
        crc.update(bytes);
        // Body and checksum first, the length last: a scan stops at a zero length, so a torn record is never taken.
        MemorySegment.copy(bytes, 0, dst, ValueLayout.JAVA_BYTE, offset + HEADER, body);
        dst.set(INT, offset + HEADER + body, (int)crc.getValue());
        Hooks.reach(Hooks.Point.RECORD_TORN);
        dst.set(INT, offset, body);
    }

    /**
     * A record parsed from a copy of its bytes.
     *
     * @param type   PUT or DELETE.
     * @param key    the key.
     * @param value  the value (empty for DELETE).
     * @param length the whole record's length.
     */
    record Parsed(byte type, byte[] key, byte[] value, int length)
    {
    }

    /** @return where a parsed record's value starts, from the record's start. */
    static int valueOffset(final Parsed r)
    {
        return HEADER + 1 + 4 + r.key().length;
    }

    /**
     * @param src    the bytes.
     * @param offset where the record starts.
     * @param limit  end of the readable bytes.
     * @return the record, or null when there is none (zero length), it is cut off, or its CRC is wrong.
     */
    static Parsed read(final MemorySegment src, final long offset, final long limit)
    {
        if (offset + HEADER > limit)
        {
            return null;
        }
        final int body = src.get(INT, offset);
        if (body < 5 || offset + HEADER + body + TRAILER > limit)
        {
            return null;
        }
        final byte[] bytes = new byte[body];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + HEADER, bytes, 0, body);
        final CRC32C crc = new CRC32C();
        crc.update(bytes);
        if ((int)crc.getValue() != src.get(INT, offset + HEADER + body))
        {
            return null;
        }
        final int keyLength = ((bytes[1] & 0xff) << 24) | ((bytes[2] & 0xff) << 16) | ((bytes[3] & 0xff) << 8) |
            (bytes[4] & 0xff);
        if (keyLength < 0 || 5 + keyLength > body || (bytes[0] != PUT && bytes[0] != DELETE))
        {
            return null;
        }
        final byte[] key = new byte[keyLength];
        System.arraycopy(bytes, 5, key, 0, keyLength);
        final byte[] value = new byte[body - 5 - keyLength];
        System.arraycopy(bytes, 5 + keyLength, value, 0, value.length);
        return new Parsed(bytes[0], key, value, HEADER + body + TRAILER);
    }
}
