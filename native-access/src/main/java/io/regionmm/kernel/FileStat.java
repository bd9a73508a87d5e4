package io.regionmm.kernel;

/**
 * What {@code fstat} reports about an open file: enough to match it to a line of {@code /proc/self/maps}
 * (device and inode) and to check that a range lies inside it (size).
 *
 * @param size      length in bytes.
 * @param inode     inode number.
 * @param devMajor  major number of the device holding the file.
 * @param devMinor  minor number of the device holding the file.
 * @param mode      type and permission bits ({@code st_mode}).
 * @param blockSize preferred I/O block size.
 */
public record FileStat(long size, long inode, int devMajor, int devMinor, int mode, int blockSize)
{
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;

    /**
     * @return true for a regular file.
     */
    public boolean isRegularFile()
    {
        return (mode & S_IFMT) == S_IFREG;
    }

    /**
     * @return true for a directory.
     */
    public boolean isDirectory()
    {
        return (mode & S_IFMT) == S_IFDIR;
    }
}
