package io.regionmm.examples.regions;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code regions}: split, merge, remap, protect and show file regions, with the kernel's view beside ours.
 */
@Command(name = "regions", mixinStandardHelpOptions = true, version = "regions 0.1",
    description = "Map files as regions of an address space and change them, checked against the kernel.",
    subcommands = {Regions.DemoCommand.class, Regions.ShellCommand.class, Regions.RunCommand.class})
public final class Regions implements Runnable
{
    @Override
    public void run()
    {
        new CommandLine(this).usage(System.out);
    }

    /**
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        final CommandLine cli = new CommandLine(new Regions());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // One line for the user; the stack only when asked for (-Dregions.trace=true).
            final String message = ex instanceof java.nio.file.NoSuchFileException ?
                "no such file: " + ex.getMessage() : ex.getMessage();
            cmd.getErr().println("regions " + cmd.getCommandName() + ": " + message);
            if (Boolean.getBoolean("regions.trace"))
            {
                ex.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        System.exit(cli.execute(args));
    }

    /** Options shared by shell and run. */
    static class SpaceOptions
    {
        @Option(names = "--window", defaultValue = "1G", converter = Shell.SizeConverter.class,
            description = "address space to reserve (default ${DEFAULT-VALUE})")
        long window;

        Session open() throws Exception
        {
            return new Session(io.regionmm.space.AddressSpace.create(io.regionmm.kernel.Kernel.system(), window),
                System.out);
        }
    }

    @Command(name = "shell", description = "Type commands on a live address space (help lists them).")
    static final class ShellCommand extends SpaceOptions implements Callable<Integer>
    {
        @Override
        public Integer call() throws Exception
        {
            try (Session session = open())
            {
                final var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                    java.nio.charset.StandardCharsets.UTF_8));
                new Shell(session).run(in, System.console() == null, System.console() != null);
            }
            return 0;
        }
    }

    @Command(name = "run", description = "Run the commands of a script file; exits 1 if any failed.")
    static final class RunCommand extends SpaceOptions implements Callable<Integer>
    {
        @picocli.CommandLine.Parameters(index = "0", description = "the script")
        java.nio.file.Path script;

        @Override
        public Integer call() throws Exception
        {
            try (Session session = open(); var in = java.nio.file.Files.newBufferedReader(script))
            {
                final int failed = new Shell(session).run(in, true, false);
                if (failed > 0)
                {
                    System.out.println(failed + " command(s) failed");
                }
                return failed == 0 ? 0 : 1;
            }
        }
    }

    @Command(name = "demo", description = "A guided tour on temporary files: map, split, protect, merge, remap, " +
        "unmap while reader threads check every page they read.")
    static final class DemoCommand implements Callable<Integer>
    {
        @Option(names = "--readers", defaultValue = "2", description = "reader threads (default ${DEFAULT-VALUE})")
        int readers;

        @Option(names = "--seed", defaultValue = "1", description = "seed for the readers' choices")
        long seed;

        @Override
        public Integer call() throws Exception
        {
            return new Demo(System.out, readers, seed).run();
        }
    }
}
