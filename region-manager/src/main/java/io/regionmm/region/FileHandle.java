package io.regionmm.region;

import java.nio.file.Path;

/**
 * A file that regions map (the kernel's {@code vm_file}), as a value: which file it is, not its state. The address
 * space that opened it keeps its descriptor and counts (how many regions map it, whether its owner released it)
 * in its own file table, so nothing outside the space can close, count or reuse the descriptor; a handle is
 * accepted only by the space that opened it, and refused once released.
 *
 * @param id       a small number for display (f1, f2, ...), unique within its space.
 * @param path     the path it was opened by.
 * @param writable opened read-write.
 * @param inode    its inode, as /proc/self/maps shows it.
 * @param devMajor its device's major number.
 * @param devMinor its device's minor number.
 */
public record FileHandle(int id, Path path, boolean writable, long inode, int devMajor, int devMinor)
{
    // A record's equals would make two handles for the same file (opened twice) equal; the space tells its handles
    // apart by identity, so equality is identity here too.
    @Override
    public boolean equals(final Object other)
    {
        return this == other;
    }

    @Override
    public int hashCode()
    {
        return System.identityHashCode(this);
    }

    @Override
    public String toString()
    {
        return "f" + id + ":" + path;
    }
}
