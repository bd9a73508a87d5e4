package io.regionmm.kernel;

import java.util.Locale;

/**
 * The Linux architectures regionmm runs on. Constants that differ between them are chosen through {@link #current()}.
 */
public enum Arch
{
    /** x86-64 (amd64). */
    X86_64,
    /** 64-bit ARM. */
    AARCH64;

    private static final Arch CURRENT = detect();

    /**
     * @return the architecture of this JVM.
     * @throws UnsupportedOperationException on an OS or architecture regionmm has no constants for.
     */
    public static Arch current()
    {
        if (CURRENT == null)
        {
            throw new UnsupportedOperationException("regionmm runs on Linux x86-64 and aarch64, not on " +
                System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
        return CURRENT;
    }

    private static Arch detect()
    {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux"))
        {
            return null;
        }
        return switch (System.getProperty("os.arch", ""))
        {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> null;
        };
    }
}
