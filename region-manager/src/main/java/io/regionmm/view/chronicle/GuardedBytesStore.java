package io.regionmm.view.chronicle;

import io.regionmm.guard.LeaseGuard;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.PointerBytesStore;
import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.bytes.VanillaBytes;
import net.openhft.chronicle.bytes.internal.NativeBytesStore;

import java.nio.ByteBuffer;

/**
 * A Chronicle {@link BytesStore} over leased memory that checks the lease's guard before it touches the memory.
 *
 * <p>Chronicle's stores are classes with hundreds of methods, not an interface we could wrap, so this subclasses
 * {@link PointerBytesStore} and guards the few methods every access goes through: {@code translate} (every
 * {@code readX(offset)}/{@code writeX(offset)} of the native store computes its address with it),
 * {@code addressForRead}/{@code addressForWrite} (bulk copies, Bytes' fast paths), and the handful that use the raw
 * address directly ({@code move}, {@code copy}, {@code readIncompleteLong}, {@code byteCheckSum},
 * {@code toTemporaryDirectByteBuffer}). Every method that stores is overridden too: refused before any store on a
 * read-only view, and bounds-checked by its size on a writable one (the native store itself does not check bounds,
 * and a store past the leased memory could land in a READ region). Cost: the guard's compare per access, through
 * one more virtual call that the JIT inlines while this is the only {@code translate} it sees at that call site.
 *
 * <p>What this cannot guard: Chronicle's public fields {@code address} and {@code memory} (a caller that reads the
 * raw address has a raw pointer, as with {@code MemorySegment.address()}).
 */
final class GuardedBytesStore extends PointerBytesStore
{
    private final LeaseGuard guard;
    private final long length;
    private final boolean writable;
    private boolean placed; // set() calls setAddress(): allowed once, from the constructor

    GuardedBytesStore(final LeaseGuard guard, final long address, final long length, final boolean writable)
    {
        this.guard = guard;
        this.length = length;
        this.writable = writable;
        super.set(address, length);
        placed = true;
    }

    private void checkWrite(final String op, final long offset, final long size)
    {
        guard.check(op);
        if (!writable)
        {
            throw new IllegalStateException(op + ": this Chronicle view of the " + guard.description() +
                " is read-only (a store into a READ region would kill the JVM)");
        }
        if (offset < 0 || size < 0 || offset > length - size)
        {
            throw new IndexOutOfBoundsException(op + ": [" + offset + ", +" + size + ") is outside the view of the " +
                guard.description() + " (" + length + " bytes)");
        }
    }

    @Override
    public void set(final long address, final long capacity)
    {
        throw new UnsupportedOperationException("set: a view of a lease stays on the leased memory");
    }

    @Override
    public void setAddress(final long address)
    {
        if (placed)
        {
            throw new UnsupportedOperationException("setAddress: a view of a lease stays on the leased memory");
        }
        super.setAddress(address);
    }

    @Override
    public VanillaBytes<Void> bytesForWrite()
    {
        checkWrite("bytesForWrite", 0, 0);
        final VanillaBytes<Void> bytes = super.bytesForWrite();
        bytes.writeLimit(length); // PointerBytesStore's own Bytes would write up to Long.MAX_VALUE
        return bytes;
    }

    /** The default would call {@link #bytesForWrite()}, refused on a read-only store; its stores are guarded. */
    @Override
    public Bytes<Void> bytesForRead()
    {
        guard.check("bytesForRead");
        final VanillaBytes<Void> bytes = super.bytesForWrite();
        bytes.writeLimit(length);
        bytes.readLimit(length);
        return bytes;
    }

    @Override
    public BytesStore<NativeBytesStore<Void>, Void> copy()
    {
        guard.check("copy");
        return super.copy();
    }

