package io.regionmm.region;

import java.nio.file.Path;

/**
 * An open file that regions map (the kernel's {@code vm_file}). Regions share it and count it; the descriptor is
 * closed when its owner has released it and its last region is gone. Created by the address space, which guards
 * the counts with its write lock.
 */
public final class FileHandle
{
    private final int id;
    private final Path path;
    private final int fd;
    private final boolean writable;
    private final long inode;
    private final int devMajor;
    private final int devMinor;
    // Guarded by the address space's write lock.
    private int regions;
    private boolean released;
    private boolean closed;

    /**
     * @param id       a small number for display (f1, f2, ...).
     * @param path     the path it was opened by.
     * @param fd       the descriptor.
     * @param writable opened read-write.
     * @param inode    its inode.
     * @param devMajor its device's major number.
     * @param devMinor its device's minor number.
     */
    public FileHandle(final int id, final Path path, final int fd, final boolean writable, final long inode,
        final int devMajor, final int devMinor)
    {
        this.id = id;
        this.path = path;
        this.fd = fd;
        this.writable = writable;
        this.inode = inode;
        this.devMajor = devMajor;
        this.devMinor = devMinor;
    }

    /**
     * @return the display number.
     */
    public int id()
    {
        return id;
    }

    /**
     * @return the path the file was opened by.
     */
    public Path path()
    {
        return path;
    }

    /**
     * @return the file descriptor (valid until the handle closes).
     */
    public int fd()
    {
        return fd;
    }

    /**
     * @return true when opened read-write.
     */
    public boolean writable()
    {
        return writable;
    }

    /**
     * @return the inode, as /proc/self/maps shows it.
     */
    public long inode()
    {
        return inode;
    }

    /**
     * @return the device major number.
     */
    public int devMajor()
    {
        return devMajor;
    }

    /**
     * @return the device minor number.
     */
    public int devMinor()
    {
        return devMinor;
    }

    /**
     * @return how many regions map this file now.
     */
    public int regionCount()
    {
        return regions;
    }

    /**
     * @return true once the descriptor is closed.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * @return true once its owner released it.
     */
    public boolean isReleased()
    {
        return released;
    }

    /** Counts a new region. Caller holds the write lock. */
    public void addRegion()
    {
        if (closed)
        {
            throw new IllegalStateException("file " + this + " is closed");
        }
        regions++;
    }

    /**
     * Drops a region. Caller holds the write lock.
     *
     * @return true when the descriptor should now be closed.
     */
    public boolean removeRegion()
    {
        regions--;
        return regions == 0 && released;
    }

    /**
     * Marks it released by its owner. Caller holds the write lock.
     *
     * @return true when the descriptor should now be closed.
     */
    public boolean release()
    {
        released = true;
        return regions == 0 && !closed;
    }

    /** Records that the descriptor was closed. Caller holds the write lock. */
    public void markClosed()
    {
        closed = true;
    }

    @Override
    public String toString()
    {
        return "f" + id + ":" + path;
    }
}
