package io.regionmm.examples.logstore;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/**
 * The record format, and how a record is written and read through its codec ({@link RecordEncoder},
 * {@link RecordDecoder}, flyweights over Agrona buffers):
 *
 * <pre>
 *   0  int  bodyLength   machine order (as Agrona's and the FFM API's plain ints; little-endian on x86)
 *   4  byte type         PUT or DELETE
 *   5  int  keyLength    big-endian
 *   9       key          keyLength bytes
 *           value        bodyLength - 5 - keyLength bytes
 *      int  checksum     machine order: CRC32C of the body (type..value), at 4 + bodyLength
 * </pre>
 *
 * <p>A zero length marks the end of the written part (the file grows with zeros).
 */
final class Records
{
    static final byte PUT = 1;
    static final byte DELETE = 2;
    /** The length before the body. */
    static final int HEADER = 4;
    /** The checksum after the body. */
    static final int TRAILER = 4;
    /** The body's fixed part: type and keyLength. */
    static final int FIXED_BODY = 1 + 4;
    // Where the fields start, from the record's start (the value follows the key, the checksum the value).
    static final int BODY_LENGTH_OFFSET = 0;
    static final int TYPE_OFFSET = HEADER;
    static final int KEY_LENGTH_OFFSET = TYPE_OFFSET + 1;
    static final int KEY_OFFSET = KEY_LENGTH_OFFSET + 4;

    private Records()
    {
    }

    static int size(final int keyLength, final int valueLength)
    {
        return HEADER + FIXED_BODY + keyLength + valueLength + TRAILER;
    }

    /** Writes a record at {@code offset} of {@code dst}. */
    static void write(final MutableDirectBuffer dst, final int offset, final byte type, final byte[] key,
        final byte[] value)
    {
        final RecordEncoder record = new RecordEncoder().wrap(dst, offset);
        // Body and checksum first, the length last: a scan stops at a zero length, so a torn record is never taken.
        record.type(type).key(key).value(value).checksum(checksum(type, key, value));
        Hooks.reach(Hooks.Point.RECORD_TORN);
        record.bodyLength(FIXED_BODY + key.length + value.length);
    }

    /** @return the CRC32C of the body {@code type | keyLength (big-endian) | key | value}. */
    static int checksum(final byte type, final byte[] key, final byte[] value)
    {
        final CRC32C crc = new CRC32C();
        crc.update(type);
        crc.update(key.length >>> 24); // update(int) takes the low byte: keyLength's four bytes, big-endian
        crc.update(key.length >>> 16);
        crc.update(key.length >>> 8);
        crc.update(key.length);
        crc.update(key);
        crc.update(value);
        return (int)crc.getValue();
    }

    /**
     * A record decoded from, and checked against, its bytes.
     *
     * @param type        PUT or DELETE.
     * @param key         the key.
     * @param value       the value (empty for DELETE).
     * @param length      the whole record's length.
     * @param valueOffset where the value starts, from the record's start.
     */
    record Parsed(byte type, byte[] key, byte[] value, int length, int valueOffset)
    {
    }

    /**
     * @param src    the bytes.
     * @param offset where the record starts.
     * @param limit  end of the readable bytes (at most {@code src}'s capacity).
     * @return the record, or null when there is none (zero length), it is cut off, or its CRC is wrong.
     */
    static Parsed read(final DirectBuffer src, final int offset, final int limit)
    {
        final RecordDecoder record = new RecordDecoder().wrap(src, offset);
        if (!record.isFramed(limit))
        {
            return null;
        }
        final byte type = record.type();
        final byte[] key = record.key();
        final byte[] value = record.value();
        if (record.checksum() != checksum(type, key, value) || (type != PUT && type != DELETE))
        {
            return null;
        }
        return new Parsed(type, key, value, record.encodedLength(), record.valueOffset());
    }

    /**
     * The end-of-log rule's check (the file grows with zeros, so nothing may follow the last record): a byte written
     * after it means a torn or stray write.
     *
     * @return the offset of the first non-zero byte in [from, to) of {@code mem}, or -1.
     */
    static long firstNonZero(final MemorySegment mem, final long from, final long to)
    {
        for (long p = from; p < to; p++)
        {
            if (p % Long.BYTES == 0 && p + Long.BYTES <= to)
            {
                if (mem.get(ValueLayout.JAVA_LONG_UNALIGNED, p) == 0)
                {
                    p += Long.BYTES - 1;
                    continue;
                }
            }
            if (mem.get(ValueLayout.JAVA_BYTE, p) != 0)
            {
                return p;
            }
        }
        return -1;
    }
}
