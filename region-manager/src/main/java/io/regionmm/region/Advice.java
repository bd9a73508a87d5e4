package io.regionmm.region;

import io.regionmm.kernel.Mman;

/**
 * madvise advice. As in the kernel, RANDOM and SEQUENTIAL are lasting attributes of a region (they split and
 * merge regions); WILLNEED and DONTNEED are one-off actions on the pages and leave the region's advice as it was.
 */
public enum Advice
{
    /** Default read-ahead. */
    NORMAL(Mman.MADV_NORMAL, true),
    /** Little read-ahead. */
    RANDOM(Mman.MADV_RANDOM, true),
    /** Aggressive read-ahead, early reclaim. */
    SEQUENTIAL(Mman.MADV_SEQUENTIAL, true),
    /** Start reading the pages in now. */
    WILLNEED(Mman.MADV_WILLNEED, false),
    /** Drop the pages now (shared file pages are re-read; private copies are discarded). */
    DONTNEED(Mman.MADV_DONTNEED, false);

    private final int madv;
    private final boolean lasting;

    Advice(final int madv, final boolean lasting)
    {
        this.madv = madv;
        this.lasting = lasting;
    }

    /**
     * @return the MADV_* value.
     */
    public int madv()
    {
        return madv;
    }

    /**
     * @return true when the advice becomes an attribute of the region.
     */
    public boolean lasting()
    {
        return lasting;
    }
}
