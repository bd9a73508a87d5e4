package io.regionmm.region;

import io.regionmm.kernel.Mman;

/**
 * msync modes.
 */
public enum SyncMode
{
    /** Write back and wait (MS_SYNC): durable when the call returns. */
    SYNC(Mman.MS_SYNC),
    /** Start write-back, do not wait (MS_ASYNC). */
    ASYNC(Mman.MS_ASYNC),
    /** Invalidate other mappings of the same file (MS_INVALIDATE). */
    INVALIDATE(Mman.MS_INVALIDATE);

    private final int flags;

    SyncMode(final int flags)
    {
        this.flags = flags;
    }

    /**
     * @return the MS_* flags.
     */
    public int flags()
    {
        return flags;
    }
}
