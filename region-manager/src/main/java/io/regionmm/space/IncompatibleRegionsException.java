package io.regionmm.space;

import io.regionmm.region.MergeConflict;
import io.regionmm.region.Region;

/**
 * {@code merge} was asked to join regions the kernel's rules keep apart; names the pair and what differs.
 */
public final class IncompatibleRegionsException extends RegionArgumentException
{
    private static final long serialVersionUID = 1L;

    /** The rule that keeps the pair apart. */
    private final MergeConflict conflict;

    /**
     * @param left     the lower region.
     * @param right    the region after it.
     * @param conflict the first rule that keeps them apart.
     */
    public IncompatibleRegionsException(final Region left, final Region right, final MergeConflict conflict)
    {
        super("merge", "cannot merge " + left + " with " + right + ": " + conflict.explain(left, right));
        this.conflict = conflict;
    }

    /** @return the first rule that keeps the pair apart. */
    public MergeConflict conflict()
    {
        return conflict;
    }
}
