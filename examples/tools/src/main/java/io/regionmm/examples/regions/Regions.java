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
    subcommands = {Regions.DemoCommand.class})
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
        System.exit(new CommandLine(new Regions()).execute(args));
    }

    @Command(name = "demo", description = "A guided tour on temporary files: map, split, protect, merge, remap, unmap "
        + "while reader threads check every page they read.")
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
