package io.regionmm.map;

import io.regionmm.region.Region;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What the structure tests look at beyond the map's own API: a lookup by binary search of the sorted list alone
 * (the reference the index is checked against), and how much of the index a change copied.
 */
final class MapStructure
{
    private MapStructure()
    {
    }

    /**
     * The same as {@link RegionMap#find} by binary search of the sorted list alone, without the index.
     *
     * @param map     the version.
     * @param address any address.
     * @return the region covering it, or null.
     */
    static Region findByBinarySearch(final RegionMap map, final long address)
    {
        final int i = map.indexOf(address);
        return i >= 0 ? map.get(i) : null;
    }

    /**
     * @param newer a version.
     * @param older an earlier version of the same map.
     * @return how many index nodes {@code newer} has that {@code older} does not: what the change between them copied.
     */
    static int indexNodesNotIn(final RegionMap newer, final RegionMap older)
    {
        return nodesNotIn(newer, older).size();
    }

    /**
     * @param newer a version.
     * @param older an earlier version of the same map.
     * @return the entries of those nodes (their arrays' lengths, summed): what the change wrote.
     */
    static int indexEntriesNotIn(final RegionMap newer, final RegionMap older)
    {
        return nodesNotIn(newer, older).stream().mapToInt(n -> ((Object[])n).length).sum();
    }

    private static Set<Object> nodesNotIn(final RegionMap newer, final RegionMap older)
    {
        final Set<Object> old = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(older.indexTop(), old);
        final Set<Object> mine = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(newer.indexTop(), mine);
        mine.removeAll(old);
        return mine;
    }

    private static void collect(final Object e, final Set<Object> into)
    {
        if (e instanceof Object[] node && into.add(node) && !(node instanceof Region[]))
        {
            for (final Object child : node)
            {
                collect(child, into);
            }
        }
    }
}
