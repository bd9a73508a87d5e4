package io.regionmm.kernel;

/**
 * Flags of {@code open} and {@code fallocate}. The common ones are the same on x86-64 and aarch64; the few that
 * differ ({@link #O_DIRECTORY}, {@link #O_NOFOLLOW}, {@link #O_DIRECT}) are chosen by {@link Arch#current()}.
 */
public final class Fcntl
{
    /** Open for reading only. */
    public static final int O_RDONLY = 0;
    /** Open for writing only. */
    public static final int O_WRONLY = 1;
    /** Open for reading and writing. */
    public static final int O_RDWR = 2;
    /** Create the file if it does not exist. */
    public static final int O_CREAT = 0100;
    /** With O_CREAT: fail if it exists. */
    public static final int O_EXCL = 0200;
    /** Truncate to length 0. */
    public static final int O_TRUNC = 01000;
    /** Writes append. */
    public static final int O_APPEND = 02000;
    /** Close on exec. */
    public static final int O_CLOEXEC = 02000000;

    /** Fail unless the path is a directory (differs by architecture). */
    public static final int O_DIRECTORY = Arch.current() == Arch.AARCH64 ? 040000 : 0200000;
    /** Fail if the last path component is a symbolic link (differs by architecture). */
    public static final int O_NOFOLLOW = Arch.current() == Arch.AARCH64 ? 0100000 : 0400000;
    /** Bypass the page cache (differs by architecture). */
    public static final int O_DIRECT = Arch.current() == Arch.AARCH64 ? 0200000 : 040000;

    /** fallocate: do not change the file size. */
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    /** fallocate: deallocate the range (with KEEP_SIZE). */
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;

    private Fcntl()
    {
    }
}
