package io.regionmm.space;

/**
 * The mm lock held shared after {@link WriteSection#downgrade()}: no writer can change the map until it closes.
 */
public interface ReadHold extends AutoCloseable
{
    /** Releases the shared mm lock. Idempotent. */
    @Override
    void close();
}
