package io.regionmm.space;

/**
 * How often reads left the speculative fast path (which itself is not counted: a shared counter would cost it more
 * than the read), from {@link AddressSpace#readCounts()}.
 *
 * @param retries speculations that failed validation and were retried.
 * @param pinned  reads that fell back to pinning their region (or read under this thread's own pins).
 * @param locked  reads and leases served under the shared mm lock.
 */
public record ReadCounts(long retries, long pinned, long locked)
{
}
