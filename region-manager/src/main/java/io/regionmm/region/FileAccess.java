package io.regionmm.region;

/**
 * How a file is opened.
 */
public enum FileAccess
{
    /** Read only: regions of it may be READ, or READ_WRITE when PRIVATE. */
    READ_ONLY,
    /** Read and write, created if missing. */
    READ_WRITE
}
