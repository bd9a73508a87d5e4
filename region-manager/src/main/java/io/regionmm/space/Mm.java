package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.lock.MmLock;
import io.regionmm.map.RegionMap;
import io.regionmm.region.FileHandle;
import io.regionmm.region.SyncMode;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What one address space's front door, readers and write sections share (the kernel's {@code mm_struct}): the
 * mm lock, the published region map, the window, the file table and whether the space is closed. Neither
 * {@link AddressSpace} nor {@link WriteSection} owns it; both use it under the protocol written in {@link MmLock}.
 *
 * <p>The map is published with a release store and read with an acquire load (the only pair of accesses to it):
 * a map version is built completely, regions and views included, before it is published, so a reader that finds
 * a version sees every region in it fully built. Only a write section publishes, with the mm lock held
 * exclusively, so versions never race each other.
 */
final class Mm
{
    private static final VarHandle MAP;

    static
    {
        try
        {
            MAP = MethodHandles.lookup().findVarHandle(Mm.class, "map", RegionMap.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final Kernel kernel;
    final MmLock lock = new MmLock();
    final Window window;
    /** Changed under the mm lock (its own monitor guards each call too: see FileTable). */
    final FileTable files;
    @SuppressWarnings("unused") // through MAP
    private RegionMap map;
    // Set under the write lock; volatile so a lock-free reader that finds the empty map can say "closed".
    private volatile boolean closed;

    Mm(final Kernel kernel, final Window window)
    {
        this.kernel = kernel;
        this.window = window;
        this.files = new FileTable(kernel);
        MAP.setRelease(this, RegionMap.empty(window.base, window.end));
    }

    /** @return the current version of the region map (lock-free; may be superseded at any moment). */
    RegionMap snapshot()
    {
        // acquire: pairs with publish's release; the regions in the map, and their views, are fully constructed.
        return (RegionMap)MAP.getAcquire(this);
    }

    /** Publishes the next map version; called with the mm lock held exclusively. */
    void publish(final RegionMap next)
    {
        // release: a reader that finds this version sees every region in it fully built.
        MAP.setRelease(this, next);
    }

    boolean isClosed()
    {
        return closed;
    }

    /** Marks the space closed and publishes the empty map; called with the mm lock held exclusively. */
    void markClosed()
    {
        closed = true; // before the empty map: a reader that finds no region then knows why
        publish(RegionMap.empty(window.base, window.end));
    }

    void checkOpen(final String op)
    {
        if (closed)
        {
            throw new SpaceClosedException(op);
        }
    }

    /** @return the file's length; the caller holds the mm lock or has checked the handle is mappable. */
    long fileSize(final String op, final FileHandle file) throws MappingException
    {
        try
        {
            return files.size(op, file); // under the table's monitor: the descriptor cannot close meanwhile
        }
        catch (final KernelException ex)
        {
            throw new MappingException(op, ex);
        }
    }

    /** msync of a mapped range; the caller holds the mm lock (shared is enough: no mapping changes). */
    void sync(final long start, final long length, final SyncMode mode) throws MappingException
    {
        window.checkRange("sync", start, length);
        Window.requireCovered("sync", snapshot(), start, start + length);
        try
        {
            kernel.msync(start, length, mode.flags());
        }
        catch (final KernelException ex)
        {
            throw new MappingException("sync", ex);
        }
    }
}
