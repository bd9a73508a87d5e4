package io.regionmm.lock;

/**
 * The per-region half of the locking protocol: a reference count that shares its word with a writer flag, and
 * the lock sequence. The fields are driven only by {@link MmLock}, which documents the protocol; regions extend
 * this class so the words sit in the region object itself (no extra indirection on the read path).
 */
public abstract class RegionLock
{
    // Read and written only through MmLock's VarHandles.
    @SuppressWarnings("unused")
    int refcnt;
    @SuppressWarnings("unused")
    long lockSeq;
    // Reader bias (see MmLock, "Reader bias"): 1 while pins go through the visible-readers table instead of the count.
    @SuppressWarnings("unused")
    int bias;
    // What a biased pin publishes in the visible-readers table, unique to this region; mixed with the reader's
    // thread id, it also picks the slot.
    final long pinId = MmLock.nextPinId();

    /**
     * A new region is born attached (count 1) and write-locked by the section that creates it, so no reader can
     * pin it before that section ends.
     *
     * @param creatorSeq the mm sequence of the creating write section (odd), or 0 for a region made outside one.
     */
    protected RegionLock(final long creatorSeq)
    {
        MmLock.initRegion(this, creatorSeq);
    }

    /** @return the region's first address (a writer logs [start, end) when it locks the region). */
    public abstract long start();

    /** @return the region's end. */
    public abstract long end();

    /**
     * @return true once the region has been removed from its map and its readers have drained.
     */
    public final boolean isDetached()
    {
        return MmLock.refcntAcquire(this) == 0;
    }

    /**
     * @return the number of readers pinning this region now (racy, for diagnostics and tests).
     */
    public final int readers()
    {
        final int c = MmLock.refcntAcquire(this) & ~MmLock.WRITER_FLAG;
        return Math.max(0, c - 1) + MmLock.visibleReaders(this);
    }
}
