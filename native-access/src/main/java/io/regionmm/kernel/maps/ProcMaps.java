package io.regionmm.kernel.maps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parser for {@code /proc/self/maps}, the kernel's own list of this process's VMAs: the oracle the region map
 * is checked against.
 */
public final class ProcMaps
{
    private static final Path SELF = Path.of("/proc/self/maps");

    private ProcMaps()
    {
    }

    /**
     * Reads this process's VMAs. The file is read in one go so that the kernel produces it from as few
     * snapshots as possible; callers that need a stable picture must hold off concurrent mapping changes.
     *
     * @return every VMA, in address order.
     */
    public static List<MapsEntry> read()
    {
        try
        {
            return parse(new String(Files.readAllBytes(SELF), StandardCharsets.UTF_8));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + SELF, ex);
        }
    }

    /**
     * Reads the VMAs that overlap [start, end), clipped to it.
     *
     * @param start window start.
     * @param end   window end.
     * @return the overlapping VMAs, in address order, their bounds and offsets clipped to the window.
     */
    public static List<MapsEntry> readWindow(final long start, final long end)
    {
        final List<MapsEntry> out = new ArrayList<>();
        for (final MapsEntry e : read())
        {
            if (Long.compareUnsigned(e.end(), start) <= 0 || Long.compareUnsigned(e.start(), end) >= 0)
            {
                continue;
            }
            final long s = Math.max(e.start(), start);
            final long t = Math.min(e.end(), end);
            final long off = e.anonymous() ? e.offset() : e.offset() + (s - e.start());
            out.add(new MapsEntry(s, t, e.read(), e.write(), e.execute(), e.shared(), off, e.devMajor(),
                e.devMinor(), e.inode(), e.path()));
        }
        return out;
    }

    /**
     * Parses the text of a maps file.
     *
     * @param text the whole file.
     * @return one entry per non-empty line.
     * @throws IllegalArgumentException naming the line that does not parse.
     */
    public static List<MapsEntry> parse(final String text)
    {
        final List<MapsEntry> out = new ArrayList<>();
        int lineNo = 0;
        for (final String line : text.split("\n"))
        {
            lineNo++;
            if (!line.isBlank())
            {
                try
                {
                    out.add(parseLine(line));
                }
                catch (final RuntimeException ex)
                {
                    throw new IllegalArgumentException("maps line " + lineNo + " does not parse: '" + line + "'", ex);
                }
            }
        }
        return out;
    }

    /**
     * Parses one line: {@code start-end perms offset major:minor inode [path]}. The path may contain spaces.
     *
     * @param line one line.
     * @return the entry.
     */
    public static MapsEntry parseLine(final String line)
    {
        final Cursor c = new Cursor(line);
        final String range = c.field();
        final int dash = range.indexOf('-');
        final long start = Long.parseUnsignedLong(range, 0, dash, 16);
        final long end = Long.parseUnsignedLong(range, dash + 1, range.length(), 16);
        final String perms = c.field();
        if (perms.length() != 4)
        {
            throw new IllegalArgumentException("permissions '" + perms + "'");
        }
        final long offset = Long.parseUnsignedLong(c.field(), 16);
        final String dev = c.field();
        final int colon = dev.indexOf(':');
        final int major = Integer.parseInt(dev, 0, colon, 16);
        final int minor = Integer.parseInt(dev, colon + 1, dev.length(), 16);
        final long inode = Long.parseLong(c.field());
        final String path = c.rest();
        return new MapsEntry(start, end, perms.charAt(0) == 'r', perms.charAt(1) == 'w', perms.charAt(2) == 'x',
            perms.charAt(3) == 's', offset, major, minor, inode, path);
    }

    private static final class Cursor
    {
        private final String s;
        private int pos;

        Cursor(final String s)
        {
            this.s = s;
        }

        String field()
        {
            skipSpaces();
            final int from = pos;
            while (pos < s.length() && s.charAt(pos) != ' ')
            {
                pos++;
            }
            if (from == pos)
            {
                throw new IllegalArgumentException("missing field at column " + from);
            }
            return s.substring(from, pos);
        }

        String rest()
        {
            skipSpaces();
            return s.substring(pos);
        }

        private void skipSpaces()
        {
            while (pos < s.length() && s.charAt(pos) == ' ')
            {
                pos++;
            }
        }
    }
}
