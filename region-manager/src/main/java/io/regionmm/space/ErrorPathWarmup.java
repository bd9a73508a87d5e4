package io.regionmm.space;

import io.regionmm.kernel.Errno;
import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.KernelException;
import io.regionmm.kernel.Mman;
import io.regionmm.kernel.Syscall;
import io.regionmm.map.RegionMap;
import org.slf4j.LoggerFactory;

/**
 * Runs the error paths once per JVM, when the first space is created: the exception classes, their messages, the
 * kernel's hints and a real failing system call. The moment a kernel refuses a mapping for lack of memory or of
 * mappings (ENOMEM at vm.max_map_count) is the moment the JVM cannot map memory either: an error path loading a
 * class or linking a call site then (metaspace, code cache) aborted the whole process instead of throwing. (The
 * build also compiles string concatenation inline, {@code -XDstringConcat=inline}, so no message links a call site
 * on first use.)
 */
final class ErrorPathWarmup
{
    private static volatile long sink;

    private ErrorPathWarmup()
    {
    }

    /** Runs the warm-up unless it has run in this JVM. */
    static void once()
    {
        Done.touch();
    }

    private static void run()
    {
        try
        {
            sink = warmUp();
        }
        catch (final RuntimeException | LinkageError ex)
        {
            // A warm-up that cannot run (an unreadable /proc, say) must not stop spaces from being created.
            LoggerFactory.getLogger(ErrorPathWarmup.class).debug("error path warm-up failed: {}", ex.toString());
        }
    }

    private static long warmUp()
    {
        long h = 0;
        for (final Syscall call : Syscall.values())
        {
            for (final Errno e : Errno.values())
            {
                final KernelException k = KernelException.of(call, e.number(), call.name().toLowerCase());
                h += new MappingException("warm-up", k).getMessage().length() + k.hint().length();
            }
        }
        try
        {
            // A real refusal through the real kernel (length 0: EINVAL), so the downcall's errno path is linked.
            Kernel.system().mmap(0, 0, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        }
        catch (final KernelException expected)
        {
            h += new MappingException("warm-up", expected).getMessage().length();
        }
        h += new MapCountException("warm-up", MapCount.readLimit(), 1, MapCount.RESERVE, 1).getMessage().length();
        h += new MappingException("warm-up", "no free range").getMessage().length();
        h += new RegionArgumentException("warm-up", "x").getMessage().length();
        h += new RegionBusyException("warm-up", "x").getMessage().length();
        h += new SpaceClosedException("warm-up").getMessage().length();
        h += new RegionFaultException("warm-up", 0, 1, null, new InternalError("x")).getMessage().length();
        h += Window.hex(h).length();
        // What a failed write and a check read from the kernel: /proc/self/maps, parsed and compared (nothing in
        // [0, one page) is ours), so their classes are loaded before they are needed at the limit.
        h += KernelCheck.compare(RegionMap.empty(0, 4096), 0, 4096).table().length();
        return h;
    }

    /** Its initialisation is the warm-up: the JVM runs it once, and other threads wait for it. */
    private static final class Done
    {
        static
        {
            run();
        }

        private Done()
        {
        }

        static void touch()
        {
            // nothing: loading this class ran the warm-up
        }
    }
}