    /**
     * Identity, like the Agrona views: Chronicle's content equality (and content hash) would read the memory, and so
     * throw once the lease closed, inside a collection that holds the store. {@code contentEquals} compares content.
     */
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
        return "GuardedBytesStore{" + guard.description() + ", " + length + " bytes" +
            (writable ? "" : ", read-only") + (guard.isOpen() ? "" : ", closed") + "}";
    }

    @Override
    public PointerBytesStore writeByte(final long offset, final byte i8)
    {
        checkWrite("writeByte", offset, 1);
        super.writeByte(offset, i8);
        return this;
    }

    @Override
    public PointerBytesStore writeShort(final long offset, final short i16)
    {
        checkWrite("writeShort", offset, 2);
        super.writeShort(offset, i16);
        return this;
    }

    @Override
    public PointerBytesStore writeInt(final long offset, final int i32)
    {
        checkWrite("writeInt", offset, 4);
        super.writeInt(offset, i32);
        return this;
    }

    @Override
    public PointerBytesStore writeOrderedInt(final long offset, final int i32)
    {
        checkWrite("writeOrderedInt", offset, 4);
        super.writeOrderedInt(offset, i32);
        return this;
    }

    @Override
    public PointerBytesStore writeLong(final long offset, final long i64)
    {
        checkWrite("writeLong", offset, 8);
        super.writeLong(offset, i64);
        return this;
    }

    @Override
    public PointerBytesStore writeOrderedLong(final long offset, final long i64)
    {
        checkWrite("writeOrderedLong", offset, 8);
        super.writeOrderedLong(offset, i64);
        return this;
    }

    @Override
    public PointerBytesStore writeFloat(final long offset, final float f)
    {
        checkWrite("writeFloat", offset, 4);
        super.writeFloat(offset, f);
        return this;
    }

    @Override
    public PointerBytesStore writeDouble(final long offset, final double d)
    {
        checkWrite("writeDouble", offset, 8);
        super.writeDouble(offset, d);
        return this;
    }

    @Override
    public PointerBytesStore writeVolatileByte(final long offset, final byte i8)
    {
        checkWrite("writeVolatileByte", offset, 1);
        super.writeVolatileByte(offset, i8);
        return this;
    }

    @Override
    public PointerBytesStore writeVolatileShort(final long offset, final short i16)
    {
        checkWrite("writeVolatileShort", offset, 2);
        super.writeVolatileShort(offset, i16);
        return this;
    }

    @Override
    public PointerBytesStore writeVolatileInt(final long offset, final int i32)
    {
        checkWrite("writeVolatileInt", offset, 4);
        super.writeVolatileInt(offset, i32);
        return this;
    }

    @Override
    public PointerBytesStore writeVolatileLong(final long offset, final long i64)
    {
        checkWrite("writeVolatileLong", offset, 8);
        super.writeVolatileLong(offset, i64);
        return this;
    }

    @Override
    public boolean compareAndSwapInt(final long offset, final int expected, final int value)
    {
        checkWrite("compareAndSwapInt", offset, 4);
        return super.compareAndSwapInt(offset, expected, value);
    }

    @Override
    public void testAndSetInt(final long offset, final int expected, final int value)
    {
        checkWrite("testAndSetInt", offset, 4);
        super.testAndSetInt(offset, expected, value);
    }

    @Override
    public boolean compareAndSwapLong(final long offset, final long expected, final long value)
    {
        checkWrite("compareAndSwapLong", offset, 8);
        return super.compareAndSwapLong(offset, expected, value);
    }

    @Override
    public PointerBytesStore write(final long offsetInRDO, final byte[] byteArray, final int offset, final int length)
    {
        checkWrite("write", offsetInRDO, length);
        super.write(offsetInRDO, byteArray, offset, length);
        return this;
    }

    @Override
    public void write(final long offsetInRDO, final ByteBuffer bytes, final int offset, final int length)
    {
        checkWrite("write", offsetInRDO, length);
        super.write(offsetInRDO, bytes, offset, length);
    }

    @Override
    public PointerBytesStore write(final long writeOffset, final RandomDataInput bytes, final long readOffset,
        final long length)
    {
        checkWrite("write", writeOffset, length);
        super.write(writeOffset, bytes, readOffset, length);
        return this;
    }

    @Override
    public void write0(final long offsetInRDO, final RandomDataInput bytes, final long offset, final long length)
    {
        checkWrite("write0", offsetInRDO, length);
        super.write0(offsetInRDO, bytes, offset, length);
    }

    @Override
    public long write8bit(final long position, final BytesStore<?, ?> bs)
    {
        checkWrite("write8bit", position, bs.readRemaining());
        return super.write8bit(position, bs);
    }

    @Override
    public long write8bit(final long position, final String s, final int start, final int length)
    {
        checkWrite("write8bit", position, length);
        return super.write8bit(position, s, start, length);
    }

    @Override
    public long appendUtf8(final long pos, final char[] chars, final int offset, final int length)
    {
        checkWrite("appendUtf8", 0, 0);
        return super.appendUtf8(pos, chars, offset, length);
    }

    @Override
    public long appendAndReturnLength(final long writePosition, final boolean negative, final long mantissa,
        final int exponent, final boolean append0)
    {
        checkWrite("appendAndReturnLength", 0, 0);
        return super.appendAndReturnLength(writePosition, negative, mantissa, exponent, append0);
    }

    @Override
    public PointerBytesStore zeroOut(final long start, final long end)
    {
        checkWrite("zeroOut", start, end - start);
        super.zeroOut(start, end);
        return this;
    }

    @Override
    public void move(final long from, final long to, final long length)
    {
        checkWrite("move", to, length);
        super.move(from, to, length);
    }

    @Override
    public void nativeWrite(final long address, final long position, final long size)
    {
        checkWrite("nativeWrite", position, size);
        super.nativeWrite(address, position, size);
    }

    @Override
    public long addressForWrite(final long offset)
    {
        checkWrite("addressForWrite", offset, 0);
        return super.addressForWrite(offset);
    }

    @Override
    public long addressForWritePosition()
    {
        checkWrite("addressForWritePosition", 0, 0);
        return super.addressForWritePosition();
    }

    @Override
    public long translate(final long offset)
    {
        guard.check("translate");
        return super.translate(offset);
    }

    @Override
    public long addressForRead(final long offset)
    {
        guard.check("addressForRead");
        return super.addressForRead(offset);
    }

    @Override
    public void nativeRead(final long position, final long address, final long size)
    {
        guard.check("nativeRead");
        super.nativeRead(position, address, size);
    }

    @Override
    public long readIncompleteLong(final long offset)
    {
        guard.check("readIncompleteLong");
        return super.readIncompleteLong(offset);
    }

    @Override
    public int byteCheckSum(final long start, final long end)
    {
        guard.check("byteCheckSum");
        return super.byteCheckSum(start, end);
    }

    @Override
    public ByteBuffer toTemporaryDirectByteBuffer()
    {
        guard.check("toTemporaryDirectByteBuffer");
        return super.toTemporaryDirectByteBuffer();
    }

    @Override
    public long copyTo(final BytesStore<?, ?> store)
    {
        guard.check("copyTo");
        return super.copyTo(store);
    }

    @Override
    public long copyToDirect(final BytesStore<?, ?> store)
    {
        guard.check("copyToDirect");
        return super.copyToDirect(store);
    }
}
