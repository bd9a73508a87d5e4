package io.regionmm.space;

import io.regionmm.guard.LeaseViews;
import io.regionmm.guard.LeasedMemory;

import java.util.Objects;

/** The view packages' way into a lease (see {@link LeaseViews}): everything it does is the lease's own checks. */
final class ViewOpener extends LeaseViews
{
    @Override
    public LeasedMemory open(final Object lease, final String op, final long offset, final long length,
        final boolean writable)
    {
        return pinOwner(lease, op).openView(op, offset, length, writable);
    }

    @Override
    public long length(final Object lease, final String op)
    {
        return pinOwner(lease, op).viewLength();
    }

    private static PinOwner pinOwner(final Object lease, final String op)
    {
        Objects.requireNonNull(lease, op + ": lease");
        if (lease instanceof PinOwner p)
        {
            return p;
        }
        throw new RegionArgumentException(op, "not a regionmm lease: " + lease.getClass().getName());
    }
}
