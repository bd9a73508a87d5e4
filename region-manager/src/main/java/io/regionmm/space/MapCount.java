package io.regionmm.space;

import io.regionmm.kernel.maps.ProcMaps;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * How many mappings one space may add before the process comes within a reserve of the kernel's limit
 * ({@code vm.max_map_count}); the kernel refuses the mapping past it with ENOMEM, and the JVM, which maps memory for
 * its own threads, heap and code, may then abort.
 *
 * <p>The space counts its window's mappings itself (regions and the tombstones between them: an upper bound, the
 * kernel may have merged some) and knows the rest of the process only from {@code /proc/self/maps}, read when the
 * space is created and again whenever a write would cross the budget (the rest of the process may have grown or
 * shrunk meanwhile), so the file is read only near the limit. Guarded by the mm lock, taken exclusively.
 */
final class MapCount
{
    static final String SYSCTL = "/proc/sys/vm/max_map_count";
    /** Mappings kept free below the limit for the JVM and everything else in the process. */
    static final long RESERVE = Long.getLong("regionmm.mapCountReserve", 4096);

    private final long windowStart;
    private final long windowEnd;
    private long window = 1; // the reservation is one mapping
    private long limit;
    private long outside;

    MapCount(final long windowStart, final long windowEnd)
    {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        measure();
    }

    /**
     * Refuses, before anything changes, a write that adds {@code delta} mappings to the window past the budget.
     *
     * @throws MapCountException naming the limit, the count and the reserve.
     */
    void check(final String op, final long delta) throws MapCountException
    {
        if (delta <= 0 || window + delta + outside <= limit - RESERVE)
        {
            return;
        }
        measure();
        if (window + delta + outside > limit - RESERVE)
        {
            throw new MapCountException(op, limit, window + delta + outside, RESERVE, window + delta);
        }
    }

    /** Counts a committed change. */
    void add(final long delta)
    {
        window += delta;
    }

    /** @return the window's mappings by our count (an upper bound of the kernel's). */
    long window()
    {
        return window;
    }

    private void measure()
    {
        limit = readLimit();
        outside = Math.max(0, countLines() - ProcMaps.readWindow(windowStart, windowEnd).size());
    }

    /** @return vm.max_map_count, or Long.MAX_VALUE when it cannot be read (no budget then). */
    static long readLimit()
    {
        // A stream, not Files.readString: /proc files report a size of 0.
        try (InputStream in = new FileInputStream(SYSCTL))
        {
            return Long.parseLong(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        }
        catch (final IOException | RuntimeException ex)
        {
            return Long.MAX_VALUE / 2;
        }
    }

    /** @return the process's mappings: the lines of /proc/self/maps, counted without parsing them. */
    private static long countLines()
    {
        try (InputStream in = new FileInputStream("/proc/self/maps"))
        {
            final byte[] buffer = new byte[1 << 16];
            long lines = 0;
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer))
            {
                for (int i = 0; i < n; i++)
                {
                    if (buffer[i] == '\n')
                    {
                        lines++;
                    }
                }
            }
            return lines;
        }
        catch (final IOException ex)
        {
            return 0;
        }
    }
}
