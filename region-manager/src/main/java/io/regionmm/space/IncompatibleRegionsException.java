package io.regionmm.space;

import io.regionmm.region.Region;

/**
 * {@code merge} was asked to join regions the kernel's rules keep apart; names the pair and what differs.
 */
public final class IncompatibleRegionsException extends RegionArgumentException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param left     the lower region.
     * @param right    the region after it.
     * @param conflict what differs.
     */
    public IncompatibleRegionsException(final Region left, final Region right, final String conflict)
    {
        super("merge", "cannot merge " + left + " with " + right + ": " + conflict);
    }
}
