package io.regionmm.guard;

/**
 * A stretch of a lease's memory handed to a view: where it starts, how long it is, whether the lease allows writes
 * to it, and the guard that dies with the lease.
 *
 * @param address  the first byte.
 * @param length   how many bytes.
 * @param writable true when every region under it is READ_WRITE (checked when the view was opened; the protection
 *                 cannot change while the lease pins the regions).
 * @param guard    the view's liveness check.
 */
public record LeasedMemory(long address, long length, boolean writable, LeaseGuard guard)
{
}
