package io.regionmm.space;

/**
 * A write was refused because it would take the process within the reserve of the kernel's limit on mappings
 * ({@code vm.max_map_count}): refused before the kernel refuses, so the JVM keeps room for its own mappings
 * (thread stacks, heap, code). Nothing changed. Unmap or merge regions, raise the sysctl, or lower the reserve
 * ({@code -Dregionmm.mapCountReserve}).
 */
public final class MapCountException extends MappingException
{
    private static final long serialVersionUID = 1L;

    private final long limit;
    private final long mappings;
    private final long reserve;

    MapCountException(final String operation, final long limit, final long mappings, final long reserve,
        final long windowMappings)
    {
        super(operation, "the process would hold up to " + mappings + " mappings (" + windowMappings +
            " of them in this space's window), within the reserve of " + reserve + " below vm.max_map_count = " +
            limit + " (" + MapCount.SYSCTL + "): unmap or merge regions, raise it (sysctl -w vm.max_map_count=" +
            Math.max(262_144, 2 * limit) + "), or lower -Dregionmm.mapCountReserve");
        this.limit = limit;
        this.mappings = mappings;
        this.reserve = reserve;
    }

    /** @return vm.max_map_count as read when the write was refused. */
    public long limit()
    {
        return limit;
    }

    /** @return how many mappings the process would have held after the write (an upper bound). */
    public long mappings()
    {
        return mappings;
    }

    /** @return the reserve kept below the limit. */
    public long reserve()
    {
        return reserve;
    }
}
