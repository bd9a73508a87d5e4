package io.regionmm.space;

/**
 * Options of {@code map}: where to place the region, and whether the file may grow to hold it.
 *
 * @param fixedAddress the exact address, or {@link #ANYWHERE} for the lowest fitting gap.
 * @param growFile     extend the file (fallocate, so a full disk fails now, not as a SIGBUS later).
 */
public record MapOptions(long fixedAddress, boolean growFile)
{
    /** No fixed address. */
    public static final long ANYWHERE = -1;
    /** Lowest fitting gap, file must already be long enough. */
    public static final MapOptions DEFAULT = new MapOptions(ANYWHERE, false);

    /**
     * @param address exact address.
     * @return these options placing the region at {@code address}.
     */
    public MapOptions at(final long address)
    {
        return new MapOptions(address, growFile);
    }

    /** @return these options allowing the file to grow. */
    public MapOptions growingFile()
    {
        return new MapOptions(fixedAddress, true);
    }
}
