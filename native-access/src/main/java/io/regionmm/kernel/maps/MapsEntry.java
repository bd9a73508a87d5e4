package io.regionmm.kernel.maps;

/**
 * One line of {@code /proc/self/maps}: one kernel VMA.
 *
 * @param start    first address.
 * @param end      address after the last byte.
 * @param read     the 'r' permission.
 * @param write    the 'w' permission.
 * @param execute  the 'x' permission.
 * @param shared   's' (shared) rather than 'p' (private).
 * @param offset   file offset of {@code start} (0 for anonymous mappings).
 * @param devMajor major number of the file's device (0 for anonymous).
 * @param devMinor minor number of the file's device.
 * @param inode    inode of the file (0 for anonymous).
 * @param path     file path, a pseudo-name like {@code [heap]}, or empty.
 */
public record MapsEntry(long start, long end, boolean read, boolean write, boolean execute, boolean shared,
    long offset, int devMajor, int devMinor, long inode, String path)
{
    /**
     * @return end - start.
     */
    public long length()
    {
        return end - start;
    }

    /**
     * @return true when no file backs this VMA.
     */
    public boolean anonymous()
    {
        return inode == 0;
    }

    /**
     * @return the permissions as the kernel prints them, e.g. {@code rw-s}.
     */
    public String permissions()
    {
        return (read ? "r" : "-") + (write ? "w" : "-") + (execute ? "x" : "-") + (shared ? "s" : "p");
    }

    @Override
    public String toString()
    {
        return String.format("%x-%x %s %08x %02x:%02x %d %s", start, end, permissions(), offset, devMajor, devMinor,
            inode, path);
    }
}
