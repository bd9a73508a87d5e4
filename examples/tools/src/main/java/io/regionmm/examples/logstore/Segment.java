package io.regionmm.examples.logstore;

import io.regionmm.region.FileHandle;

import java.nio.file.Path;

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
