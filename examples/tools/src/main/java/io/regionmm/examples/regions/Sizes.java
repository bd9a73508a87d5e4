package io.regionmm.examples.regions;

import java.util.Locale;

/**
 * Parses sizes with K/M/G suffixes (powers of 1024) and addresses in hex.
 */
final class Sizes
{
    private Sizes()
    {
    }

    /**
     * @param text e.g. {@code 4096}, {@code 64K}, {@code 2M}, {@code 1G}, or {@code 0x10000}.
     * @return bytes.
     * @throws IllegalArgumentException naming the text.
     */
    static long size(final String text)
    {
        final String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.startsWith("0X"))
        {
            return Long.parseUnsignedLong(t.substring(2), 16);
        }
        long unit = 1;
        String digits = t;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G"))
        {
            unit = switch (t.charAt(t.length() - 1))
            {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            digits = t.substring(0, t.length() - 1);
        }
        try
        {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        }
        catch (final NumberFormatException | ArithmeticException ex)
        {
            throw new IllegalArgumentException("'" + text + "' is not a size (e.g. 4096, 64K, 2M, 1G, 0x1000)");
        }
    }

    /**
     * @param text an address: hex with or without 0x.
     * @return the address.
     */
    static long address(final String text)
    {
        final String t = text.trim().toLowerCase(Locale.ROOT);
        try
        {
            return Long.parseUnsignedLong(t.startsWith("0x") ? t.substring(2) : t, 16);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("'" + text + "' is not a hex address (e.g. 0x7f3a12345000)");
        }
    }
}
