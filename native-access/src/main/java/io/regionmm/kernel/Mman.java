package io.regionmm.kernel;

/**
 * Constants of the mmap family ({@code <sys/mman.h>}). All of these are the same on x86-64 and aarch64 (both use
 * the generic values), so none depends on {@link Arch}.
 */
public final class Mman
{
    /** Pages may not be accessed. */
    public static final int PROT_NONE = 0x0;
    /** Pages may be read. */
    public static final int PROT_READ = 0x1;
    /** Pages may be written. */
    public static final int PROT_WRITE = 0x2;
    /** Pages may be executed. */
    public static final int PROT_EXEC = 0x4;

    /** Writes reach the file and other mappings of it. */
    public static final int MAP_SHARED = 0x01;
    /** Copy-on-write: writes stay in this mapping. */
    public static final int MAP_PRIVATE = 0x02;
    /** Place exactly at addr, replacing whatever is mapped there. */
    public static final int MAP_FIXED = 0x10;
    /** Not backed by a file. */
    public static final int MAP_ANONYMOUS = 0x20;
    /** Do not reserve swap. */
    public static final int MAP_NORESERVE = 0x4000;
    /** Pre-fault the pages. */
    public static final int MAP_POPULATE = 0x8000;
    /** Place exactly at addr, but fail with EEXIST instead of replacing a mapping. */
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    /** mremap may move the mapping. */
    public static final int MREMAP_MAYMOVE = 1;
    /** mremap moves to newAddr (needs MAYMOVE). */
    public static final int MREMAP_FIXED = 2;
    /** mremap leaves the old range mapped (anonymous, emptied) instead of unmapping it. */
    public static final int MREMAP_DONTUNMAP = 4;

    /** No special treatment. */
    public static final int MADV_NORMAL = 0;
    /** Expect random access: read ahead less. */
    public static final int MADV_RANDOM = 1;
    /** Expect sequential access: read ahead more. */
    public static final int MADV_SEQUENTIAL = 2;
    /** Will need these pages soon. */
    public static final int MADV_WILLNEED = 3;
    /** Do not need these pages: drop them (file pages are re-read on access). */
    public static final int MADV_DONTNEED = 4;
    /** Free the pages and the backing store. */
    public static final int MADV_REMOVE = 9;
    /** Do not copy into a forked child. */
    public static final int MADV_DONTFORK = 10;
    /** Undo DONTFORK. */
    public static final int MADV_DOFORK = 11;
    /** Exclude from core dumps. */
    public static final int MADV_DONTDUMP = 16;
    /** Undo DONTDUMP. */
    public static final int MADV_DODUMP = 17;

    /** msync: start the write-back and return. */
    public static final int MS_ASYNC = 1;
    /** msync: invalidate other mappings of the file. */
    public static final int MS_INVALIDATE = 2;
    /** msync: write back and wait. */
    public static final int MS_SYNC = 4;

    private Mman()
    {
    }

    /**
     * @param prot PROT_* bits.
     * @return e.g. {@code READ|WRITE}, or {@code NONE}.
     */
    public static String protToString(final int prot)
    {
        if (prot == PROT_NONE)
        {
            return "NONE";
        }
        final StringBuilder sb = new StringBuilder();
        append(sb, prot, PROT_READ, "READ");
        append(sb, prot, PROT_WRITE, "WRITE");
        append(sb, prot, PROT_EXEC, "EXEC");
        final int rest = prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC);
        if (rest != 0)
        {
            append(sb, rest, rest, "0x" + Integer.toHexString(rest));
        }
        return sb.toString();
    }

    private static void append(final StringBuilder sb, final int value, final int bit, final String name)
    {
        if ((value & bit) != 0)
        {
            if (!sb.isEmpty())
            {
                sb.append('|');
            }
            sb.append(name);
        }
    }
}
