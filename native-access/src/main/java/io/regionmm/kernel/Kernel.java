package io.regionmm.kernel;

/**
 * The system calls regionmm needs, one method each, with C semantics and Java types: addresses are {@code long},
 * failures are {@link KernelException}s (never {@code -1}). {@link #system()} is the real kernel through FFM;
 * {@code io.regionmm.kernel.fault.FaultInjectingKernel} wraps any implementation to inject failures and pauses.
 * Implementations are thread-safe.
 */
public interface Kernel
{
    /**
     * @return the real kernel, through FFM downcalls.
     */
    static Kernel system()
    {
        return NativeKernel.INSTANCE;
    }

    /**
     * @return the page size in bytes.
     */
    int pageSize();

    /**
     * {@code mmap(2)}.
     *
     * @param addr   hint or (with MAP_FIXED*) exact address; 0 for none.
     * @param length bytes, > 0.
     * @param prot   PROT_* bits.
     * @param flags  MAP_* bits.
     * @param fd     file descriptor, or -1 with MAP_ANONYMOUS.
     * @param offset file offset, page-aligned.
     * @return the address of the mapping.
     * @throws KernelException on failure.
     */
    long mmap(long addr, long length, int prot, int flags, int fd, long offset) throws KernelException;

    /**
     * {@code munmap(2)}.
     *
     * @param addr   page-aligned start.
     * @param length bytes.
     * @throws KernelException on failure.
     */
    void munmap(long addr, long length) throws KernelException;

    /**
     * {@code mremap(2)}.
     *
     * @param oldAddr start of the existing mapping.
     * @param oldSize its length.
     * @param newSize the new length.
     * @param flags   MREMAP_* bits.
     * @param newAddr the target with MREMAP_FIXED, else ignored.
     * @return the (possibly new) address.
     * @throws KernelException on failure.
     */
    long mremap(long oldAddr, long oldSize, long newSize, int flags, long newAddr) throws KernelException;

    /**
     * {@code mprotect(2)}.
     *
     * @param addr   page-aligned start.
     * @param length bytes.
     * @param prot   PROT_* bits.
     * @throws KernelException on failure.
     */
    void mprotect(long addr, long length, int prot) throws KernelException;

    /**
     * {@code madvise(2)}.
     *
     * @param addr   page-aligned start.
     * @param length bytes.
     * @param advice MADV_* value.
     * @throws KernelException on failure.
     */
    void madvise(long addr, long length, int advice) throws KernelException;

    /**
     * {@code msync(2)}.
     *
     * @param addr   page-aligned start.
     * @param length bytes.
     * @param flags  MS_* bits.
     * @throws KernelException on failure.
     */
    void msync(long addr, long length, int flags) throws KernelException;

    /**
     * {@code mlock(2)}.
     *
     * @param addr   start.
     * @param length bytes.
     * @throws KernelException on failure (ENOMEM/EPERM when RLIMIT_MEMLOCK is too low).
     */
    void mlock(long addr, long length) throws KernelException;

    /**
     * {@code munlock(2)}.
     *
     * @param addr   start.
     * @param length bytes.
     * @throws KernelException on failure.
     */
    void munlock(long addr, long length) throws KernelException;

    /**
     * {@code open(2)}.
     *
     * @param path  file path.
     * @param flags O_* bits ({@link Fcntl}).
     * @param mode  permission bits for a created file.
     * @return the file descriptor.
     * @throws KernelException on failure.
     */
    int open(String path, int flags, int mode) throws KernelException;

    /**
     * {@code close(2)}.
     *
     * @param fd file descriptor.
     * @throws KernelException on failure.
     */
    void close(int fd) throws KernelException;

    /**
     * {@code ftruncate(2)}.
     *
     * @param fd     file descriptor, open for writing.
     * @param length new length.
     * @throws KernelException on failure.
     */
    void ftruncate(int fd, long length) throws KernelException;

    /**
     * {@code fallocate(2)}: reserves blocks so later writes through a mapping cannot fail for lack of space.
     *
     * @param fd     file descriptor, open for writing.
     * @param mode   FALLOC_FL_* bits, 0 to allocate and extend.
     * @param offset start of the range.
     * @param length length of the range.
     * @throws KernelException on failure (ENOSPC when the disk is full).
     */
    void fallocate(int fd, int mode, long offset, long length) throws KernelException;

    /**
     * {@code fstat(2)} (implemented with {@code statx}, whose layout is the same on every architecture).
     *
     * @param fd file descriptor.
     * @return size, inode, device and mode.
     * @throws KernelException on failure.
     */
    FileStat fstat(int fd) throws KernelException;

    /**
     * {@code fsync(2)}.
     *
     * @param fd file descriptor.
     * @throws KernelException on failure.
     */
    void fsync(int fd) throws KernelException;

    /**
     * {@code fdatasync(2)}.
     *
     * @param fd file descriptor.
     * @throws KernelException on failure.
     */
    void fdatasync(int fd) throws KernelException;
}
