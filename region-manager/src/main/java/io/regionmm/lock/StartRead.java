package io.regionmm.lock;

/**
 * The outcome of {@link MmLock#tryStartRead}.
 */
public enum StartRead
{
    /** The region is pinned; call {@link MmLock#endRead} exactly once. */
    PINNED,
    /** A writer has locked (or is locking) the region: fall back to another read path. */
    WRITE_LOCKED,
    /** The region left the map: look the address up again. */
    DETACHED
}
