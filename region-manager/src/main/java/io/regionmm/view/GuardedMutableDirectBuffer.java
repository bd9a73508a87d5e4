package io.regionmm.view;

import io.regionmm.guard.LeaseGuard;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A writable Agrona view of leased memory, made only for leases whose regions are all READ_WRITE (the protection
 * cannot change while the lease pins them): every method checks the lease's guard, then delegates.
 */
final class GuardedMutableDirectBuffer extends GuardedDirectBuffer implements MutableDirectBuffer
{
    GuardedMutableDirectBuffer(final LeaseGuard guard, final long address, final int length)
    {
        super(guard, address, length);
    }

    @Override
    public boolean isExpandable()
    {
        return false; // the lease's memory has the size it has
    }

    @Override
    public void setMemory(final int index, final int length, final byte value)
    {
        guard.check("setMemory");
        buffer.setMemory(index, length, value);
    }

    @Override
    public void putLong(final int index, final long value, final ByteOrder byteOrder)
    {
        guard.check("putLong");
        buffer.putLong(index, value, byteOrder);
    }

    @Override
    public void putLong(final int index, final long value)
    {
        guard.check("putLong");
        buffer.putLong(index, value);
    }

    @Override
    public void putInt(final int index, final int value, final ByteOrder byteOrder)
    {
        guard.check("putInt");
        buffer.putInt(index, value, byteOrder);
    }

    @Override
    public void putInt(final int index, final int value)
    {
        guard.check("putInt");
        buffer.putInt(index, value);
    }

    @Override
    public int putIntAscii(final int index, final int value)
    {
        guard.check("putIntAscii");
        return buffer.putIntAscii(index, value);
    }

    @Override
    public int putNaturalIntAscii(final int index, final int value)
    {
        guard.check("putNaturalIntAscii");
        return buffer.putNaturalIntAscii(index, value);
    }

    @Override
    public int putNaturalIntAsciiFromEnd(final int value, final int endExclusive)
    {
        guard.check("putNaturalIntAsciiFromEnd");
        return buffer.putNaturalIntAsciiFromEnd(value, endExclusive);
    }

    @Override
    public int putNaturalLongAscii(final int index, final long value)
    {
        guard.check("putNaturalLongAscii");
        return buffer.putNaturalLongAscii(index, value);
    }

    @Override
    public int putLongAscii(final int index, final long value)
    {
        guard.check("putLongAscii");
        return buffer.putLongAscii(index, value);
    }

    @Override
    public void putDouble(final int index, final double value, final ByteOrder byteOrder)
    {
        guard.check("putDouble");
        buffer.putDouble(index, value, byteOrder);
    }

    @Override
    public void putDouble(final int index, final double value)
    {
        guard.check("putDouble");
        buffer.putDouble(index, value);
    }

    @Override
    public void putFloat(final int index, final float value, final ByteOrder byteOrder)
    {
        guard.check("putFloat");
        buffer.putFloat(index, value, byteOrder);
    }

    @Override
    public void putFloat(final int index, final float value)
    {
        guard.check("putFloat");
        buffer.putFloat(index, value);
    }

    @Override
    public void putShort(final int index, final short value, final ByteOrder byteOrder)
    {
        guard.check("putShort");
        buffer.putShort(index, value, byteOrder);
    }

    @Override
    public void putShort(final int index, final short value)
    {
        guard.check("putShort");
        buffer.putShort(index, value);
    }

    @Override
    public void putChar(final int index, final char value, final ByteOrder byteOrder)
    {
        guard.check("putChar");
        buffer.putChar(index, value, byteOrder);
    }

    @Override
    public void putChar(final int index, final char value)
    {
        guard.check("putChar");
        buffer.putChar(index, value);
    }

    @Override
    public void putByte(final int index, final byte value)
    {
        guard.check("putByte");
        buffer.putByte(index, value);
    }

