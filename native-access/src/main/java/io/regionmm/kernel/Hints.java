package io.regionmm.kernel;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * What an operator can do about a failed call; chosen by call and errno.
 */
final class Hints
{
    private Hints()
    {
    }

    static String hintFor(final Syscall call, final int errno)
    {
        final Errno e = Errno.ofNumber(errno);
        if (e == null)
        {
            return "";
        }
        return switch (e)
        {
            case ENOMEM -> switch (call)
            {
                case MMAP, MREMAP, MPROTECT, MADVISE, MUNMAP ->
                    "out of address space or of mappings: raise vm.max_map_count (now " + maxMapCount() +
                    ", e.g. sysctl -w vm.max_map_count=262144) or merge/unmap regions";
                case MLOCK -> "locked memory limit reached: raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK";
                default -> "";
            };
            case EPERM, EAGAIN -> call == Syscall.MLOCK ?
                "locked memory limit reached: raise RLIMIT_MEMLOCK (ulimit -l) or grant CAP_IPC_LOCK" : "";
            case EACCES -> switch (call)
            {
                case MMAP, MPROTECT ->
                    "a file opened read-only cannot be mapped shared and writable: open it read-write";
                case OPEN -> "check the file's permissions";
                default -> "";
            };
            case EINVAL -> switch (call)
            {
                case MMAP, MUNMAP, MREMAP, MPROTECT, MADVISE, MSYNC, MLOCK, MUNLOCK ->
                    "addresses, offsets and lengths must be page-aligned, lengths non-zero";
                default -> "";
            };
            case EBADF -> "the file descriptor is closed or was opened without the access this call needs";
            case ENOSPC, EDQUOT -> "the file system is full (or the quota reached): free space before growing files";
            case EMFILE, ENFILE -> "too many open files: raise the limit (ulimit -n) or close files";
            case EOPNOTSUPP -> call == Syscall.FALLOCATE ? "this file system cannot preallocate; use another" : "";
            case ENODEV -> call == Syscall.MMAP ? "this file system does not support mmap" : "";
            default -> "";
        };
    }

    static String maxMapCount()
    {
        // Not Files.readString: /proc files report a size of 0, and on JDK 25 that reads back only the first byte
        // ("6" for 65530). A stream reads until the end.
        try (InputStream in = new FileInputStream("/proc/sys/vm/max_map_count"))
        {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
        catch (final IOException | RuntimeException ex)
        {
            return "unknown";
        }
    }
}
