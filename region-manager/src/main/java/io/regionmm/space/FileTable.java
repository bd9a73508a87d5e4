package io.regionmm.space;

import io.regionmm.kernel.Fcntl;
import io.regionmm.kernel.FileStat;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * The files of one address space: each handle's descriptor, how many regions map it and whether its owner has
 * released it. The descriptor closes when the handle is released and no region maps it; from then on the handle is
 * refused as "released", so no path can use a descriptor number after close (the kernel reuses numbers at once).
 * Its own monitor guards it, so opening a file needs no write section (a lease holder may open files); releasing
 * one is a write all the same (AddressSpace.releaseFile takes the mm write lock), so no section can be using the
 * descriptor when it closes.
 */
final class FileTable
{
    private static final Logger LOG = LoggerFactory.getLogger(FileTable.class);

    /** One open file. */
    private static final class Entry
    {
        final int fd;
        int regions;
        boolean released;

        Entry(final int fd)
        {
            this.fd = fd;
        }
    }

    private final Kernel kernel;
    private final Map<FileHandle, Entry> open = new IdentityHashMap<>();
    // Handles whose descriptor is closed: refused as "released", not as strangers (weak: a forgotten handle goes).
    private final Set<FileHandle> gone = Collections.newSetFromMap(new WeakHashMap<>());
    private int nextId = 1;
    private boolean closed;

    FileTable(final Kernel kernel)
    {
        this.kernel = kernel;
    }

    /**
     * Opens a file for mapping and adds it to the table; on any refusal (not a regular file, a closed space) the
     * descriptor is closed again.
     */
    FileHandle open(final Path path, final FileAccess access) throws MappingException
    {
        final int flags = (access == FileAccess.READ_WRITE ? Fcntl.O_RDWR | Fcntl.O_CREAT : Fcntl.O_RDONLY) |
            Fcntl.O_CLOEXEC;
        final int fd;
        try
        {
            fd = kernel.open(path.toString(), flags, 0644);
        }
        catch (final KernelException ex)
        {
            throw new MappingException("openFile", ex);
        }
        boolean kept = false;
        try
        {
            final FileStat st = kernel.fstat(fd);
            if (!st.isRegularFile())
            {
                throw new RegionArgumentException("openFile", "path=" + path + " is not a regular file" +
                    (st.isDirectory() ? " (a directory)" : ""));
            }
            final FileHandle h = add(path, fd, access == FileAccess.READ_WRITE, st.inode(), st.devMajor(),
                st.devMinor());
            kept = true;
            return h;
        }
        catch (final KernelException ex)
        {
            throw new MappingException("openFile", ex);
        }
        finally
        {
            if (!kept)
            {
                closeQuietly(kernel, fd); // refused for any reason (closed space, ...): no leak
            }
        }
    }

    private synchronized FileHandle add(final Path path, final int fd, final boolean writable, final long inode,
        final int devMajor, final int devMinor)
    {
        if (closed)
        {
            throw new SpaceClosedException("openFile");
        }
        final FileHandle h = new FileHandle(nextId++, path, writable, inode, devMajor, devMinor);
        open.put(h, new Entry(fd));
        return h;
    }

    /** Refuses READ_WRITE SHARED on a file opened read-only: the kernel would answer EACCES. */
    static void checkWritableShared(final String op, final FileHandle h, final Protection protection,
        final Sharing sharing)
    {
        if (protection == Protection.READ_WRITE && sharing == Sharing.SHARED && !h.writable())
        {
            throw new RegionArgumentException(op, "file " + h + " is open read-only and cannot be mapped " +
                "READ_WRITE SHARED; open it READ_WRITE or map it PRIVATE");
        }
    }

    /** @throws RegionArgumentException unless {@code h} is open in this space and not released. */
    synchronized void checkMappable(final String op, final FileHandle h)
    {
        final Entry e = entry(op, h);
        if (e.released)
        {
            throw released(op, h);
        }
    }

    /** @return the descriptor of an open handle (released handles still mapped by regions included). */
    synchronized int fd(final String op, final FileHandle h)
    {
        return entry(op, h).fd;
    }

    /** @return the file's length, from fstat of its descriptor, which cannot close meanwhile. */
    synchronized long size(final String op, final FileHandle h) throws KernelException
    {
        return kernel.fstat(entry(op, h).fd).size();
    }

    private Entry entry(final String op, final FileHandle h)
    {
        final Entry e = open.get(h);
        if (e == null)
        {
            throw gone.contains(h) ? released(op, h) :
                new RegionArgumentException(op, "file " + h + " does not belong to this address space");
        }
        return e;
    }

    private static RegionArgumentException released(final String op, final FileHandle h)
    {
        return new RegionArgumentException(op, "file " + h + " was released");
    }

    /** Marks the owner's release; closes the descriptor when no region maps the file. */
    synchronized void release(final String op, final FileHandle h)
    {
        checkMappable(op, h);
        final Entry e = open.get(h);
        e.released = true;
        if (e.regions == 0)
        {
            close(h);
        }
    }

    synchronized void addRegion(final FileHandle h)
    {
        final Entry e = open.get(h);
        if (e == null)
        {
            throw new IllegalStateException("file " + h + " is closed");
        }
        e.regions++;
    }

    synchronized void removeRegion(final FileHandle h)
    {
        final Entry e = open.get(h);
        if (--e.regions == 0 && e.released)
        {
            close(h);
        }
    }

    /** @return true while the handle's descriptor is open (its owner holds it, or regions map it). */
    synchronized boolean isOpen(final FileHandle h)
    {
        return open.containsKey(h);
    }

    /** @return how many regions map the file (0 once closed). */
    synchronized int regions(final FileHandle h)
    {
        final Entry e = open.get(h);
        return e == null ? 0 : e.regions;
    }

    synchronized void closeAll()
    {
        closed = true; // an openFile racing the space's close must not add a descriptor nobody closes
        for (final FileHandle h : new ArrayList<>(open.keySet()))
        {
            close(h);
        }
    }

    private void close(final FileHandle h)
    {
        final Entry e = open.remove(h);
        gone.add(h);
        closeQuietly(kernel, e.fd);
    }

    private static void closeQuietly(final Kernel kernel, final int fd)
    {
        try
        {
            kernel.close(fd);
        }
        catch (final KernelException ex)
        {
            LOG.warn("close of fd {} failed: {}", fd, ex.getMessage());
        }
    }
}