    @Override
    public void putBytes(final int index, final byte[] src)
    {
        guard.check("putBytes");
        buffer.putBytes(index, src);
    }

    @Override
    public void putBytes(final int index, final byte[] src, final int offset, final int length)
    {
        guard.check("putBytes");
        buffer.putBytes(index, src, offset, length);
    }

    @Override
    public void putBytes(final int index, final ByteBuffer srcBuffer, final int length)
    {
        guard.check("putBytes");
        buffer.putBytes(index, srcBuffer, length);
    }

    @Override
    public void putBytes(final int index, final ByteBuffer srcBuffer, final int srcIndex, final int length)
    {
        guard.check("putBytes");
        buffer.putBytes(index, srcBuffer, srcIndex, length);
    }

    @Override
    public void putBytes(final int index, final DirectBuffer srcBuffer, final int srcIndex, final int length)
    {
        guard.check("putBytes");
        buffer.putBytes(index, srcBuffer, srcIndex, length);
    }

    @Override
    public int putStringAscii(final int index, final String value)
    {
        guard.check("putStringAscii");
        return buffer.putStringAscii(index, value);
    }

    @Override
    public int putStringAscii(final int index, final CharSequence value)
    {
        guard.check("putStringAscii");
        return buffer.putStringAscii(index, value);
    }

    @Override
    public int putStringAscii(final int index, final String value, final ByteOrder byteOrder)
    {
        guard.check("putStringAscii");
        return buffer.putStringAscii(index, value, byteOrder);
    }

    @Override
    public int putStringAscii(final int index, final CharSequence value, final ByteOrder byteOrder)
    {
        guard.check("putStringAscii");
        return buffer.putStringAscii(index, value, byteOrder);
    }

    @Override
    public int putStringWithoutLengthAscii(final int index, final String value)
    {
        guard.check("putStringWithoutLengthAscii");
        return buffer.putStringWithoutLengthAscii(index, value);
    }

    @Override
    public int putStringWithoutLengthAscii(final int index, final CharSequence value)
    {
        guard.check("putStringWithoutLengthAscii");
        return buffer.putStringWithoutLengthAscii(index, value);
    }

    @Override
    public int putStringWithoutLengthAscii(final int index, final String value, final int valueOffset, final int length)
    {
        guard.check("putStringWithoutLengthAscii");
        return buffer.putStringWithoutLengthAscii(index, value, valueOffset, length);
    }

    @Override
    public int putStringWithoutLengthAscii(final int index, final CharSequence value, final int valueOffset,
        final int length)
    {
        guard.check("putStringWithoutLengthAscii");
        return buffer.putStringWithoutLengthAscii(index, value, valueOffset, length);
    }

    @Override
    public int putStringUtf8(final int index, final String value)
    {
        guard.check("putStringUtf8");
        return buffer.putStringUtf8(index, value);
    }

    @Override
    public int putStringUtf8(final int index, final String value, final ByteOrder byteOrder)
    {
        guard.check("putStringUtf8");
        return buffer.putStringUtf8(index, value, byteOrder);
    }

    @Override
    public int putStringUtf8(final int index, final String value, final int maxEncodedLength)
    {
        guard.check("putStringUtf8");
        return buffer.putStringUtf8(index, value, maxEncodedLength);
    }

    @Override
    public int putStringUtf8(final int index, final String value, final ByteOrder byteOrder, final int maxEncodedLength)
    {
        guard.check("putStringUtf8");
        return buffer.putStringUtf8(index, value, byteOrder, maxEncodedLength);
    }

    @Override
    public int putStringWithoutLengthUtf8(final int index, final String value)
    {
        guard.check("putStringWithoutLengthUtf8");
        return buffer.putStringWithoutLengthUtf8(index, value);
    }

    @Override
    public void putNaturalPaddedIntAscii(final int index, final int length, final int value)
    {
        guard.check("putNaturalPaddedIntAscii");
        buffer.putNaturalPaddedIntAscii(index, length, value);
    }
}
