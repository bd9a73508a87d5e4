package io.regionmm.space;

import io.regionmm.kernel.maps.ProcMaps;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many mappings one space may add before the process comes within a reserve of the kernel's limit
 * ({@code vm.max_map_count}); the kernel refuses the mapping past it with ENOMEM, and the JVM, which maps memory for
 * its own threads, heap and code, may then abort.
 *
 * <p>Each space counts its window's mappings itself, from its map (regions and the tombstones between them), and
 * all spaces of the process add theirs to one sum, so several spaces share one budget. The count follows the map,
 * not the kernel, which may merge neighbours the map keeps apart (an explicit split) or keep apart two the map
 * joins (private pages of different origins): so whenever a write would cross the budget, the window's real count
 * is read from {@code /proc/self/maps} and replaces the estimate, and the rest of the process is measured again
 * (it may have grown meanwhile); the file is read only near the limit. Guarded by the space's mm lock, taken
 * exclusively; the sum is atomic.
 */
final class MapCount
{
    static final String SYSCTL = "/proc/sys/vm/max_map_count";
    /** Mappings kept free below the limit for the JVM and everything else in the process. */
    static final long RESERVE = Long.getLong("regionmm.mapCountReserve", 4096);
    /** The windows of every open space in the process, by their counts. */
    private static final AtomicLong ALL_WINDOWS = new AtomicLong();

    private final long windowStart;
    private final long windowEnd;
    private long window = 1; // the reservation is one mapping
    private long limit;
    private long outside;

    MapCount(final long windowStart, final long windowEnd)
    {
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        ALL_WINDOWS.addAndGet(window);
        measure();
    }

    /**
     * Refuses, before anything changes, a write that adds {@code delta} mappings to the window past the budget.
     *
     * @throws MapCountException naming the limit, the count and the reserve.
     */
    void check(final String op, final long delta) throws MapCountException
    {
        if (delta <= 0 || ALL_WINDOWS.get() + delta + outside <= limit - RESERVE)
        {
            return;
        }
        measure();
        final long after = ALL_WINDOWS.get() + delta + outside;
        if (after > limit - RESERVE)
        {
            throw new MapCountException(op, limit, after, RESERVE, window + delta);
        }
    }

    /** Counts a committed change. */
    void add(final long delta)
    {
        window += delta;
        ALL_WINDOWS.addAndGet(delta);
    }

    /** The space closed: its window no longer counts. */
    void release()
    {
        ALL_WINDOWS.addAndGet(-window);
        window = 0;
    }

    /** @return the window's mappings by our count (an upper bound of the kernel's). */
    long window()
    {
        return window;
    }

    private void measure()
    {
        limit = readLimit();
        try
        {
            final long real = ProcMaps.readWindow(windowStart, windowEnd).size();
            ALL_WINDOWS.addAndGet(real - window);
            window = real;
            outside = Math.max(0, countLines() - ALL_WINDOWS.get());
        }
        catch (final RuntimeException ex)
        {
            // /proc/self/maps unreadable or unparsable: keep the last figures; the kernel stays the last word.
        }
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
