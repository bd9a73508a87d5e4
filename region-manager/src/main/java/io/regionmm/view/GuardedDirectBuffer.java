package io.regionmm.view;

import io.regionmm.guard.LeaseGuard;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A read-only Agrona view of leased memory: every method checks the lease's guard, then delegates to an
 * {@link UnsafeBuffer} over the leased address. It implements only {@link DirectBuffer}, so it cannot be cast to a
 * {@link MutableDirectBuffer} (a write to a READ region or a tombstone is a SIGSEGV that kills the JVM).
 *
 * <p>Delegation through the interface, not a subclass of UnsafeBuffer: a method a later Agrona adds to the interface
 * fails our compilation until it is guarded here, where a subclass would inherit it unguarded.
 */
class GuardedDirectBuffer implements DirectBuffer
{
    final LeaseGuard guard;
    final UnsafeBuffer buffer;

    GuardedDirectBuffer(final LeaseGuard guard, final long address, final int length)
    {
        this.guard = guard;
        this.buffer = new UnsafeBuffer(address, length);
    }

    private static UnsupportedOperationException cannotWrap()
    {
        // a view re-pointed at other memory would no longer be guarded by the lease that pins this memory
        return new UnsupportedOperationException("wrap: a view of a lease stays on the leased memory; wrap an " +
            "UnsafeBuffer of your own instead");
    }

