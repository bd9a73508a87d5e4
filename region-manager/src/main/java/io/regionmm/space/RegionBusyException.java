package io.regionmm.space;

import io.regionmm.map.RegionMap;
import io.regionmm.region.Region;

/**
 * A write gave up waiting: another writer held the mm lock, or leases still pinned what it had to change, when the
 * deadline of its section ({@link AddressSpace#beginWrite(long, java.util.concurrent.TimeUnit)}) or of
 * {@link AddressSpace#close(long, java.util.concurrent.TimeUnit)} passed.
 * Nothing changed: the region map, the kernel's mappings and the files are as before, and the space stays usable.
 */
public final class RegionBusyException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final String operation;

    /**
     * @param operation the operation that gave up.
     * @param message   what it waited for.
     */
    public RegionBusyException(final String operation, final String message)
    {
        super(operation + ": " + message + "; nothing changed");
        this.operation = operation;
    }

    /** @return the operation that gave up. */
    public String operation()
    {
        return operation;
    }

    static RegionBusyException pinned(final String op, final Region r, final long timeoutNs)
    {
        return new RegionBusyException(op, r + " was still pinned by " + r.readers() + " lease(s) after " +
            Math.max(0, timeoutNs) / 1_000_000 + " ms");
    }

    /** Names every region of {@code m} from index {@code from} on that is still pinned. */
    static RegionBusyException pinned(final String op, final RegionMap m, final int from, final long timeoutNs)
    {
        final StringBuilder b = new StringBuilder();
        int n = 0;
        for (int i = from; i < m.size(); i++)
        {
            final Region r = m.get(i);
            final int readers = r.readers();
            if (readers > 0 || i == from)
            {
                b.append(n++ == 0 ? "" : ", ").append(r).append(" (").append(readers).append(" lease(s))");
            }
        }
        return new RegionBusyException(op, "still pinned after " + Math.max(0, timeoutNs) / 1_000_000 + " ms: " + b);
    }
}
