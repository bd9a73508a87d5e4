package io.regionmm.space;

/**
 * What a listener is told: a write is about to change [start, end), which overlaps its subscription; nothing in
 * the range has changed yet.
 *
 * @param start    the first address of the changing range.
 * @param end      the address after its last.
 * @param cause    what the write does.
 * @param mayBlock whether the listener may block (take its lock, wait for its readers); when false (a write section
 *                 opened with {@link AddressSpace#beginWriteNonBlocking()}), a listener that cannot answer without
 *                 blocking returns false and the write fails with nothing changed.
 */
public record Invalidation(long start, long end, InvalidationCause cause, boolean mayBlock)
{
    /**
     * @param from the subscription's start.
     * @param to   the subscription's end.
     * @return whether the changing range overlaps [from, to).
     */
    public boolean overlaps(final long from, final long to)
    {
        return start < to && from < end;
    }
}