    @Override
    public void wrap(final byte[] buffer)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final byte[] buffer, final int offset, final int length)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final ByteBuffer buffer)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final ByteBuffer buffer, final int offset, final int length)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final DirectBuffer buffer)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        throw cannotWrap();
    }

    @Override
    public void wrap(final long address, final int length)
    {
        throw cannotWrap();
    }

    @Override
    public byte[] byteArray()
    {
        guard.check("byteArray");
        return null; // off-heap memory: no array, as UnsafeBuffer answers for a wrapped address
    }

    @Override
    public ByteBuffer byteBuffer()
    {
        guard.check("byteBuffer");
        return null; // as UnsafeBuffer answers for a wrapped address
    }

    @Override
    public long addressOffset()
    {
        guard.check("addressOffset");
        return buffer.addressOffset();
    }

    @Override
    public int capacity()
    {
        guard.check("capacity");
        return buffer.capacity();
    }

    @Override
    public void checkLimit(final int limit)
    {
        guard.check("checkLimit");
        buffer.checkLimit(limit);
    }

    @Override
    public long getLong(final int index, final ByteOrder byteOrder)
    {
        guard.check("getLong");
        return buffer.getLong(index, byteOrder);
    }

    @Override
    public long getLong(final int index)
    {
        guard.check("getLong");
        return buffer.getLong(index);
    }

    @Override
    public int getInt(final int index, final ByteOrder byteOrder)
    {
        guard.check("getInt");
        return buffer.getInt(index, byteOrder);
    }

    @Override
    public int getInt(final int index)
    {
        guard.check("getInt");
        return buffer.getInt(index);
    }

    @Override
    public int parseNaturalIntAscii(final int index, final int length)
    {
        guard.check("parseNaturalIntAscii");
        return buffer.parseNaturalIntAscii(index, length);
    }

    @Override
    public long parseNaturalLongAscii(final int index, final int length)
    {
        guard.check("parseNaturalLongAscii");
        return buffer.parseNaturalLongAscii(index, length);
    }

    @Override
    public int parseIntAscii(final int index, final int length)
    {
        guard.check("parseIntAscii");
        return buffer.parseIntAscii(index, length);
    }

    @Override
    public long parseLongAscii(final int index, final int length)
    {
        guard.check("parseLongAscii");
        return buffer.parseLongAscii(index, length);
    }

    @Override
    public double getDouble(final int index, final ByteOrder byteOrder)
    {
        guard.check("getDouble");
        return buffer.getDouble(index, byteOrder);
    }

    @Override
    public double getDouble(final int index)
    {
        guard.check("getDouble");
        return buffer.getDouble(index);
    }

    @Override
    public float getFloat(final int index, final ByteOrder byteOrder)
    {
        guard.check("getFloat");
        return buffer.getFloat(index, byteOrder);
    }

    @Override
    public float getFloat(final int index)
    {
        guard.check("getFloat");
        return buffer.getFloat(index);
    }

    @Override
    public short getShort(final int index, final ByteOrder byteOrder)
    {
        guard.check("getShort");
        return buffer.getShort(index, byteOrder);
    }

    @Override
    public short getShort(final int index)
    {
        guard.check("getShort");
        return buffer.getShort(index);
    }

    @Override
    public char getChar(final int index, final ByteOrder byteOrder)
    {
        guard.check("getChar");
        return buffer.getChar(index, byteOrder);
    }

    @Override
    public char getChar(final int index)
    {
        guard.check("getChar");
        return buffer.getChar(index);
    }

    @Override
    public byte getByte(final int index)
    {
        guard.check("getByte");
        return buffer.getByte(index);
    }

    @Override
    public void getBytes(final int index, final byte[] dst)
    {
        guard.check("getBytes");
        buffer.getBytes(index, dst);
    }

    @Override
    public void getBytes(final int index, final byte[] dst, final int offset, final int length)
    {
        guard.check("getBytes");
        buffer.getBytes(index, dst, offset, length);
    }

    @Override
    public void getBytes(final int index, final MutableDirectBuffer dstBuffer, final int dstIndex, final int length)
    {
        guard.check("getBytes");
        buffer.getBytes(index, dstBuffer, dstIndex, length);
    }

    @Override
    public void getBytes(final int index, final ByteBuffer dstBuffer, final int length)
    {
        guard.check("getBytes");
        buffer.getBytes(index, dstBuffer, length);
    }

    @Override
    public void getBytes(final int index, final ByteBuffer dstBuffer, final int dstOffset, final int length)
    {
        guard.check("getBytes");
        buffer.getBytes(index, dstBuffer, dstOffset, length);
    }

    @Override
    public String getStringAscii(final int index)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index);
    }

    @Override
    public int getStringAscii(final int index, final Appendable appendable)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index, appendable);
    }

    @Override
    public String getStringAscii(final int index, final ByteOrder byteOrder)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index, byteOrder);
    }

    @Override
    public int getStringAscii(final int index, final Appendable appendable, final ByteOrder byteOrder)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index, appendable, byteOrder);
    }

    @Override
    public String getStringAscii(final int index, final int length)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index, length);
    }

    @Override
    public int getStringAscii(final int index, final int length, final Appendable appendable)
    {
        guard.check("getStringAscii");
        return buffer.getStringAscii(index, length, appendable);
    }

    @Override
    public String getStringWithoutLengthAscii(final int index, final int length)
    {
        guard.check("getStringWithoutLengthAscii");
        return buffer.getStringWithoutLengthAscii(index, length);
    }

    @Override
    public int getStringWithoutLengthAscii(final int index, final int length, final Appendable appendable)
    {
        guard.check("getStringWithoutLengthAscii");
        return buffer.getStringWithoutLengthAscii(index, length, appendable);
    }

    @Override
    public String getStringUtf8(final int index)
    {
        guard.check("getStringUtf8");
        return buffer.getStringUtf8(index);
    }

    @Override
    public String getStringUtf8(final int index, final ByteOrder byteOrder)
    {
        guard.check("getStringUtf8");
        return buffer.getStringUtf8(index, byteOrder);
    }

    @Override
    public String getStringUtf8(final int index, final int length)
    {
        guard.check("getStringUtf8");
        return buffer.getStringUtf8(index, length);
    }

    @Override
    public String getStringWithoutLengthUtf8(final int index, final int length)
    {
        guard.check("getStringWithoutLengthUtf8");
        return buffer.getStringWithoutLengthUtf8(index, length);
    }

    @Override
    public void boundsCheck(final int index, final int length)
    {
        guard.check("boundsCheck");
        buffer.boundsCheck(index, length);
    }

    @Override
    public int wrapAdjustment()
    {
        guard.check("wrapAdjustment");
        return buffer.wrapAdjustment();
    }

    @Override
    public int compareTo(final DirectBuffer that)
    {
        guard.check("compareTo");
        return buffer.compareTo(that);
    }

    /** Identity: two views are equal only when they are the same view (content equality would read the memory). */
    @Override
    public boolean equals(final Object obj)
    {
        return this == obj;
    }

    @Override
    public int hashCode()
    {
        return System.identityHashCode(this);
    }

    /** Never reads the memory, so it works after the lease closed (in a debugger, in a log line). */
    @Override
    public String toString()
    {
        return getClass().getSimpleName() + "{" + guard.description() + ", capacity=" + buffer.capacity() +
            (guard.isOpen() ? "" : ", closed") + "}";
    }
}
