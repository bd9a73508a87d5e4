package io.regionmm.space;

import io.regionmm.region.Region;

/**
 * A read of a region's memory faulted: the kernel had no page for it, because the file was truncated (by another
 * process, or through another handle) below the range the region maps. The JVM reports such a SIGBUS as an
 * {@link InternalError} without saying where; this names the operation, the address and the region (its file and
 * offset). Nothing changed: the space stays usable, and reads of the file's remaining range still work.
 */
public final class RegionFaultException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long address;

    RegionFaultException(final String op, final long address, final long length, final Region region,
        final InternalError cause)
    {
        super(op + ": reading [" + Window.hex(address) + ", +" + length + ") faulted" +
            (region == null ? "" : " in " + region + " at file offset " + region.fileOffsetOf(address)) +
            ": the file is shorter than the mapping (truncated under it?); grow the file back or unmap the region",
            cause);
        this.address = address;
    }

    /** @return the first address of the read that faulted. */
    public long address()
    {
        return address;
    }
}
