package io.regionmm.ordering;

import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.GradingResult;
import org.openjdk.jcstress.infra.grading.TestGrading;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Runs jcstress on this module's tests and turns everything it found into one exit code for the build. jcstress
 * 0.16 signals a failed or errored test only by throwing from the end of its run (an AssertionError listing them),
 * and says nothing at all about a test it did not run. The gate catches that, reads the run's result blob back,
 * grades every result itself and exits 1 when any test
 * <ul>
 * <li>saw an outcome its {@code @Outcome}s do not accept (jcstress's "FAILED": a FORBIDDEN outcome),</li>
 * <li>ended in an error: an exception in an actor, a timeout, a crashed fork JVM, or</li>
 * <li>did not run at all (jcstress skips tests it cannot schedule on the CPUs it has, without failing),</li>
 * </ul>
 * or when the selection matched no test. It prints every outcome seen, summed over the JVM configurations, so the
 * CI log shows which races were actually hit (an interesting outcome that never shows up says the run never
 * produced the interleaving it looks for), and where the HTML report is.
 */
public final class JcstressGate
{
    private JcstressGate()
    {
    }

    /**
     * @param args jcstress's own options ({@code -m}, {@code -t}, {@code -iters}, ...), passed through.
     * @throws Exception when jcstress cannot run or its results cannot be read; the JVM then exits non-zero too.
     */
    public static void main(final String[] args) throws Exception
    {
        final long startedNs = System.nanoTime();
        final Options options = new Options(args);
        if (!options.parse())
        {
            System.exit(2); // jcstress printed what it did not understand
        }
        final JCStress jcstress = new JCStress(options);
        final SortedSet<String> selected = jcstress.getTests();
        AssertionError verdict = null;
        try
        {
            jcstress.run();
        }
        catch (final AssertionError failures)
        {
            verdict = failures; // jcstress's own list of failed tests; the grading below finds them again
        }

        final InProcessCollector collected = new InProcessCollector();
        final DiskReadCollector blob = new DiskReadCollector(options.getResultFile(), collected);
        try
        {
            blob.dump();
        }
        finally
        {
            blob.close();
        }

        final List<String> problems = new ArrayList<>();
        final Map<String, Map<String, Tally>> tallies = new TreeMap<>();
        for (final TestResult result : collected.getTestResults())
        {
            final Map<String, Tally> outcomes = tallies.computeIfAbsent(result.getName(), n -> new TreeMap<>());
            if (result.status() != Status.NORMAL)
            {
                final List<String> lines = new ArrayList<>(result.getMessages());
                for (final String line : result.getVmErr())
                {
                    if (!isNativeAccessWarning(line))
                    {
                        lines.add(line);
                    }
                }
                problems.add(result.getName() + ": " + result.status() + " in " + result.getConfig().jvmArgs +
                    "\n      " + String.join("\n      ", lines));
                continue;
            }
            final TestGrading grading = result.grading();
            for (final GradingResult g : grading.gradingResults.values())
            {
                if (g.count == 0)
                {
                    continue; // a pattern nothing matched in this configuration; the outcomes seen are listed
                }
                outcomes.computeIfAbsent(g.id, id -> new Tally(g.expect, g.description)).count += g.count;
            }
            if (!grading.isPassed)
            {
                for (final GradingResult g : grading.gradingResults.values())
                {
                    if (g.expect == Expect.FORBIDDEN && g.count > 0)
                    {
                        problems.add(result.getName() + ": FORBIDDEN [" + g.id + "] x" + g.count + " in " +
                            result.getConfig().jvmArgs + ": " + g.description);
                    }
                }
            }
        }
        final TreeSet<String> missing = new TreeSet<>(selected);
        missing.removeAll(tallies.keySet());
        if (selected.isEmpty())
        {
            problems.add("no test matches " + options.getTestFilter());
        }
        if (verdict != null && problems.isEmpty())
        {
            problems.add("jcstress: " + verdict.getMessage());
        }
        for (final String name : missing)
        {
            problems.add(name + ": did not run (not schedulable on " + options.getCPUCount() + " CPUs?)");
        }

        System.out.println();
        System.out.println("jcstress gate: " + selected.size() + " tests, " + collected.getTestResults().size() +
            " results, " + (System.nanoTime() - startedNs) / 1_000_000_000L + " s");
        tallies.forEach((test, outcomes) ->
        {
            System.out.println("  " + test);
            outcomes.forEach((id, t) ->
                System.out.printf("    %14d  %-22s [%s] %s%n", t.count, t.expect, id, t.description));
        });
        System.out.println("  HTML report: " + Path.of(options.getResultDest(), "index.html").toAbsolutePath());
        System.out.println("  result blob: " + Path.of(options.getResultFile()).toAbsolutePath() +
            " (re-read with: -p <blob>)");
        if (!problems.isEmpty())
        {
            System.out.println();
            System.out.println("jcstress gate: FAILED, " + problems.size() + " problem(s):");
            problems.forEach(p -> System.out.println("  - " + p));
            System.exit(1);
        }
        System.out.println("jcstress gate: passed");
        System.exit(0); // jcstress may leave non-daemon threads behind
    }

    /**
     * @param line a line a fork printed on stderr.
     * @return true for the JDK's warning that JNA (jcstress's CPU affinity) called a restricted method: every fork
     *         prints it, and it says nothing about the test.
     */
    private static boolean isNativeAccessWarning(final String line)
    {
        return line.startsWith("WARNING: ") &&
            (line.contains("restricted method") || line.contains("Restricted method") ||
            line.contains("System::load") || line.contains("--enable-native-access"));
    }

    /** One outcome of one test, summed over its configurations. */
    private static final class Tally
    {
        final Expect expect;
        final String description;
        long count;

        Tally(final Expect expect, final String description)
        {
            this.expect = expect;
            this.description = description;
        }
    }
}
