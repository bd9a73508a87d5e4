package io.regionmm.kernel.fault;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;
import io.regionmm.kernel.Syscall;
import io.regionmm.kernel.maps.ProcMaps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static io.regionmm.kernel.Mman.MAP_ANONYMOUS;
import static io.regionmm.kernel.Mman.MAP_PRIVATE;
import static io.regionmm.kernel.Mman.PROT_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FaultInjectingKernelTest
{
    private static final Kernel REAL = Kernel.system();
    private static final long PAGE = REAL.pageSize();

    @Test
    void anInjectedFailureLooksExactlyLikeARealOne() throws Exception
    {
        final KernelException real = assertThrows(KernelException.class, () -> REAL.munmap(PAGE + 1, PAGE));
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, 1).failNth(Syscall.MUNMAP, 1, Errno.EINVAL);
        final KernelException injected = assertThrows(KernelException.class, () -> k.munmap(PAGE + 1, PAGE));
        assertEquals(real.getMessage(), injected.getMessage());
        assertEquals(real.errno(), injected.errno());
        assertEquals(real.call(), injected.call());
        assertEquals(real.getClass(), injected.getClass());
    }

    @Test
    void recordingKeepsEveryCallInOrderInjectedFailuresIncluded() throws Exception
    {
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, 1).failNth(Syscall.MUNMAP, 1, Errno.EINVAL);
        final long before = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); // not kept
        k.startRecording();
        final long a = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertThrows(KernelException.class, () -> k.munmap(a, PAGE));
        k.munmap(a, PAGE);
        final List<FaultInjectingKernel.Call> calls = k.stopRecording();
        REAL.munmap(before, PAGE);
        assertEquals(List.of(Syscall.MMAP, Syscall.MUNMAP, Syscall.MUNMAP),
            calls.stream().map(FaultInjectingKernel.Call::syscall).toList());
        assertEquals(List.of(2L, 1L, 2L), calls.stream().map(FaultInjectingKernel.Call::ordinal).toList());
        assertEquals(a, calls.get(1).arg(0));
    }

    @Test
    void theNthCallFailsAndTheKernelIsNotReached() throws Exception
    {
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, 1).failNth(Syscall.MMAP, 2, Errno.ENOMEM);
        final long first = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        final int before = ProcMaps.read().size();
        final KernelException ex = assertThrows(KernelException.class,
            () -> k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        assertEquals("ENOMEM", ex.errnoName());
        assertTrue(ex.hint().contains("vm.max_map_count"), ex.getMessage());
        final long third = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertTrue(ProcMaps.read().size() <= before + 1);
        k.munmap(first, PAGE);
        k.munmap(third, PAGE);
        assertEquals(3, k.calls(Syscall.MMAP));
        assertEquals(1, k.injected(Syscall.MMAP));
        assertEquals(2, k.calls(Syscall.MUNMAP));
        assertEquals(0, k.injected(Syscall.MUNMAP));
    }

    @Test
    void aPredicateSelectsCallsByArgument() throws Exception
    {
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, 1)
            .failWhen(Syscall.MPROTECT, c -> c.arg(2) == (Mman.PROT_READ | Mman.PROT_WRITE), Errno.EACCES);
        final long addr = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try
        {
            k.mprotect(addr, PAGE, PROT_READ);
            assertEquals("EACCES", assertThrows(KernelException.class,
                () -> k.mprotect(addr, PAGE, Mman.PROT_READ | Mman.PROT_WRITE)).errnoName());
            assertFalse(ProcMaps.readWindow(addr, addr + PAGE).getFirst().write());
            k.clearRules();
            k.mprotect(addr, PAGE, Mman.PROT_READ | Mman.PROT_WRITE);
            assertTrue(ProcMaps.readWindow(addr, addr + PAGE).getFirst().write());
        }
        finally
        {
            k.munmap(addr, PAGE);
        }
    }

    @Test
    void randomFailuresReplayFromTheSeed() throws Exception
    {
        assertEquals(pattern(42), pattern(42));
        assertNotEquals(pattern(42), pattern(43));
    }

    private static List<Boolean> pattern(final long seed) throws KernelException
    {
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, seed).failRandomly(Syscall.FSTAT, 0.5, Errno.EIO);
        final List<Boolean> failed = new ArrayList<>();
        for (int i = 0; i < 64; i++)
        {
            try
            {
                k.fstat(0);
                failed.add(false);
            }
            catch (final KernelException ex)
            {
                assertEquals("EIO", ex.errnoName());
                failed.add(true);
            }
        }
        return failed;
    }

    @Test
    void aPausedCallWaitsForItsLatch() throws Exception
    {
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final FaultInjectingKernel k = new FaultInjectingKernel(REAL, 1)
            .pauseAt(Syscall.MMAP, c -> c.arg(1) == 2 * PAGE, arrived, release);
        final AtomicLong mapped = new AtomicLong();
        final Thread t = new Thread(() -> {
            try
            {
                mapped.set(k.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
            }
            catch (final KernelException ex)
            {
                throw new AssertionError(ex);
            }
        });
        t.start();
        arrived.await();
        // Other calls pass while one is paused; the paused one has not reached the kernel.
        final long other = k.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertEquals(0, mapped.get());
        assertTrue(t.isAlive());
        release.countDown();
        t.join();
        assertNotEquals(0, mapped.get());
        k.munmap(mapped.get(), 2 * PAGE);
        k.munmap(other, PAGE);
        // The pause fires once.
        k.munmap(k.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 2 * PAGE);
    }

    @Test
    void rejectsAProbabilityOutsideZeroToOne()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new FaultInjectingKernel(REAL, 1).failRandomly(Syscall.MMAP, 1.5, Errno.ENOMEM));
        assertTrue(ex.getMessage().contains("1.5"));
    }
}
