package io.regionmm.space;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM running a main class of these tests on the class path (test classes, the module path's jars and the
 * class path, all unnamed: native access for ALL-UNNAMED), bounded in time, its output collected line by line.
 */
final class ChildJvm
{
    private ChildJvm()
    {
    }

    /**
     * @param main       the child's main class, from these tests.
     * @param jvmOptions options before the class path (heap, properties, ...).
     * @param args       the main class's arguments.
     * @return the command line that starts it.
     * @throws Exception when the test classes' location cannot be found.
     */
    static List<String> command(final Class<?> main, final List<String> jvmOptions, final String... args)
        throws Exception
    {
        final String testClasses = Path.of(main.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
        final String classPath = String.join(File.pathSeparator, testClasses,
            System.getProperty("jdk.module.path", ""), System.getProperty("java.class.path"));
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
            "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classPath, main.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * Runs a command to its end (killed after {@code boundSeconds}) and asserts it exited with 0.
     *
     * @return its output (stdout and stderr), line by line.
     * @throws Exception when it cannot be started or waited for.
     */
    static List<String> run(final List<String> command, final long boundSeconds) throws Exception
    {
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        // A watchdog, so a child that hangs with its output open cannot hang the reader below.
        final Thread watchdog = Thread.ofVirtual().start(() -> {
            try
            {
                if (!child.waitFor(boundSeconds, TimeUnit.SECONDS))
                {
                    child.destroyForcibly();
                }
            }
            catch (final InterruptedException ex)
            {
                child.destroyForcibly();
            }
        });
        final List<String> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
            StandardCharsets.UTF_8)))
        {
            for (String l = in.readLine(); l != null; l = in.readLine())
            {
                out.add(l);
            }
            assertTrue(child.waitFor(boundSeconds, TimeUnit.SECONDS), "the child did not end: " + out);
        }
        finally
        {
            child.destroyForcibly();
            watchdog.interrupt();
        }
        assertEquals(0, child.exitValue(), () -> "the child died: " + String.join("\n", out));
        return out;
    }

    /** @return the first line of {@code out} that starts with {@code prefix}. */
    static String line(final List<String> out, final String prefix)
    {
        return out.stream().filter(l -> l.startsWith(prefix)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + prefix + "line in:\n" + String.join("\n", out)));
    }
}
