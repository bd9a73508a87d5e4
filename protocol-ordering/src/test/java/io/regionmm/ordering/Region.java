package io.regionmm.ordering;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.RegionLock;

/**
 * A region of the tests: {@link RegionLock}'s words over [start, end), and two plain ints standing for the region's
 * memory (the bytes of a mapping are plain memory to the Java memory model too). Writers change both words, only
 * after write-locking the region, so a copy holding one old and one new value is torn: it saw the change half done.
 * Tests that need the order of a pinned reader's accesses against a writer's use a third word, written by readers.
 */
public final class Region extends RegionLock
{
    /** The first word of the region's memory. */
    public int a;
    /** The second word of the region's memory. */
    public int b;
    /** A third word, which readers write while they hold a pin (a lease may write) and writers only read. */
    public int mark;

    private final long start;
    private final long end;

    /**
     * @param creatorSeq the section that creates the region (odd; born write-locked by it), or 0 outside one.
     * @param start      first address.
     * @param end        end of the range.
     */
    public Region(final long creatorSeq, final long start, final long end)
    {
        super(creatorSeq);
        this.start = start;
        this.end = end;
    }

    /**
     * Creates regions the way the address space does, in a write section of their own: born write-locked by it,
     * attached and unlocked once it ends. (A region made with creator 0 outside any section would look locked by
     * "section 0", the sequence's initial value, until the first section ends: a false "locked".)
     *
     * @param mm     the mm lock.
     * @param bounds start and end of each region, in pairs.
     * @return the regions, in the order of their bounds.
     */
    public static Region[] born(final MmLock mm, final long... bounds)
    {
        final Region[] regions = new Region[bounds.length / 2];
        final long s = mm.beginWrite();
        try
        {
            for (int i = 0; i < regions.length; i++)
            {
                regions[i] = new Region(s, bounds[2 * i], bounds[2 * i + 1]);
            }
        }
        finally
        {
            mm.endWrite();
        }
        return regions;
    }

    @Override
    public long start()
    {
        return start;
    }

    @Override
    public long end()
    {
        return end;
    }
}
