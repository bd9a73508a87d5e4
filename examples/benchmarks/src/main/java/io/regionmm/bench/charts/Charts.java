package io.regionmm.bench.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Charts from JMH's JSON results ({@code -rf json -rff FILE}): one SVG bar chart per benchmark class (and per
 * combination of its parameters), a bar per benchmark method with its score and its ratio to the class's
 * {@code raw} method (drawn first) written on it, and {@code ratios.md}, a markdown table per chart of the same ratios.
 * A ratio is the cost relative to raw whatever the mode: score / raw for time modes, raw / score for throughput;
 * above 1 is slower than raw. Usage: {@code Charts RESULTS.json OUT_DIR}.
 */
public final class Charts
{
    /** The method every other one is compared with. */
    static final String BASELINE = "raw";

    private static final int WIDTH = 860;
    private static final int LABEL = 230;
    private static final int BAR = 26;
    private static final int GAP = 8;
    private static final int TOP = 48;

    private Charts()
    {
    }

    /** One benchmark method's result. */
    record Result(String method, String mode, double score, double error, String unit)
    {
    }

    /**
     * @param args the JSON results file and the directory to write into.
     * @throws IOException when the file cannot be read or the charts written.
     */
    public static void main(final String[] args) throws IOException
    {
        if (args.length != 2)
        {
            System.err.println("usage: Charts RESULTS.json OUT_DIR");
            System.exit(2);
        }
        final Object json = new Json(Files.readString(Path.of(args[0]))).parse();
        final Map<String, List<Result>> groups = group(json);
        final Path out = Path.of(args[1]);
        Files.createDirectories(out);
        final StringBuilder md = new StringBuilder();
        for (final Map.Entry<String, List<Result>> g : groups.entrySet())
        {
            // the baseline first, the others in JMH's (alphabetical) order
            g.getValue().sort(Comparator.comparing(r -> !r.method().equals(BASELINE)));
            final String file = g.getKey().replaceAll("[^A-Za-z0-9=_.-]+", "_") + ".svg";
            Files.writeString(out.resolve(file), svg(g.getKey(), g.getValue()), StandardCharsets.UTF_8);
            md.append(table(g.getKey(), file, g.getValue()));
            System.out.println("wrote " + out.resolve(file));
        }
        Files.writeString(out.resolve("ratios.md"), md.toString(), StandardCharsets.UTF_8);
        System.out.print(md);
    }

    /** @return the results grouped by simple class name plus parameters, in the order JMH ran them. */
    @SuppressWarnings("unchecked")
    static Map<String, List<Result>> group(final Object json)
    {
        final Map<String, List<Result>> groups = new LinkedHashMap<>();
        for (final Object o : (List<Object>)json)
        {
            final Map<String, Object> run = (Map<String, Object>)o;
            final String benchmark = (String)run.get("benchmark");
            final int dot = benchmark.lastIndexOf('.');
            final String type = benchmark.substring(0, dot);
            final StringBuilder key = new StringBuilder(type.substring(type.lastIndexOf('.') + 1));
            final Object params = run.get("params");
            if (params != null)
            {
                for (final Map.Entry<String, Object> p : new TreeMap<>((Map<String, Object>)params).entrySet())
                {
                    key.append(' ').append(p.getKey()).append('=').append(p.getValue());
                }
            }
            final Map<String, Object> metric = (Map<String, Object>)run.get("primaryMetric");
            groups.computeIfAbsent(key.toString(), k -> new ArrayList<>()).add(new Result(
                benchmark.substring(dot + 1), (String)run.get("mode"), number(metric.get("score")),
                number(metric.get("scoreError")), (String)metric.get("scoreUnit")));
        }
        return groups;
    }

    private static double number(final Object o)
    {
        return o instanceof Double d ? d : Double.parseDouble(String.valueOf(o)); // JMH writes "NaN" as a string
    }

    /** @return the result's cost relative to the baseline's (NaN when the group has none). */
    static double ratio(final Result r, final List<Result> group)
    {
        for (final Result b : group)
        {
            if (b.method().equals(BASELINE))
            {
                return r.mode().equals("thrpt") ? b.score() / r.score() : r.score() / b.score();
            }
        }
        return Double.NaN;
    }

    static String table(final String title, final String svg, final List<Result> group)
    {
        final StringBuilder s = new StringBuilder();
        s.append("### ").append(title).append("\n\n![").append(title).append("](").append(svg).append(")\n\n");
        s.append("| contender | score | × raw |\n|---|---:|---:|\n");
        for (final Result r : group)
        {
            s.append("| ").append(r.method()).append(" | ").append(fmt(r.score())).append(" ± ")
                .append(fmt(r.error())).append(' ').append(r.unit()).append(" | ")
                .append(ratioText(ratio(r, group))).append(" |\n");
        }
        return s.append('\n').toString();
    }

