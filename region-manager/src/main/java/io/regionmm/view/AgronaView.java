package io.regionmm.view;

import io.regionmm.guard.LeaseViews;
import io.regionmm.guard.LeasedMemory;
import io.regionmm.space.Lease;
import io.regionmm.space.RangeLease;
import io.regionmm.space.RegionArgumentException;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A lease's memory as an Agrona {@link DirectBuffer} (any lease) or {@link MutableDirectBuffer} (a lease whose
 * regions are all READ_WRITE), without copying: hand a leased region to SBE codecs, Aeron or anything else that
 * speaks Agrona's buffers.
 *
 * <pre>{@code
 * try (Lease lease = space.lease(address))
 * {
 *     MutableDirectBuffer buffer = AgronaView.writable(lease); // index 0 is the region's start
 *     buffer.putLong(0, 42);
 *     long v = AgronaView.readOnly(lease).getLong(0);
 * }
 * }</pre>
 *
 * <p><b>A view never outlives its lease.</b> Agrona's buffers are not scoped by an arena, so each view checks its
 * lease's guard before every access: after the lease's {@code close()} every method that reads, writes or reports
 * the memory throws {@link IllegalStateException} naming the lease and its region, and on any other thread than the
 * one that took the lease it throws {@link WrongThreadException} (views are confined like the lease: a view another
 * thread could pass might be between its check and its access when the lease closes). The check is one compare of
 * the current thread with a field per access; the lease kills its views before it drops its pins, so no access can
 * reach memory a writer may have unmapped, moved or made read-only since. Share memory across threads with a lease
 * per thread, or the lease's read-only {@code segment()}.
 *
 * <p><b>No write to read-only memory.</b> {@link #readOnly} returns a type that implements only
 * {@link DirectBuffer}: it cannot be cast to a mutable one. {@link #writable} refuses a lease with a READ region
 * before anything is written ({@link IllegalStateException}): a store into a READ region is a SIGSEGV that kills the
 * JVM, not an exception.
 *
 * <p><b>Lengths.</b> Agrona's buffers have int capacities: a lease of more than {@value Integer#MAX_VALUE} bytes is
 * refused by the one-argument factories ({@link RegionArgumentException} with the length); view it in windows with
 * the {@code (lease, offset, length)} overloads. The views cannot be {@code wrap}ped to other memory (they throw).
 * They refuse to exist when Agrona's bounds checks are disabled ({@code -Dagrona.disable.bounds.checks=true}): an
 * index past the leased memory could then write into another region.
 *
 * <p>JVM flags: Agrona's {@code UnsafeBuffer} uses {@code jdk.internal.misc.Unsafe}, so the JVM needs
 * {@code --add-exports java.base/jdk.internal.misc=org.agrona} (module path) or {@code =ALL-UNNAMED} (class path).
 */
public final class AgronaView
{
    private AgronaView()
    {
    }

    /**
     * @param lease an open lease, on the thread that took it.
     * @return the region's memory, read-only; index 0 is the region's start.
     */
    public static DirectBuffer readOnly(final Lease lease)
    {
        return readOnly(lease, 0, wholeLength(lease, "AgronaView.readOnly"));
    }

    /**
     * @param lease  an open lease, on the thread that took it.
     * @param offset from the region's start.
     * @param length bytes.
     * @return [offset, offset + length) of the region, read-only; index 0 is {@code offset}.
     */
    public static DirectBuffer readOnly(final Lease lease, final long offset, final int length)
    {
        final LeasedMemory m = open(lease, "AgronaView.readOnly", offset, length, false);
        return new GuardedDirectBuffer(m.guard(), m.address(), length);
    }

    /**
     * @param lease an open range lease, on the thread that took it.
     * @return the range's memory, read-only; index 0 is the range's start.
     */
    public static DirectBuffer readOnly(final RangeLease lease)
    {
        return readOnly(lease, 0, wholeLength(lease, "AgronaView.readOnly"));
    }

    /**
     * @param lease  an open range lease, on the thread that took it.
     * @param offset from the range's start.
     * @param length bytes.
     * @return [offset, offset + length) of the range, read-only; index 0 is {@code offset}.
     */
    public static DirectBuffer readOnly(final RangeLease lease, final long offset, final int length)
    {
        final LeasedMemory m = open(lease, "AgronaView.readOnly", offset, length, false);
        return new GuardedDirectBuffer(m.guard(), m.address(), length);
    }

    /**
     * @param lease an open lease of a READ_WRITE region, on the thread that took it.
     * @return the region's memory, writable; index 0 is the region's start.
     * @throws IllegalStateException when the region is READ.
     */
    public static MutableDirectBuffer writable(final Lease lease)
    {
        return writable(lease, 0, wholeLength(lease, "AgronaView.writable"));
    }

    /**
     * @param lease  an open lease of a READ_WRITE region, on the thread that took it.
     * @param offset from the region's start.
     * @param length bytes.
     * @return [offset, offset + length) of the region, writable; index 0 is {@code offset}.
     * @throws IllegalStateException when the region is READ.
     */
    public static MutableDirectBuffer writable(final Lease lease, final long offset, final int length)
    {
        final LeasedMemory m = open(lease, "AgronaView.writable", offset, length, true);
        return new GuardedMutableDirectBuffer(m.guard(), m.address(), length);
    }

    /**
     * @param lease an open range lease whose regions are all READ_WRITE, on the thread that took it.
     * @return the range's memory, writable; index 0 is the range's start.
     * @throws IllegalStateException when a region of the range is READ.
     */
    public static MutableDirectBuffer writable(final RangeLease lease)
    {
        return writable(lease, 0, wholeLength(lease, "AgronaView.writable"));
    }

    /**
     * @param lease  an open range lease whose regions are all READ_WRITE, on the thread that took it.
     * @param offset from the range's start.
     * @param length bytes.
     * @return [offset, offset + length) of the range, writable; index 0 is {@code offset}.
     * @throws IllegalStateException when a region of the range is READ.
     */
    public static MutableDirectBuffer writable(final RangeLease lease, final long offset, final int length)
    {
        final LeasedMemory m = open(lease, "AgronaView.writable", offset, length, true);
        return new GuardedMutableDirectBuffer(m.guard(), m.address(), length);
    }

    private static int wholeLength(final Object lease, final String op)
    {
        final long length = LeaseViews.get().length(lease, op);
        if (length > Integer.MAX_VALUE)
        {
            throw new RegionArgumentException(op, "the lease covers " + length + " bytes, more than an Agrona " +
                "buffer holds (" + Integer.MAX_VALUE + "); view it in windows with " + op + "(lease, offset, length)");
        }
        return (int)length;
    }

    private static LeasedMemory open(final Object lease, final String op, final long offset, final int length,
        final boolean writable)
    {
        if (!DirectBuffer.SHOULD_BOUNDS_CHECK)
        {
            throw new IllegalStateException(op + ": Agrona's bounds checks are disabled (-D" +
                DirectBuffer.DISABLE_BOUNDS_CHECKS_PROP_NAME + "=true); an index past the leased memory could " +
                "write into another region, so no view of a lease is handed out");
        }
        return LeaseViews.get().open(lease, op, offset, length, writable);
    }
}
