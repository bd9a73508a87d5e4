package io.regionmm.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The real kernel, through FFM downcalls into the C library. Handles are created once, at class initialisation.
 * Every call captures errno through {@link Linker.Option#captureCallState}; the capture buffer is one small
 * segment per thread, so the hot calls (mmap, mprotect, mremap, munmap) allocate nothing.
 */
final class NativeKernel implements Kernel
{
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // The capture segment belongs to an automatic arena: freed by GC when its thread (and the thread local) is gone.
    private static final ThreadLocal<MemorySegment> ERRNO_BUFFER =
        ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle MMAP = handle("mmap",
        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    // mremap is variadic: the fifth argument (new_address) is read only with MREMAP_FIXED.
    private static final MethodHandle MREMAP = handle("mremap",
        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS),
        Linker.Option.firstVariadicArg(4));
    private static final MethodHandle MPROTECT = handle("mprotect",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MADVISE = handle("madvise",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MSYNC = handle("msync",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MLOCK = handle("mlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MUNLOCK = handle("munlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    // open is variadic: mode is read only with O_CREAT.
    private static final MethodHandle OPEN = handle("open",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = handle("ftruncate",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = handle("fallocate",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle STATX = handle("statx",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FSYNC = handle("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC = handle("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETPAGESIZE = LINKER.downcallHandle(
        LIBC.find("getpagesize").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    private static final long MAP_FAILED = -1L;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final long STATX_SIZE = 256;
    private static final MemorySegment EMPTY_PATH = Arena.global().allocateFrom("");

    // Last among the statics: the constructor uses the handles above.
    static final NativeKernel INSTANCE = new NativeKernel();

    private final int pageSize;

    private NativeKernel()
    {
        Arch.current();
        try
        {
            pageSize = (int)GETPAGESIZE.invokeExact();
        }
        catch (final Throwable t)
        {
            throw new ExceptionInInitializerError(t);
        }
    }

    private static MethodHandle handle(final String name, final FunctionDescriptor fd, final Linker.Option... extra)
    {
        final Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        final MemorySegment symbol = LIBC.find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError(
                "the C library has no " + name + "; regionmm needs glibc >= 2.28"));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static int errno(final MemorySegment capture)
    {
        return (int)ERRNO.get(capture, 0L);
    }

    private static KernelException fail(final MemorySegment capture, final Syscall call, final long... args)
    {
        return KernelException.of(call, errno(capture), call.describe(null, args));
    }

    private static RuntimeException unexpected(final Throwable t)
    {
        if (t instanceof RuntimeException re)
        {
            return re;
        }
        if (t instanceof Error e)
        {
            throw e;
        }
        return new IllegalStateException("downcall failed unexpectedly", t);
    }

    @Override
    public int pageSize()
    {
        return pageSize;
    }

    @Override
    public long mmap(
        final long addr, final long length, final int prot, final int flags, final int fd, final long offset)
        throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final long result;
        try
        {
            result = ((MemorySegment)MMAP.invokeExact(capture, MemorySegment.ofAddress(addr), length, prot, flags, fd,
                offset)).address();
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (result == MAP_FAILED)
        {
            throw fail(capture, Syscall.MMAP, addr, length, prot, flags, fd, offset);
        }
        return result;
    }

    @Override
    public void munmap(final long addr, final long length) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MUNMAP.invokeExact(capture, MemorySegment.ofAddress(addr), length);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MUNMAP, addr, length);
        }
    }

    @Override
    public long mremap(final long oldAddr, final long oldSize, final long newSize, final int flags, final long newAddr)
        throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final long result;
        try
        {
            result = ((MemorySegment)MREMAP.invokeExact(capture, MemorySegment.ofAddress(oldAddr), oldSize, newSize,
                flags, MemorySegment.ofAddress(newAddr))).address();
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (result == MAP_FAILED)
        {
            throw fail(capture, Syscall.MREMAP, oldAddr, oldSize, newSize, flags, newAddr);
        }
        return result;
    }

    @Override
    public void mprotect(final long addr, final long length, final int prot) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MPROTECT.invokeExact(capture, MemorySegment.ofAddress(addr), length, prot);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MPROTECT, addr, length, prot);
        }
    }

    @Override
    public void madvise(final long addr, final long length, final int advice) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MADVISE.invokeExact(capture, MemorySegment.ofAddress(addr), length, advice);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MADVISE, addr, length, advice);
        }
    }

    @Override
    public void msync(final long addr, final long length, final int flags) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MSYNC.invokeExact(capture, MemorySegment.ofAddress(addr), length, flags);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MSYNC, addr, length, flags);
        }
    }

    @Override
    public void mlock(final long addr, final long length) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MLOCK.invokeExact(capture, MemorySegment.ofAddress(addr), length);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MLOCK, addr, length);
        }
    }

    @Override
    public void munlock(final long addr, final long length) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)MUNLOCK.invokeExact(capture, MemorySegment.ofAddress(addr), length);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.MUNLOCK, addr, length);
        }
    }

    @Override
    public int open(final String path, final int flags, final int mode) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int fd;
        try (Arena arena = Arena.ofConfined())
        {
            fd = (int)OPEN.invokeExact(capture, arena.allocateFrom(path), flags, mode);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (fd < 0)
        {
            throw KernelException.of(Syscall.OPEN, errno(capture), Syscall.OPEN.describe(path, flags, mode));
        }
        return fd;
    }

    @Override
    public void close(final int fd) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)CLOSE.invokeExact(capture, fd);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.CLOSE, fd);
        }
    }

    @Override
    public void ftruncate(final int fd, final long length) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)FTRUNCATE.invokeExact(capture, fd, length);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.FTRUNCATE, fd, length);
        }
    }

    @Override
    public void fallocate(final int fd, final int mode, final long offset, final long length) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)FALLOCATE.invokeExact(capture, fd, mode, offset, length);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.FALLOCATE, fd, mode, offset, length);
        }
    }

    @Override
    public FileStat fstat(final int fd) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            final int rc;
            try
            {
                rc = (int)STATX.invokeExact(capture, fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_BASIC_STATS, buf);
            }
            catch (final Throwable t)
            {
                throw unexpected(t);
            }
            if (rc != 0)
            {
                throw fail(capture, Syscall.FSTAT, fd);
            }
            // struct statx is architecture-independent (include/uapi/linux/stat.h).
            return new FileStat(
                buf.get(JAVA_LONG, 40),                                   // stx_size
                buf.get(JAVA_LONG, 32),                                   // stx_ino
                buf.get(JAVA_INT, 136),                                   // stx_dev_major
                buf.get(JAVA_INT, 140),                                   // stx_dev_minor
                Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, 28)), // stx_mode
                buf.get(JAVA_INT, 4));                                    // stx_blksize
        }
    }

    @Override
    public void fsync(final int fd) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)FSYNC.invokeExact(capture, fd);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.FSYNC, fd);
        }
    }

    @Override
    public void fdatasync(final int fd) throws KernelException
    {
        final MemorySegment capture = ERRNO_BUFFER.get();
        final int rc;
        try
        {
            rc = (int)FDATASYNC.invokeExact(capture, fd);
        }
        catch (final Throwable t)
        {
            throw unexpected(t);
        }
        if (rc != 0)
        {
            throw fail(capture, Syscall.FDATASYNC, fd);
        }
    }
}
