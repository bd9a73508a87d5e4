package io.regionmm.region;

import io.regionmm.kernel.Mman;

/**
 * What a region allows. Read permission is never taken away from a live region (a reader must never fault), so
 * there is no NONE.
 */
public enum Protection
{
    /** Reads only. */
    READ(Mman.PROT_READ),
    /** Reads and writes. */
    READ_WRITE(Mman.PROT_READ | Mman.PROT_WRITE);

    private final int prot;

    Protection(final int prot)
    {
        this.prot = prot;
    }

    /**
     * @return the PROT_* bits.
     */
    public int prot()
    {
        return prot;
    }
}