    static String svg(final String title, final List<Result> group)
    {
        double max = 0;
        for (final Result r : group)
        {
            max = Math.max(max, r.score() + (Double.isNaN(r.error()) ? 0 : r.error()));
        }
        final double scale = (WIDTH - LABEL - 20) / (max > 0 ? max : 1);
        final int height = TOP + group.size() * (BAR + GAP) + 30;
        final StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
            .append(height).append("\" font-family=\"sans-serif\" font-size=\"13\">\n");
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append("<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">").append(xml(title))
            .append("</text>\n");
        s.append("<text x=\"10\" y=\"40\" fill=\"#555\">").append(xml(group.get(0).mode() + ", " +
            group.get(0).unit() + "; on each bar: the score and its cost relative to " + BASELINE)).append("</text>\n");
        int y = TOP;
        for (final Result r : group)
        {
            final double ratio = ratio(r, group);
            final int w = (int)Math.max(1, Math.round(r.score() * scale));
            final String colour = r.method().equals(BASELINE) ? "#7f7f7f" :
                r.method().startsWith("regionmm") ? "#d62728" : "#1f77b4";
            s.append("<text x=\"").append(LABEL - 6).append("\" y=\"").append(y + BAR - 8)
                .append("\" text-anchor=\"end\">").append(xml(r.method())).append("</text>\n");
            s.append("<rect x=\"").append(LABEL).append("\" y=\"").append(y).append("\" width=\"").append(w)
                .append("\" height=\"").append(BAR).append("\" fill=\"").append(colour).append("\"/>\n");
            if (!Double.isNaN(r.error()) && r.error() > 0)
            {
                final long lo = LABEL + Math.round(Math.max(0, r.score() - r.error()) * scale);
                final long hi = LABEL + Math.round((r.score() + r.error()) * scale);
                final int mid = y + BAR / 2;
                s.append("<line x1=\"").append(lo).append("\" y1=\"").append(mid).append("\" x2=\"").append(hi)
                    .append("\" y2=\"").append(mid).append("\" stroke=\"black\"/>\n");
            }
            final String label = fmt(r.score()) + " " + r.unit() + "  " + ratioText(ratio);
            final boolean inside = w > 190;
            s.append("<text x=\"").append(inside ? LABEL + 6 : LABEL + w + 6).append("\" y=\"").append(y + BAR - 8)
                .append("\" fill=\"").append(inside ? "white" : "black").append("\">").append(xml(label))
                .append("</text>\n");
            y += BAR + GAP;
        }
        return s.append("</svg>\n").toString();
    }

    private static String ratioText(final double ratio)
    {
        return Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2f×", ratio);
    }

    private static String fmt(final double v)
    {
        if (Double.isNaN(v))
        {
            return "NaN";
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
    }

    private static String xml(final String s)
    {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Just enough JSON for JMH's results: objects, arrays, strings, numbers, true, false, null. */
    static final class Json
    {
        private final String text;
        private int at;

        Json(final String text)
        {
            this.text = text;
        }

        Object parse()
        {
            final Object v = value();
            space();
            if (at != text.length())
            {
                throw error("trailing text");
            }
            return v;
        }

        private Object value()
        {
            space();
            if (at >= text.length())
            {
                throw error("unexpected end");
            }
            final char c = text.charAt(at);
            switch (c)
            {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                default:
                    break;
            }
            for (final String word : new String[] {"true", "false", "null"})
            {
                if (text.startsWith(word, at))
                {
                    at += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            final int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0)
            {
                at++;
            }
            if (start == at)
            {
                throw error("unexpected '" + c + "'");
            }
            return Double.parseDouble(text.substring(start, at));
        }

        private Map<String, Object> object()
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            at++;
            space();
            if (text.charAt(at) == '}')
            {
                at++;
                return m;
            }
            while (true)
            {
                space();
                final String key = string();
                space();
                expect(':');
                m.put(key, value());
                space();
                if (text.charAt(at) == '}')
                {
                    at++;
                    return m;
                }
                expect(',');
            }
        }

        private List<Object> array()
        {
            final List<Object> l = new ArrayList<>();
            at++;
            space();
            if (text.charAt(at) == ']')
            {
                at++;
                return l;
            }
            while (true)
            {
                l.add(value());
                space();
                if (text.charAt(at) == ']')
                {
                    at++;
                    return l;
                }
                expect(',');
            }
        }

        private String string()
        {
            expect('"');
            final StringBuilder s = new StringBuilder();
            while (true)
            {
                final char c = text.charAt(at++);
                if (c == '"')
                {
                    return s.toString();
                }
                if (c != '\\')
                {
                    s.append(c);
                    continue;
                }
                final char e = text.charAt(at++);
                switch (e)
                {
                    case 'n' -> s.append('\n');
                    case 't' -> s.append('\t');
                    case 'r' -> s.append('\r');
                    case 'b' -> s.append('\b');
                    case 'f' -> s.append('\f');
                    case 'u' ->
                    {
                        s.append((char)Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> s.append(e); // \" \\ \/
                }
            }
        }

        private void expect(final char c)
        {
            if (at >= text.length() || text.charAt(at) != c)
            {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private void space()
        {
            while (at < text.length() && Character.isWhitespace(text.charAt(at)))
            {
                at++;
            }
        }

        private IllegalArgumentException error(final String what)
        {
            return new IllegalArgumentException("JSON: " + what + " at offset " + at);
        }
    }
}
