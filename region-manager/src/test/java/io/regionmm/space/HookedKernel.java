package io.regionmm.space;

import io.regionmm.kernel.FileStat;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The real kernel, with two one-shot hooks that stop a writer inside a system call's effect, where
 * {@link io.regionmm.kernel.fault.FaultInjectingKernel} (which pauses before a call) cannot: right after a tombstone
 * has replaced a range, and half-way through a DONTNEED (its first page dropped, the rest not yet, as the kernel
 * zaps page after page).
 */
final class HookedKernel implements Kernel
{
    private final Kernel k = Kernel.system();
    private final AtomicReference<Runnable> afterTombstone = new AtomicReference<>();
    private final AtomicReference<Runnable> midDontNeed = new AtomicReference<>();

    /** The next tombstone (a fixed anonymous mmap) runs {@code hook} on the writer's thread once it is in place. */
    void afterNextTombstone(final Runnable hook)
    {
        afterTombstone.set(hook);
    }

    /** The next DONTNEED of more than a page drops its first page, runs {@code hook}, then drops the rest. */
    void midNextDontNeed(final Runnable hook)
    {
        midDontNeed.set(hook);
    }

    @Override
    public int pageSize()
    {
        return k.pageSize();
    }

    @Override
    public long mmap(final long addr, final long length, final int prot, final int flags, final int fd,
        final long offset) throws KernelException
    {
        final long at = k.mmap(addr, length, prot, flags, fd, offset);
        if (fd == -1 && (flags & Mman.MAP_FIXED) != 0 && (flags & Mman.MAP_ANONYMOUS) != 0)
        {
            final Runnable hook = afterTombstone.getAndSet(null);
            if (hook != null)
            {
                hook.run();
            }
        }
        return at;
    }

    @Override
    public void madvise(final long addr, final long length, final int advice) throws KernelException
    {
        final long page = k.pageSize();
        if (advice == Mman.MADV_DONTNEED && length > page)
        {
            final Runnable hook = midDontNeed.getAndSet(null);
            if (hook != null)
            {
                k.madvise(addr, page, advice);
                hook.run();
                k.madvise(addr + page, length - page, advice);
                return;
            }
        }
        k.madvise(addr, length, advice);
    }

    @Override
    public void munmap(final long addr, final long length) throws KernelException
    {
        k.munmap(addr, length);
    }

    @Override
    public long mremap(final long oldAddr, final long oldSize, final long newSize, final int flags, final long newAddr)
        throws KernelException
    {
        return k.mremap(oldAddr, oldSize, newSize, flags, newAddr);
    }

    @Override
    public void mprotect(final long addr, final long length, final int prot) throws KernelException
    {
        k.mprotect(addr, length, prot);
    }

    @Override
    public void msync(final long addr, final long length, final int flags) throws KernelException
    {
        k.msync(addr, length, flags);
    }

    @Override
    public void mlock(final long addr, final long length) throws KernelException
    {
        k.mlock(addr, length);
    }

    @Override
    public void munlock(final long addr, final long length) throws KernelException
    {
        k.munlock(addr, length);
    }

    @Override
    public int open(final String path, final int flags, final int mode) throws KernelException
    {
        return k.open(path, flags, mode);
    }

    @Override
    public void close(final int fd) throws KernelException
    {
        k.close(fd);
    }

    @Override
    public void ftruncate(final int fd, final long length) throws KernelException
    {
        k.ftruncate(fd, length);
    }

    @Override
    public void fallocate(final int fd, final int mode, final long offset, final long length) throws KernelException
    {
        k.fallocate(fd, mode, offset, length);
    }

    @Override
    public FileStat fstat(final int fd) throws KernelException
    {
        return k.fstat(fd);
    }

    @Override
    public void fsync(final int fd) throws KernelException
    {
        k.fsync(fd);
    }

    @Override
    public void fdatasync(final int fd) throws KernelException
    {
        k.fdatasync(fd);
    }
}
