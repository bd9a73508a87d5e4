package io.regionmm.examples.logstore;

import io.regionmm.space.Subscription;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Where a key's live record is: segment, offset, length (what the index maps a key to, compared by these three),
 * and a cached pointer to its bytes, valid while the segment's subscription keeps the sequence it was cached under.
 */
final class Location
{
    /**
     * A pointer to a record's value in mapped memory. The record's checksum was verified when the pointer was made;
     * while the subscription's sequence holds, the bytes cannot have changed, so a read through it copies the value
     * and checks the sequence, nothing else.
     *
     * @param memory       the region's memory (a view that never faults: an unmapped range reads as zeros).
     * @param valueOffset  the value's offset in it.
     * @param valueLength  the value's length.
     * @param subscription the segment's subscription it was validated under.
     * @param sequence     what readBegin returned.
     */
    record Pointer(MemorySegment memory, long valueOffset, int valueLength, Subscription subscription, long sequence)
    {
    }

    private final Segment segment;
    private final long offset;
    private final int length;
    /** Set by a get under the segment's cacheLock after readRetry; read lock-free by gets (then checkRetry). */
    volatile Pointer pointer;

    Location(final Segment segment, final long offset, final int length)
    {
        this.segment = segment;
        this.offset = offset;
        this.length = length;
    }

    Segment segment()
    {
        return segment;
    }

    long offset()
    {
        return offset;
    }

    int length()
    {
        return length;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Location l && l.segment == segment && l.offset == offset && l.length == length;
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(segment.id, offset, length);
    }

    @Override
    public String toString()
    {
        return "Location[segment=" + segment.id + ", offset=" + offset + ", length=" + length + "]";
    }
}
