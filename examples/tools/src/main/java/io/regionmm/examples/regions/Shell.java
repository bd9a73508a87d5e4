package io.regionmm.examples.regions;

import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import io.regionmm.space.KernelCheck;
import io.regionmm.space.MapOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The commands of {@code regions shell} and {@code regions run}: one line, one command, on a live space. A bad
 * command or argument prints one line and the session goes on.
 */
@Command(name = "", subcommands = {Shell.MapCmd.class, Shell.UnmapCmd.class, Shell.SplitCmd.class,
    Shell.MergeCmd.class, Shell.RemapCmd.class, Shell.ProtectCmd.class, Shell.AdviseCmd.class, Shell.SyncCmd.class,
    Shell.LockCmd.class, Shell.UnlockCmd.class, Shell.ShowCmd.class, Shell.VerifyCmd.class, Shell.IndexCmd.class,
    Shell.CloseIndexCmd.class, Shell.HelpCmd.class})
final class Shell
{
    final Session session;
    private final CommandLine commandLine;

    Shell(final Session session)
    {
        this.session = session;
        this.commandLine = new CommandLine(this);
        final PrintWriter out = new PrintWriter(session.out, true);
        commandLine.setOut(out);
        commandLine.setErr(out);
        commandLine.setParameterExceptionHandler((ex, args) -> {
            out.println("error: " + ex.getMessage());
            return 2;
        });
        commandLine.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            out.println("error: " + ex.getMessage());
            return 1;
        });
    }

    /**
     * Runs every line of {@code in}; blank lines and lines starting with "# " are skipped.
     *
     * @param in     the commands.
     * @param echo   print each command before running it (scripts).
     * @param prompt print a prompt before reading (interactive).
     * @return the number of commands that failed.
     */
    int run(final BufferedReader in, final boolean echo, final boolean prompt) throws IOException
    {
        int failed = 0;
        while (true)
        {
            if (prompt)
            {
                session.out.print("regions> ");
                session.out.flush();
            }
            final String line = in.readLine();
            if (line == null)
            {
                return failed;
            }
            final String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("# ") || trimmed.equals("#"))
            {
                continue;
            }
            if (trimmed.equals("quit") || trimmed.equals("exit"))
            {
                return failed;
            }
            if (echo)
            {
                session.out.println("> " + trimmed);
            }
            if (execute(trimmed) != 0)
            {
                failed++;
            }
        }
    }

    int execute(final String line)
    {
        final String[] tokens = tokens(line);
        if (!commandLine.getSubcommands().containsKey(tokens[0]))
        {
            session.out.println("error: unknown command '" + tokens[0] + "' (help lists the commands)");
            return 2;
        }
        final int rc = commandLine.execute(tokens);
        session.remember();
        return rc;
    }

    static String[] tokens(final String line)
    {
        final List<String> out = new ArrayList<>();
        final StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (Character.isWhitespace(c) && !quoted)
            {
                if (any)
                {
                    out.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            }
            else
            {
                cur.append(c);
                any = true;
            }
        }
        if (any)
        {
            out.add(cur.toString());
        }
        return out.toArray(new String[0]);
    }

    abstract static class Sub implements Callable<Integer>
    {
        @ParentCommand
        Shell shell;

        Session s()
        {
            return shell.session;
        }

        void done(final String what)
        {
            s().out.println(what);
        }
    }

    /** A command on [ADDR, ADDR + LENGTH). */
    abstract static class RangeSub extends Sub
    {
        @Parameters(index = "0", description = "hex address, or #N[+SIZE]")
        String addr;
        @Parameters(index = "1", converter = SizeConverter.class, description = "bytes (K/M/G)")
        long length;

        long start()
        {
            return s().address(addr);
        }

        String range(final long start)
        {
            return String.format("[%x, %x)", start, start + length);
        }
    }

    @Command(name = "map", description = "map FILE [--offset N] [--length N] [--rw] [--private] [--at ADDR] [--grow]")
    static final class MapCmd extends Sub
    {
        @Parameters(index = "0", description = "the file")
        Path file;
        @Option(names = "--offset", defaultValue = "0", converter = SizeConverter.class)
        long offset;
        @Option(names = "--length", defaultValue = "-1", converter = SizeConverter.class,
            description = "default: to the end of the file")
        long length;
        @Option(names = "--rw", description = "READ_WRITE (default READ)")
        boolean rw;
        @Option(names = "--private", description = "PRIVATE (default SHARED)")
        boolean priv;
        @Option(names = "--at", description = "fixed address (hex)")
        String at;
        @Option(names = "--grow", description = "grow the file if the range passes its end")
        boolean grow;

        @Override
        public Integer call() throws Exception
        {
            final Sharing sharing = priv ? Sharing.PRIVATE : Sharing.SHARED;
            final FileHandle f = s().file(file, grow || rw && sharing == Sharing.SHARED);
            final long len = length >= 0 ? length : s().space.fileSize(f) - offset;
            MapOptions options = at != null ? MapOptions.DEFAULT.at(s().address(at)) : MapOptions.DEFAULT;
            if (grow)
            {
                options = options.growingFile();
            }
            final long addr = s().space.map(f, offset, len, rw ? Protection.READ_WRITE : Protection.READ, sharing,
                options);
            done(String.format("mapped %s [%d, %d) at %x", f, offset, offset + len, addr));
            return 0;
        }
    }

    @Command(name = "unmap", description = "unmap ADDR LENGTH")
    static final class UnmapCmd extends RangeSub
    {
        @Override
        public Integer call() throws Exception
        {
            final long a = start();
            s().space.unmap(a, length);
            done("unmapped " + range(a));
            return 0;
        }
    }

    @Command(name = "split", description = "split ADDR")
    static final class SplitCmd extends Sub
    {
        @Parameters(index = "0")
        String addr;

        @Override
        public Integer call()
        {
            final long a = s().address(addr);
            s().space.split(a);
            done(String.format("split at %x", a));
            return 0;
        }
    }

    @Command(name = "merge", description = "merge ADDR LENGTH")
    static final class MergeCmd extends RangeSub
    {
        @Override
        public Integer call()
        {
            final long a = start();
            s().space.merge(a, length);
            done("merged " + range(a));
            return 0;
        }
    }

    @Command(name = "remap", description = "remap ADDR NEWLENGTH [--grow]")
    static final class RemapCmd extends Sub
    {
        @Parameters(index = "0")
        String addr;
        @Parameters(index = "1", converter = SizeConverter.class)
        long length;
        @Option(names = "--grow", description = "grow the file if needed")
        boolean grow;

        @Override
        public Integer call() throws Exception
        {
            final long a = s().address(addr);
            final long to = s().space.remap(a, length, grow);
            done(to == a ? String.format("remapped %x to %d bytes in place", a, length) :
                String.format("remapped %x to %d bytes: moved to %x", a, length, to));
            return 0;
        }
    }

    @Command(name = "protect", description = "protect ADDR LENGTH r|rw")
    static final class ProtectCmd extends RangeSub
    {
        @Parameters(index = "2", description = "r or rw")
        String prot;

        @Override
        public Integer call() throws Exception
        {
            final Protection p = switch (prot.toLowerCase(Locale.ROOT))
            {
                case "r", "read" -> Protection.READ;
                case "rw", "read_write" -> Protection.READ_WRITE;
                default -> throw new IllegalArgumentException("protection '" + prot + "' is not r or rw");
            };
            final long a = start();
            s().space.protect(a, length, p);
            done("protected " + range(a) + " " + p);
            return 0;
        }
    }

    @Command(name = "advise", description = "advise ADDR LENGTH normal|random|sequential|willneed|dontneed")
    static final class AdviseCmd extends RangeSub
    {
        @Parameters(index = "2")
        String advice;

        @Override
        public Integer call() throws Exception
        {
            final Advice a = choice(Advice.class, "advice", advice);
            final long at = start();
            s().space.advise(at, length, a);
            done("advised " + range(at) + " " + a);
            return 0;
        }
    }

    @Command(name = "sync", description = "sync ADDR LENGTH [sync|async|invalidate]")
    static final class SyncCmd extends RangeSub
    {
        @Parameters(index = "2", defaultValue = "sync")
        String mode;

        @Override
        public Integer call() throws Exception
        {
            final SyncMode m = choice(SyncMode.class, "mode", mode);
            final long a = start();
            s().space.sync(a, length, m);
            done("synced " + range(a) + " " + m);
            return 0;
        }
    }

    @Command(name = "lock", description = "lock ADDR LENGTH (mlock)")
    static final class LockCmd extends RangeSub
    {
        @Override
        public Integer call() throws Exception
        {
            final long a = start();
            s().space.lock(a, length);
            done("locked " + range(a));
            return 0;
        }
    }

    @Command(name = "unlock", description = "unlock ADDR LENGTH (munlock)")
    static final class UnlockCmd extends RangeSub
    {
        @Override
        public Integer call() throws Exception
        {
            final long a = start();
            s().space.unlock(a, length);
            done("unlocked " + range(a));
            return 0;
        }
    }

    @Command(name = "show", description = "show [--svg FILE]: the region table (numbers usable as #N)")
    static final class ShowCmd extends Sub
    {
        @Option(names = "--svg", description = "also draw the window into this SVG file")
        Path svg;

        @Override
        public Integer call() throws Exception
        {
            final List<Region> regions = s().space.regions();
            s().out.printf("window [%x, %x), %d regions%n", s().space.windowStart(), s().space.windowEnd(),
                regions.size());
            for (int i = 0; i < regions.size(); i++)
            {
                s().out.printf("  #%-3d %s%n", i, regions.get(i));
            }
            if (s().index != null)
            {
                s().out.println(s().index.summary());
            }
            if (svg != null)
            {
                s().remember();
                Files.writeString(svg, Svg.draw(s().space.windowStart(), s().space.windowEnd(), regions,
                    s().everMapped()));
                s().out.println("wrote " + svg);
            }
            return 0;
        }
    }

    @Command(name = "verify", description = "compare the region map with the kernel's VMAs (/proc/self/maps)")
    static final class VerifyCmd extends Sub
    {
        @Override
        public Integer call()
        {
            final KernelCheck.Report report = s().space.checkAgainstKernel();
            s().out.print(report.table());
            s().out.println(report.agrees() ? "agrees with the kernel" : "DISAGREES with the kernel");
            return report.agrees() ? 0 : 1;
        }
    }

    @Command(name = "index", description = "index DIR [--create DOCS] [--seed S]: open the Lucene index in DIR " +
        "through a RegionDirectory in this space (its files become regions); --create first writes a demo index")
    static final class IndexCmd extends Sub
    {
        @Parameters(index = "0", description = "the index folder")
        Path dir;
        @Option(names = "--create", description = "first write an index of this many seeded documents")
        Long create;
        @Option(names = "--seed", defaultValue = "1", description = "the demo corpus' seed")
        long seed;

        @Override
        public Integer call() throws Exception
        {
            if (s().index != null)
            {
                throw new IllegalStateException("index " + s().index.path + " is open (close-index first)");
            }
            if (create != null)
            {
                if (create < 0)
                {
                    throw new IllegalArgumentException("--create " + create + ": a number of documents is >= 0");
                }
                LuceneIndex.create(dir, create, seed);
                done("created index " + dir + ": " + create + " documents (seed " + seed + ")");
            }
            s().index = LuceneIndex.open(dir, s().space);
            done("opened " + s().index.summary());
            return 0;
        }
    }

    @Command(name = "close-index", description = "close-index: close the index's reader and directory (unmaps its " +
        "files)")
    static final class CloseIndexCmd extends Sub
    {
        @Override
        public Integer call() throws Exception
        {
            if (s().index == null)
            {
                throw new IllegalStateException("no index is open (index DIR opens one)");
            }
            final Path path = s().index.path;
            final int files = s().index.directory.mappedFiles();
            s().closeIndex();
            done("closed index " + path + ": unmapped " + files + " files");
            return 0;
        }
    }

    @Command(name = "help", description = "list the commands")
    static final class HelpCmd extends Sub
    {
        @Override
        public Integer call()
        {
            for (final CommandLine sub : shell.commandLine.getSubcommands().values())
            {
                s().out.println("  " + String.join(" ", sub.getCommandSpec().usageMessage().description()));
            }
            s().out.println("  quit");
            s().out.println("sizes take K/M/G; addresses are hex, or #N for region N of 'show'");
            return 0;
        }
    }

    /** Parses an enum constant case-insensitively; the error lists the choices. */
    static <E extends Enum<E>> E choice(final Class<E> type, final String what, final String text)
    {
        for (final E e : type.getEnumConstants())
        {
            if (e.name().equalsIgnoreCase(text))
            {
                return e;
            }
        }
        final List<String> names = new ArrayList<>();
        for (final E e : type.getEnumConstants())
        {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(what + " '" + text + "' is not one of " + String.join(", ", names));
    }

    /** Sizes with K/M/G suffixes. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long>
    {
        @Override
        public Long convert(final String value)
        {
            return Sizes.size(value);
        }
    }
}
