package io.regionmm.notify;

/**
 * Told of each subscribed interval an invalidation overlaps.
 *
 * @param <T> the intervals' owner type.
 */
@FunctionalInterface
public interface IntervalVisitor<T>
{
    /**
     * @param interval an overlapping interval.
     * @return false to stop the walk.
     */
    boolean visit(Interval<T> interval);
}
