package io.regionmm.examples.logstore;

import io.regionmm.region.FileHandle;
import io.regionmm.space.Subscription;

import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One append-only segment file and where it is mapped now. The address changes when a grow has to move the
 * region; readers therefore validate what they read against the file and offset, never against the address.
 */
final class Segment
{
    final int id;
    final Path path;
    final FileHandle file;
    volatile long address;
    /**
     * The subscription over the segment's mapped range: cached record pointers into it are valid while its sequence
     * is the one they were cached under. Replaced (writer only) when the region grows or moves.
     */
    volatile Subscription subscription;
    /** The subscriber's lock: the listener records invalidations under it, gets cache pointers under it. */
    final ReentrantLock cacheLock = new ReentrantLock();
    // Writer-only below (guarded by the store's writer lock).
    long mappedLength;
    long writePosition;
    long syncedPosition;

    Segment(final int id, final Path path, final FileHandle file, final long address, final long mappedLength)
    {
        this.id = id;
        this.path = path;
        this.file = file;
        this.address = address;
        this.mappedLength = mappedLength;
    }

    static String fileName(final int id)
    {
        return String.format("segment-%06d.log", id);
    }
}
