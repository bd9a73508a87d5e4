package io.regionmm.region;

/**
 * Why the kernel's merge rule keeps a region apart from the region after it: one constant per rule, in the order
 * {@link Region#mergeConflict} checks them (the first rule broken is the one reported).
 */
public enum MergeConflict
{
    /** The second region does not start where the first ends. */
    NOT_ADJACENT("not adjacent"),
    /** They map different files. */
    DIFFERENT_FILES("different files"),
    /** The second region's file offset does not continue the first's. */
    FILE_OFFSETS_NOT_CONTIGUOUS("file offsets not contiguous"),
    /** Their protections differ. */
    PROTECTION_DIFFERS("protection differs"),
    /** One is shared, the other private. */
    SHARING_DIFFERS("sharing differs"),
    /** Their lasting advice differs. */
    ADVICE_DIFFERS("advice differs"),
    /** One is mlock'ed, the other not. */
    LOCK_STATE_DIFFERS("lock state differs");

    private final String description;

    MergeConflict(final String description)
    {
        this.description = description;
    }

    /** @return what differs, in words ("protection differs"). */
    public String description()
    {
        return description;
    }

    /**
     * @param left  the lower region.
     * @param right the region after it.
     * @return the description with the two regions' values of what differs ("protection differs (READ vs
     *         READ_WRITE)").
     */
    public String explain(final Region left, final Region right)
    {
        return description + " (" + switch (this)
        {
            case NOT_ADJACENT -> hex(left.end()) + " != " + hex(right.start());
            case DIFFERENT_FILES -> left.file() + " vs " + right.file();
            case FILE_OFFSETS_NOT_CONTIGUOUS -> left.fileOffsetOf(left.end()) + " vs " + right.fileOffset();
            case PROTECTION_DIFFERS -> left.protection() + " vs " + right.protection();
            case SHARING_DIFFERS -> left.sharing() + " vs " + right.sharing();
            case ADVICE_DIFFERS -> left.advice() + " vs " + right.advice();
            case LOCK_STATE_DIFFERS -> left.locked() + " vs " + right.locked();
        } + ")";
    }

    private static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }
}
