package io.regionmm.region;

import io.regionmm.kernel.Mman;

/**
 * Whether writes reach the file.
 */
public enum Sharing
{
    /** Writes reach the file (MAP_SHARED). */
    SHARED(Mman.MAP_SHARED),
    /** Writes stay in this mapping, copy-on-write (MAP_PRIVATE). */
    PRIVATE(Mman.MAP_PRIVATE);

    private final int flag;

    Sharing(final int flag)
    {
        this.flag = flag;
    }

    /**
     * @return the MAP_* flag.
     */
    public int flag()
    {
        return flag;
    }
}
