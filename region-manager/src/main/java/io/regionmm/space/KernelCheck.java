package io.regionmm.space;

import io.regionmm.kernel.maps.MapsEntry;
import io.regionmm.kernel.maps.ProcMaps;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel as the oracle: the region map (with every gap a read-only anonymous tombstone) against the kernel's
 * VMAs of the window in {@code /proc/self/maps}. Both sides are first merged by the kernel's rules (adjacent,
 * same permissions, same file and contiguous offsets, or both anonymous), since neither side is obliged to merge
 * as eagerly as the other: an explicit split, for one, stays in our map while the kernel keeps one VMA.
 * Advice and mlock state are not in /proc/self/maps and are not compared.
 */
public final class KernelCheck
{
    private KernelCheck()
    {
    }

    /**
     * One normalised VMA.
     *
     * @param start    first address.
     * @param end      end address.
     * @param perms    e.g. {@code rw-s}; tombstones are {@code r--p}.
     * @param offset   file offset (0 for anonymous).
     * @param inode    inode (0 for anonymous).
     * @param devMajor device major.
     * @param devMinor device minor.
     */
    public record Vma(long start, long end, String perms, long offset, long inode, int devMajor, int devMinor)
    {
        boolean anonymous()
        {
            return inode == 0;
        }

        boolean continuedBy(final Vma next)
        {
            return end == next.start && perms.equals(next.perms) && inode == next.inode &&
                devMajor == next.devMajor && devMinor == next.devMinor &&
                (anonymous() || offset + (end - start) == next.offset);
        }

        @Override
        public String toString()
        {
            return String.format("%x-%x %s %s", start, end, perms,
                anonymous() ? "tombstone" : String.format("ino %d @%d", inode, offset));
        }
    }

    /**
     * The comparison.
     *
     * @param agrees true when both lists are equal.
     * @param ours   the region map, normalised.
     * @param kernel the kernel's VMAs of the window, normalised.
     */
    public record Report(boolean agrees, List<Vma> ours, List<Vma> kernel)
    {
        /**
         * @return both lists side by side, differing rows marked with {@code !}.
         */
        public String table()
        {
            final StringBuilder sb = new StringBuilder(String.format("  %-58s | %s%n", "region map", "kernel"));
            final int rows = Math.max(ours.size(), kernel.size());
            for (int i = 0; i < rows; i++)
            {
                final String a = i < ours.size() ? ours.get(i).toString() : "";
                final String b = i < kernel.size() ? kernel.get(i).toString() : "";
                sb.append(a.equals(b) ? "  " : "! ").append(String.format("%-58s | %s%n", a, b));
            }
            return sb.toString();
        }
    }

    /**
     * @param map   the region map.
     * @param start window start.
     * @param end   window end.
     * @return the comparison with the kernel's current VMAs.
     */
    static Report compare(final RegionMap map, final long start, final long end)
    {
        final List<Vma> ours = new ArrayList<>();
        long at = start;
        for (final Region r : map.regions())
        {
            if (r.start() > at)
            {
                add(ours, tombstone(at, r.start()));
            }
            add(ours, new Vma(r.start(), r.end(), perms(r), r.fileOffset(), r.file().inode(), r.file().devMajor(),
                r.file().devMinor()));
            at = r.end();
        }
        if (at < end)
        {
            add(ours, tombstone(at, end));
        }
        final List<Vma> kernel = new ArrayList<>();
        for (final MapsEntry e : ProcMaps.readWindow(start, end))
        {
            add(kernel, new Vma(e.start(), e.end(), e.permissions(), e.anonymous() ? 0 : e.offset(), e.inode(),
                e.anonymous() ? 0 : e.devMajor(), e.anonymous() ? 0 : e.devMinor()));
        }
        return new Report(ours.equals(kernel), ours, kernel);
    }

    private static Vma tombstone(final long from, final long to)
    {
        return new Vma(from, to, "r--p", 0, 0, 0, 0);
    }

    private static String perms(final Region r)
    {
        return (r.protection() == Protection.READ_WRITE ? "rw-" : "r--") + (r.sharing() == Sharing.SHARED ? "s" : "p");
    }

    private static void add(final List<Vma> list, final Vma v)
    {
        if (!list.isEmpty() && list.getLast().continuedBy(v))
        {
            final Vma last = list.removeLast();
            list.add(new Vma(last.start(), v.end(), last.perms(), last.offset(), last.inode(), last.devMajor(),
                last.devMinor()));
        }
        else
        {
            list.add(v);
        }
    }
}
