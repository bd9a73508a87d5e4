package io.regionmm.space;

/**
 * Why a subscribed range is being invalidated: every write that changes what a reader of the range would see.
 */
public enum InvalidationCause
{
    /** The range is being unmapped (it becomes a tombstone: reads return zeros). */
    UNMAP,
    /** A region is shrinking; the range is its tail, which becomes a tombstone. */
    SHRINK,
    /** A region is moving to another address (to grow); the range is where it was, which becomes a tombstone. */
    MOVE,
    /** The range's protection is changing (a cached writable pointer would fault once it is read-only). */
    PROTECT,
    /** The range's pages are being dropped (a PRIVATE mapping's own changes revert to the file's bytes). */
    DONTNEED,
    /** The space is closing: every range goes, and the subscription with it. */
    CLOSE
}
