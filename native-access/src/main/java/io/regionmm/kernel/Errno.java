package io.regionmm.kernel;

/**
 * The errno values regionmm's system calls report, with their Linux numbers (identical on x86-64 and aarch64,
 * which both use the generic errno table).
 */
public enum Errno
{
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "Input/output error"),
    ENXIO(6, "No such device or address"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Cannot allocate memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    ENFILE(23, "Too many open files in system"),
    EMFILE(24, "Too many open files"),
    ETXTBSY(26, "Text file busy"),
    EFBIG(27, "File too large"),
    ENOSPC(28, "No space left on device"),
    ESPIPE(29, "Illegal seek"),
    EROFS(30, "Read-only file system"),
    ENAMETOOLONG(36, "File name too long"),
    ENOSYS(38, "Function not implemented"),
    ELOOP(40, "Too many levels of symbolic links"),
    EOVERFLOW(75, "Value too large for defined data type"),
    EOPNOTSUPP(95, "Operation not supported"),
    EDQUOT(122, "Disk quota exceeded");

    private static final Errno[] BY_NUMBER = new Errno[128];

    static
    {
        for (final Errno e : values())
        {
            BY_NUMBER[e.number] = e;
        }
    }

    private final int number;
    private final String description;

    Errno(final int number, final String description)
    {
        this.number = number;
        this.description = description;
    }

    /**
     * @return the Linux errno number.
     */
    public int number()
    {
        return number;
    }

    /**
     * @return the C library's text for this errno.
     */
    public String description()
    {
        return description;
    }

    /**
     * @param number an errno number as the kernel reports it.
     * @return the matching constant, or {@code null} for a number this table does not name.
     */
    public static Errno ofNumber(final int number)
    {
        return number > 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : null;
    }

    /**
     * @param number an errno number.
     * @return its symbolic name ({@code ENOMEM}), or {@code errno<number>} when this table does not name it.
     */
    public static String nameOf(final int number)
    {
        final Errno e = ofNumber(number);
        return e != null ? e.name() : "errno" + number;
    }
}
