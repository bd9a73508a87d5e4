package io.regionmm.kernel;

import io.regionmm.kernel.maps.MapsEntry;
import io.regionmm.kernel.maps.ProcMaps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.regionmm.kernel.Fcntl.O_CREAT;
import static io.regionmm.kernel.Fcntl.O_RDONLY;
import static io.regionmm.kernel.Fcntl.O_RDWR;
import static io.regionmm.kernel.Mman.MAP_ANONYMOUS;
import static io.regionmm.kernel.Mman.MAP_FIXED_NOREPLACE;
import static io.regionmm.kernel.Mman.MAP_PRIVATE;
import static io.regionmm.kernel.Mman.MAP_SHARED;
import static io.regionmm.kernel.Mman.MREMAP_MAYMOVE;
import static io.regionmm.kernel.Mman.PROT_NONE;
import static io.regionmm.kernel.Mman.PROT_READ;
import static io.regionmm.kernel.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every wrapper against the real kernel: one success path and at least one error path each.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NativeKernelTest
{
    private static final Kernel K = Kernel.system();
    private static final long PAGE = K.pageSize();

    @TempDir
    Path dir;

    private final List<long[]> mappings = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();

    @AfterEach
    void release() throws KernelException
    {
        for (final long[] m : mappings)
        {
            K.munmap(m[0], m[1]);
        }
        for (final int fd : fds)
        {
            K.close(fd);
        }
    }

    private long map(final long length, final int prot, final int flags, final int fd) throws KernelException
    {
        final long addr = K.mmap(0, length, prot, flags, fd, 0);
        mappings.add(new long[] {addr, length});
        return addr;
    }

    private int openFile(final String name, final long length) throws KernelException
    {
        final int fd = K.open(dir.resolve(name).toString(), O_RDWR | O_CREAT, 0644);
        fds.add(fd);
        K.ftruncate(fd, length);
        return fd;
    }

    private static MemorySegment segment(final long addr, final long length)
    {
        return MemorySegment.ofAddress(addr).reinterpret(length);
    }

    private static KernelException expectErrno(final Errno errno, final Executable call)
    {
        final KernelException ex = assertThrows(KernelException.class, call);
        assertEquals(errno.name(), ex.errnoName(), ex.getMessage());
        assertEquals(errno.number(), ex.errno());
        assertTrue(ex.getMessage().contains(errno.name()), ex.getMessage());
        return ex;
    }

    private static MapsEntry vmaAt(final long addr)
    {
        return ProcMaps.read().stream().filter(e -> e.start() <= addr && addr < e.end()).findFirst().orElseThrow();
    }

    @Test
    void pageSizeIsAPowerOfTwo()
    {
        assertTrue(PAGE >= 4096 && Long.bitCount(PAGE) == 1, "page size " + PAGE);
    }

    @Test
    void sharedMappingWritesReachTheFileAfterMsync() throws Exception
    {
        final int fd = openFile("shared", 2 * PAGE);
        final long addr = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        final MemorySegment seg = segment(addr, 2 * PAGE);
        for (int i = 0; i < 2 * PAGE; i += 8)
        {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, i, 0x5EED_0000L + i);
        }
        K.msync(addr, 2 * PAGE, Mman.MS_SYNC);

        final ByteBuffer back = ByteBuffer.allocate((int)(2 * PAGE)).order(java.nio.ByteOrder.nativeOrder());
        try (FileChannel ch = FileChannel.open(dir.resolve("shared"), StandardOpenOption.READ))
        {
            ch.read(back, 0);
        }
        for (int i = 0; i < 2 * PAGE; i += 8)
        {
            assertEquals(0x5EED_0000L + i, back.getLong(i), "offset " + i);
        }
    }

    @Test
    void privateMappingWritesDoNotReachTheFile() throws Exception
    {
        final int fd = openFile("private", PAGE);
        final long addr = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
        segment(addr, PAGE).fill((byte)0x7A);
        K.msync(addr, PAGE, Mman.MS_SYNC);
        assertArrayEquals(new byte[(int)PAGE], Files.readAllBytes(dir.resolve("private")));
        assertEquals((byte)0x7A, segment(addr, PAGE).get(ValueLayout.JAVA_BYTE, PAGE - 1));
    }

    @Test
    void mmapErrors() throws Exception
    {
        expectErrno(Errno.EINVAL, () -> K.mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        expectErrno(Errno.EBADF, () -> K.mmap(0, PAGE, PROT_READ, MAP_SHARED, 987_654, 0));
        final int fd = openFile("ro", PAGE);
        final int ro = K.open(dir.resolve("ro").toString(), O_RDONLY, 0);
        fds.add(ro);
        final KernelException ex =
            expectErrno(Errno.EACCES, () -> K.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
        assertTrue(ex.hint().contains("read-write"), ex.getMessage());
        assertTrue(ex.getMessage().startsWith("mmap(addr=0x0, length=" + PAGE + ", prot=READ|WRITE"), ex.getMessage());
        expectErrno(Errno.EINVAL, () -> K.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, 1));
        final long taken = map(PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        expectErrno(Errno.EEXIST,
            () -> K.mmap(taken, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
    }

    @Test
    void munmapAndItsErrors() throws Exception
    {
        final long addr = K.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        expectErrno(Errno.EINVAL, () -> K.munmap(addr + 1, PAGE));
        expectErrno(Errno.EINVAL, () -> K.munmap(addr, 0));
        K.munmap(addr, PAGE);
        assertTrue(ProcMaps.read().stream().noneMatch(e -> e.start() <= addr && addr < e.end()));
    }

    @Test
    void mremapGrowsInPlaceWhenTheFollowingRangeIsFree() throws Exception
    {
        // Reserve three pages so the two after the first are known to be ours, then free them just before growing.
        final long addr = K.mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        segment(addr, PAGE).fill((byte)9);
        K.munmap(addr + PAGE, 2 * PAGE);
        final long grown = K.mremap(addr, PAGE, 3 * PAGE, 0, 0);
        mappings.add(new long[] {grown, 3 * PAGE});
        assertEquals(addr, grown);
        assertEquals((byte)9, segment(grown, 3 * PAGE).get(ValueLayout.JAVA_BYTE, PAGE - 1));
        // Neighbouring anonymous VMAs may merge with ours, so check coverage rather than the exact length.
        final MapsEntry vma = vmaAt(addr);
        assertTrue(vma.start() <= addr && vma.end() >= addr + 3 * PAGE, vma.toString());
    }

    @Test
    void mremapNeedsMaymoveWhenBlockedAndThenMoves() throws Exception
    {
        final long addr = K.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mappings.add(new long[] {addr + PAGE, PAGE});
        K.mprotect(addr + PAGE, PAGE, PROT_READ); // a different VMA right after the first page blocks growth
        segment(addr, PAGE).fill((byte)4);
        expectErrno(Errno.ENOMEM, () -> K.mremap(addr, PAGE, 2 * PAGE, 0, 0));
        final long moved = K.mremap(addr, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0);
        mappings.add(new long[] {moved, 2 * PAGE});
        assertNotEquals(addr, moved);
        assertEquals((byte)4, segment(moved, 2 * PAGE).get(ValueLayout.JAVA_BYTE, 17));
        expectErrno(Errno.EINVAL, () -> K.mremap(moved + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0));
    }

    @Test
    void mprotectShowsInProcMaps() throws Exception
    {
        final int fd = openFile("prot", 2 * PAGE);
        final long addr = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        assertEquals("rw-s", vmaAt(addr).permissions());
        K.mprotect(addr + PAGE, PAGE, PROT_READ);
        assertEquals("rw-s", vmaAt(addr).permissions());
        final MapsEntry second = vmaAt(addr + PAGE);
        assertEquals("r--s", second.permissions());
        assertEquals(PAGE, second.offset());
        final FileStat st = K.fstat(fd);
        assertEquals(st.inode(), second.inode());
        assertEquals(st.devMajor(), second.devMajor());
        assertEquals(st.devMinor(), second.devMinor());
        expectErrno(Errno.EINVAL, () -> K.mprotect(addr + 7, PAGE, PROT_READ));
        expectErrno(Errno.EACCES, () -> {
            final int ro = K.open(dir.resolve("prot").toString(), O_RDONLY, 0);
            fds.add(ro);
            final long r = map(PAGE, PROT_READ, MAP_SHARED, ro);
            K.mprotect(r, PAGE, PROT_READ | PROT_WRITE);
        });
    }

    @Test
    void madviseAcceptsKnownAdviceAndRejectsUnknown() throws Exception
    {
        final int fd = openFile("advise", 4 * PAGE);
        final long addr = map(4 * PAGE, PROT_READ, MAP_SHARED, fd);
        for (final int advice : new int[] {Mman.MADV_RANDOM, Mman.MADV_SEQUENTIAL, Mman.MADV_WILLNEED,
            Mman.MADV_DONTNEED, Mman.MADV_NORMAL})
        {
            K.madvise(addr, 4 * PAGE, advice);
        }
        expectErrno(Errno.EINVAL, () -> K.madvise(addr, PAGE, 12345));
        expectErrno(Errno.EINVAL, () -> K.madvise(addr + 3, PAGE, Mman.MADV_NORMAL));
    }

    @Test
    void msyncModesAndErrors() throws Exception
    {
        final int fd = openFile("msync", PAGE);
        final long addr = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        K.msync(addr, PAGE, Mman.MS_ASYNC);
        K.msync(addr, PAGE, Mman.MS_SYNC);
        K.msync(addr, PAGE, Mman.MS_INVALIDATE);
        expectErrno(Errno.EINVAL, () -> K.msync(addr + 1, PAGE, Mman.MS_SYNC));
        expectErrno(Errno.EINVAL, () -> K.msync(addr, PAGE, Mman.MS_SYNC | Mman.MS_ASYNC));
    }

    @Test
    void mlockSucceedsOrReportsTheLimit() throws Exception
    {
        final long addr = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        try
        {
            K.mlock(addr, PAGE);
            K.munlock(addr, PAGE);
        }
        catch (final KernelException ex)
        {
            assertTrue(Set.of("EPERM", "ENOMEM", "EAGAIN").contains(ex.errnoName()), ex.getMessage());
            assertTrue(ex.hint().contains("RLIMIT_MEMLOCK"), ex.getMessage());
        }
        // A range that holds no mapping at all: ENOMEM from both.
        final long hole = K.mmap(0, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        K.munmap(hole, PAGE);
        expectErrno(Errno.ENOMEM, () -> K.mlock(hole, PAGE));
        expectErrno(Errno.ENOMEM, () -> K.munlock(hole, PAGE));
    }

    @Test
    void openAndCloseErrors() throws Exception
    {
        final KernelException missing =
            expectErrno(Errno.ENOENT, () -> K.open(dir.resolve("nope").toString(), O_RDONLY, 0));
        assertTrue(missing.getMessage().contains(dir.resolve("nope").toString()), missing.getMessage());
        expectErrno(Errno.EISDIR, () -> K.open(dir.toString(), O_RDWR, 0));
        final int fd = K.open(dir.resolve("c").toString(), O_RDWR | O_CREAT, 0600);
        K.close(fd);
        expectErrno(Errno.EBADF, () -> K.close(fd));
    }

    @Test
    void ftruncateFallocateAndFstat() throws Exception
    {
        final int fd = openFile("sizes", 3 * PAGE);
        FileStat st = K.fstat(fd);
        assertEquals(3 * PAGE, st.size());
        assertTrue(st.isRegularFile());
        assertEquals(((Number)Files.getAttribute(dir.resolve("sizes"), "unix:ino")).longValue(), st.inode());
        K.fallocate(fd, 0, 0, 5 * PAGE);
        assertEquals(5 * PAGE, K.fstat(fd).size());
        K.ftruncate(fd, PAGE);
        assertEquals(PAGE, Files.size(dir.resolve("sizes")));
        expectErrno(Errno.EINVAL, () -> K.fallocate(fd, 0, 0, -1));
        expectErrno(Errno.EINVAL, () -> K.ftruncate(fd, -1));

        final int ro = K.open(dir.resolve("sizes").toString(), O_RDONLY, 0);
        fds.add(ro);
        expectErrno(Errno.EBADF, () -> K.fallocate(ro, 0, 0, PAGE));
        expectErrno(Errno.EINVAL, () -> K.ftruncate(ro, 0));
        final int dirFd = K.open(dir.toString(), O_RDONLY | Fcntl.O_DIRECTORY, 0);
        fds.add(dirFd);
        assertTrue(K.fstat(dirFd).isDirectory());
        expectErrno(Errno.EBADF, () -> K.fstat(876_543));
    }

    @Test
    void fsyncAndFdatasync() throws Exception
    {
        final int fd = openFile("sync", PAGE);
        K.fsync(fd);
        K.fdatasync(fd);
        expectErrno(Errno.EBADF, () -> K.fsync(765_432));
        expectErrno(Errno.EBADF, () -> K.fdatasync(765_432));
    }

    @Test
    void errnoIsPerThread() throws Exception
    {
        final KernelException[] other = new KernelException[1];
        final Thread t = new Thread(() -> {
            try
            {
                K.close(555_555);
            }
            catch (final KernelException ex)
            {
                other[0] = ex;
            }
        });
        t.start();
        expectErrno(Errno.ENOENT, () -> K.open(dir.resolve("absent").toString(), O_RDONLY, 0));
        t.join();
        assertEquals("EBADF", other[0].errnoName());
    }

    @Test
    void largeFileOffsetsAreLongs() throws IOException, KernelException
    {
        final int fd = openFile("sparse", 0);
        final long fiveGiB = 5L << 30;
        K.ftruncate(fd, fiveGiB + PAGE);
        final long addr = K.mmap(0, PAGE, PROT_READ, MAP_SHARED, fd, fiveGiB);
        mappings.add(new long[] {addr, PAGE});
        assertEquals(fiveGiB, vmaAt(addr).offset());
    }
}
