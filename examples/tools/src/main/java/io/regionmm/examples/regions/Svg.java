package io.regionmm.examples.regions;

import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Draws the used part of the window: regions coloured by file (READ ones lighter) with file and offset, tombstones
 * (ranges that were regions once) hatched grey, never-used space white.
 */
final class Svg
{
    private static final int WIDTH = 1200;
    private static final int BAR_Y = 60;
    private static final int BAR_H = 90;

    private Svg()
    {
    }

    static String draw(final long windowStart, final long windowEnd, final List<Region> regions,
        final TreeMap<Long, Long> everMapped)
    {
        long end = windowStart;
        for (final Region r : regions)
        {
            end = Math.max(end, r.end());
        }
        if (!everMapped.isEmpty())
        {
            end = Math.max(end, everMapped.lastEntry().getValue());
        }
        final long span =
            Math.max(4096, Math.min(windowEnd, end + Math.max(4096, (end - windowStart) / 8)) - windowStart);
        final double scale = (WIDTH - 40) / (double)span;
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"260\" " +
            "font-family=\"monospace\" font-size=\"11\">%n", WIDTH));
        sb.append("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" " +
            "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ddd\"/>" +
            "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs>\n");
        sb.append(String.format(Locale.ROOT, "<text x=\"20\" y=\"25\" font-size=\"14\">window %x - %x (showing " +
            "the first %d KiB)</text>%n", windowStart, windowEnd, span / 1024));
        sb.append(rect(20, BAR_Y, WIDTH - 40, "white", "never used"));
        for (final Map.Entry<Long, Long> e : everMapped.entrySet())
        {
            final double x = 20 + (e.getKey() - windowStart) * scale;
            sb.append(rect(x, BAR_Y, Math.max(1, (e.getValue() - e.getKey()) * scale), "url(#hatch)",
                "tombstone " + Long.toHexString(e.getKey()) + "-" + Long.toHexString(e.getValue())));
        }
        int i = 0;
        for (final Region r : regions)
        {
            final double x = 20 + (r.start() - windowStart) * scale;
            final double w = Math.max(1, r.length() * scale);
            final int hue = Math.floorMod(r.file().id() * 137, 360);
            final String fill = String.format(Locale.ROOT, "hsl(%d,65%%,%d%%)", hue,
                r.protection() == Protection.READ ? 72 : 50);
            sb.append(rect(x, BAR_Y, w, fill, "#" + i + " " + r));
            if (w > 42)
            {
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">#%d f%d</text>%n", x + 3, BAR_Y + 16,
                    i, r.file().id()));
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">@%dK</text>%n", x + 3, BAR_Y + 30,
                    r.fileOffset() / 1024));
                sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>%n", x + 3, BAR_Y + 44,
                    r.protection() == Protection.READ ? "r" : "rw"));
            }
            i++;
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"20\" y=\"%d\">coloured: regions by file (lighter = READ); " +
            "hatched: tombstones; white: never used. Hover for details.</text>%n", BAR_Y + BAR_H + 30));
        return sb.append("</svg>\n").toString();
    }

    private static String rect(final double x, final double y, final double w, final String fill, final String title)
    {
        return String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" " +
            "stroke=\"#333\" stroke-width=\"0.5\"><title>%s</title></rect>%n", x, y, w, BAR_H, fill,
            title.replace("&", "&amp;").replace("<", "&lt;"));
    }
}
