package io.regionmm.space;

import io.regionmm.region.Region;

import java.lang.foreign.MemorySegment;

/**
 * A computation over one region's memory, run by {@link AddressSpace#read(long, RegionFunction)}: speculatively
 * (its result is discarded unless the read validates, so it must only compute, never act), else under a pin or the
 * shared mm lock.
 */
@FunctionalInterface
public interface RegionFunction
{
    /**
     * @param region the region covering the address.
     * @param memory the region's memory, read-only; index 0 is {@code region.start()}.
     * @param offset the address's offset in the region.
     * @return the result.
     */
    long apply(Region region, MemorySegment memory, long offset);
}
