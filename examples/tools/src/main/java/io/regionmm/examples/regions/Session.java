package io.regionmm.examples.regions;

import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Region;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MappingException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A live address space for the shell: the files it opened, and every range that has ever been a region (so the
 * picture can tell tombstones from never-used space).
 */
final class Session implements AutoCloseable
{
    final AddressSpace space;
    final PrintStream out;
    private final Map<Path, FileHandle> files = new HashMap<>();
    // start -> end of ranges that have held a region (coalesced)
    private final TreeMap<Long, Long> everMapped = new TreeMap<>();
    // the Lucene index opened by `index`, if any; closed by `close-index` or with the session
    LuceneIndex index;

    Session(final AddressSpace space, final PrintStream out)
    {
        this.space = space;
        this.out = out;
    }

    FileHandle file(final Path path, final boolean writable) throws MappingException
    {
        final Path key = path.toAbsolutePath().normalize();
        final FileHandle have = files.get(key);
        if (have != null && (have.writable() || !writable))
        {
            return have;
        }
        final FileHandle opened = space.openFile(key, writable ? FileAccess.READ_WRITE : FileAccess.READ_ONLY);
        files.put(key, opened);
        return opened;
    }

    /**
     * @param text a hex address, or {@code #N} for the start of region N as {@code show} numbers them, either
     *             optionally followed by {@code +SIZE} (e.g. {@code #0+16K}).
     * @return the address.
     */
    long address(final String text)
    {
        final int plus = text.lastIndexOf('+');
        if (plus > 0)
        {
            return Math.addExact(address(text.substring(0, plus)), Sizes.size(text.substring(plus + 1)));
        }
        if (text.startsWith("#"))
        {
            final List<Region> regions = space.regions();
            final int i;
            try
            {
                i = Integer.parseInt(text.substring(1));
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("'" + text + "' is not a region number (e.g. #0)");
            }
            if (i < 0 || i >= regions.size())
            {
                throw new IllegalArgumentException("no region " + text + " (there are " + regions.size() + ")");
            }
            return regions.get(i).start();
        }
        return Sizes.address(text);
    }

    /** Records the current regions as ever-mapped ranges. */
    void remember()
    {
        for (final Region r : space.regions())
        {
            long s = r.start();
            long e = r.end();
            final Map.Entry<Long, Long> before = everMapped.floorEntry(s);
            if (before != null && before.getValue() >= s)
            {
                s = before.getKey();
                e = Math.max(e, before.getValue());
            }
            for (Map.Entry<Long, Long> next = everMapped.ceilingEntry(s); next != null && next.getKey() <= e;
                 next = everMapped.ceilingEntry(s))
            {
                e = Math.max(e, next.getValue());
                everMapped.remove(next.getKey());
            }
            everMapped.put(s, e);
        }
    }

    TreeMap<Long, Long> everMapped()
    {
        return everMapped;
    }

    /** Closes the open index, if any: its reader's inputs unmap their files. */
    void closeIndex() throws IOException
    {
        final LuceneIndex open = index;
        index = null;
        if (open != null)
        {
            open.close();
        }
    }

    @Override
    public void close()
    {
        try
        {
            closeIndex();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        finally
        {
            space.close();
        }
    }
}
