package io.regionmm.view.chronicle;

import io.regionmm.guard.LeaseViews;
import io.regionmm.guard.LeasedMemory;
import io.regionmm.space.Lease;
import io.regionmm.space.RangeLease;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;

/**
 * A lease's memory as a Chronicle {@link BytesStore} (read with {@code readLong(offset)}..., or through
 * {@code bytesForRead()}; written on READ_WRITE leases with {@code writeLong(offset, v)}... or
 * {@code bytesForWrite()}), without copying.
 *
 * <pre>{@code
 * try (Lease lease = space.lease(address))
 * {
 *     BytesStore<?, Void> store = ChronicleView.writable(lease); // offset 0 is the region's start
 *     store.writeLong(0, 42);
 *     Bytes<Void> in = ChronicleView.readOnly(lease).bytesForRead();
 *     long v = in.readLong();
 * }
 * }</pre>
 *
 * <p><b>Optional.</b> This package is the only one that uses Chronicle Bytes ({@code requires static}): a program that
 * never calls it needs neither Chronicle's jars nor its JVM flags. One that does needs {@code chronicle-bytes} and
 * Chronicle's flags on JDK 17+ (README, "Views: Agrona and Chronicle"); a named module that uses this view
 * {@code requires chronicle.bytes} itself (ours requires it {@code static}, so not transitively).
 *
 * <p><b>A view never outlives its lease.</b> Each store checks its lease's guard before every access: after the
 * lease's {@code close()} a read or write throws {@link IllegalStateException} naming the lease and its region, and
 * on another thread than the lease's owner it throws {@link WrongThreadException}. <b>No write to read-only
 * memory:</b> {@link #readOnly} stores refuse every store (and {@code bytesForWrite()}) with
 * {@link IllegalStateException} before anything is written; {@link #writable} refuses a lease with a READ region.
 * Writable stores bounds-check every fixed-size store (Chronicle's native store does not). How: see the store's
 * class comment; cost: one compare of the current thread with a field per access.
 */
@SuppressWarnings("exports") // Chronicle is required static, not transitive: see module-info.java
public final class ChronicleView
{
    private ChronicleView()
    {
    }

    /**
     * @param lease an open lease, on the thread that took it.
     * @return the region's memory, read-only; offset 0 is the region's start.
     */
    public static BytesStore<?, Void> readOnly(final Lease lease)
    {
        return open(lease, "ChronicleView.readOnly", false);
    }

    /**
     * @param lease an open range lease, on the thread that took it.
     * @return the range's memory, read-only; offset 0 is the range's start.
     */
    public static BytesStore<?, Void> readOnly(final RangeLease lease)
    {
        return open(lease, "ChronicleView.readOnly", false);
    }

    /**
     * @param lease an open lease of a READ_WRITE region, on the thread that took it.
     * @return the region's memory, writable; offset 0 is the region's start.
     * @throws IllegalStateException when the region is READ.
     */
    public static BytesStore<?, Void> writable(final Lease lease)
    {
        return open(lease, "ChronicleView.writable", true);
    }

    /**
     * @param lease an open range lease whose regions are all READ_WRITE, on the thread that took it.
     * @return the range's memory, writable; offset 0 is the range's start.
     * @throws IllegalStateException when a region of the range is READ.
     */
    public static BytesStore<?, Void> writable(final RangeLease lease)
    {
        return open(lease, "ChronicleView.writable", true);
    }

    /**
     * @param lease an open lease, on the thread that took it.
     * @return a {@link Bytes} reading the region from its start (its read limit is the region's end).
     */
    public static Bytes<Void> bytesForRead(final Lease lease)
    {
        return readOnly(lease).bytesForRead();
    }

    private static BytesStore<?, Void> open(final Object lease, final String op, final boolean writable)
    {
        final LeaseViews views = LeaseViews.get();
        final LeasedMemory m = views.open(lease, op, 0, views.length(lease, op), writable);
        return new GuardedBytesStore(m.guard(), m.address(), m.length(), writable);
    }
}
