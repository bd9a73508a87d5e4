package io.regionmm.kernel;

import java.util.Locale;

/**
 * The system calls behind {@link Kernel}, each with its parameter names, so a failure (real or injected) is
 * described the same way: {@code mmap(addr=0x7f0000000000, length=4096, prot=READ|WRITE, ...)}.
 */
public enum Syscall
{
    MMAP("addr", "length", "prot", "flags", "fd", "offset"),
    MUNMAP("addr", "length"),
    MREMAP("oldAddr", "oldSize", "newSize", "flags", "newAddr"),
    MPROTECT("addr", "length", "prot"),
    MADVISE("addr", "length", "advice"),
    MSYNC("addr", "length", "flags"),
    MLOCK("addr", "length"),
    MUNLOCK("addr", "length"),
    OPEN("path", "flags", "mode"),
    CLOSE("fd"),
    FTRUNCATE("fd", "length"),
    FALLOCATE("fd", "mode", "offset", "length"),
    FSTAT("fd"),
    FSYNC("fd"),
    FDATASYNC("fd");

    private final String[] parameters;

    Syscall(final String... parameters)
    {
        this.parameters = parameters;
    }

    /**
     * @return the C name of the call, e.g. {@code mremap}.
     */
    public String cName()
    {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Renders a call with its arguments: addresses in hex, protections by name, the rest in decimal.
     *
     * @param path the path argument of {@code open}, else ignored (may be null).
     * @param args the numeric arguments in declaration order ({@code open}: flags, mode).
     * @return e.g. {@code munmap(addr=0x7f12a000, length=8192)}.
     */
    public String describe(final String path, final long... args)
    {
        final StringBuilder sb = new StringBuilder(cName()).append('(');
        int a = 0;
        for (int p = 0; p < parameters.length; p++)
        {
            final String name = parameters[p];
            if (p > 0)
            {
                sb.append(", ");
            }
            sb.append(name).append('=');
            if ("path".equals(name))
            {
                sb.append('"').append(path).append('"');
                continue;
            }
            final long v = a < args.length ? args[a++] : 0;
            if (name.endsWith("ddr") || name.endsWith("Addr"))
            {
                sb.append("0x").append(Long.toHexString(v));
            }
            else if ("prot".equals(name))
            {
                sb.append(Mman.protToString((int)v));
            }
            else if ("flags".equals(name) || "mode".equals(name) && this == OPEN)
            {
                sb.append("0x").append(Long.toHexString(v));
            }
            else
            {
                sb.append(v);
            }
        }
        return sb.append(')').toString();
    }
}
