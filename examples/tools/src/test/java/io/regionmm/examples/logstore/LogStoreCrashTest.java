package io.regionmm.examples.logstore;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SIGKILLs a child JVM ({@link CrashChild}) running a seeded logstore workload at precise points of the write path
 * (the child stops there and waits to be killed) or at a seeded time, reopens the store in-process and checks that
 * what it recovers is exactly the state after some prefix of the workload: at least everything committed, never a
 * half-visible record, and (since a SIGKILL leaves the page cache alone) exactly the operations that completed
 * before the kill point; and that the store's invariants hold ({@link LogStore#verify()}). Each run kills
 * {@link #GENERATIONS} children in turn on the same folder, so later generations recover from a crash, go on
 * writing over a torn tail, and crash again.
 *
 * <p>{@code -Dregionmm.crash.runs=N} sets the number of runs (the soak profile: 300), {@code -Dregionmm.crash.seed=S}
 * the first run's seed (run r uses S + r); a failure names the seed, generation and kill point to replay with
 * {@code -Dregionmm.crash.seed=<seed> -Dregionmm.crash.runs=1}.
 */
class LogStoreCrashTest
{
    private static final int RUNS = Integer.getInteger("regionmm.crash.runs", 24);
    private static final int GENERATIONS = 2;
    private static final int OPS = 1000;
    private static final long LINE_TIMEOUT_SECONDS = 30;
    /** The kill points: the child's {@link Hooks.Point}s, COMMIT (right after a commit returned), RANDOM. */
    private static final List<String> POINTS = Stream.concat(Arrays.stream(Hooks.Point.values()).map(Enum::name),
        Stream.of("COMMIT", "RANDOM")).toList();

    @TempDir
    Path root;

    /** The children's class-data archive (JDK classes, lambda forms, FFM stubs): 20-30% off each start. */
    private static Path archive;

    /** What one child did before it was killed. */
    private record Kill(String point, int count, int committed, int markerOp, boolean precise, List<String> output)
    {
    }

    /** Counters for the summary. */
    private static final class Tally
    {
        int kills;
        int precise;
        int tornOnDisk;
        long records;
        long childNanos;
        long checkNanos;
    }

    @Test
    void everyCommittedOperationSurvivesSigkillAtSeededPointsAndNothingTornAppears() throws Exception
    {
        final long base = Long.getLong("regionmm.crash.seed", System.nanoTime() & 0xffff_ffffL);
        final Map<String, Tally> tallies = new TreeMap<>();
        POINTS.forEach(p -> tallies.put(p, new Tally()));
        final long start = System.nanoTime();
        archive = dumpArchive(root);
        for (int run = 0; run < RUNS; run++)
        {
            final long seed = base + run;
            final Path dir = root.resolve("run-" + seed);
            crashRun(seed, dir, tallies);
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        final StringBuilder summary = new StringBuilder(String.format("crash summary: %d runs x %d generations, " +
            "seeds %d..%d, %.1f s (class-data archive: %s);", RUNS, GENERATIONS, base, base + RUNS - 1,
            (System.nanoTime() - start) / 1e9, archive != null));
        long records = 0;
        long childNanos = 0;
        long checkNanos = 0;
        for (final Map.Entry<String, Tally> e : tallies.entrySet())
        {
            final Tally t = e.getValue();
            records += t.records;
            childNanos += t.childNanos;
            checkNanos += t.checkNanos;
            summary.append(String.format(" %s %d kills (%d at the point%s)", e.getKey(), t.kills, t.precise,
                e.getKey().equals("RECORD_TORN") ? ", " + t.tornOnDisk + " torn records on disk" : ""));
        }
        summary.append(String.format("; %,d recovered records verified byte for byte; children %.1f s, reopening " +
            "and checking %.1f s", records, childNanos / 1e9, checkNanos / 1e9));
        System.out.println(summary);
        final Tally torn = tallies.get("RECORD_TORN");
        if (RUNS * GENERATIONS >= 4 * POINTS.size())
        {
            assertTrue(torn.tornOnDisk > 0, "some kill left a torn record on disk: " + summary);
            for (final Map.Entry<String, Tally> e : tallies.entrySet())
            {
                if (!e.getKey().equals("RANDOM"))
                {
                    assertTrue(e.getValue().precise > 0, "some kill happened at " + e.getKey() + ": " + summary);
                }
            }
        }
    }

    private static void crashRun(final long seed, final Path dir, final Map<String, Tally> tallies) throws Exception
    {
        final SplittableRandom plan = new SplittableRandom(seed);
        Map<String, byte[]> baseline = new HashMap<>();
        for (int generation = 0; generation < GENERATIONS; generation++)
        {
            final String point = POINTS.get(Math.floorMod(seed * GENERATIONS + generation, POINTS.size()));
            final int count = 1 + plan.nextInt(typicalCount(point));
            final String where = "seed " + seed + " generation " + generation + " kill point " + point + " #" + count;
            final long t0 = System.nanoTime();
            final Kill kill = runChild(dir, seed, generation, point, count, plan.nextInt(2000), where);
            final long t1 = System.nanoTime();
            final Tally tally = tallies.get(point);
            tally.kills++;
            tally.precise += kill.precise() ? 1 : 0;
            if (point.equals("RECORD_TORN") && kill.precise())
            {
                assertTrue(tornRecordOnDisk(dir), where + ": the kill left no torn record on disk");
                tally.tornOnDisk++;
            }
            final Map<String, byte[]> recovered = new HashMap<>();
            try (LogStore store = LogStore.open(dir, CrashChild.OPTIONS))
            {
                try
                {
                    store.verify();
                }
                catch (final IllegalStateException broken)
                {
                    throw new AssertionError(where + " (committed " + kill.committed() + ", killed at op " +
                        kill.markerOp() + "): the reopened store's invariants do not hold", broken);
                }
                for (int k = 0; k < CrashChild.Workload.KEYS; k++)
                {
                    final byte[] v = store.get("k" + k);
                    if (v != null)
                    {
                        recovered.put("k" + k, v);
                    }
                }
                assertEquals(recovered.size(), store.size(), where + ": keys outside the workload's pool appeared");
            }
            checkPrefix(seed, generation, baseline, recovered, kill, where);
            tally.records += recovered.size();
            tally.childNanos += t1 - t0;
            tally.checkNanos += System.nanoTime() - t1;
            baseline = recovered;
        }
    }

    /** How often the workload of one generation meets a point, roughly (from the children's DONE lines). */
    private static int typicalCount(final String point)
    {
        return switch (point)
        {
            case "RECORD_TORN" -> 900;
            case "GROW_BEFORE", "GROW_AFTER" -> 25;
            case "ROLLOVER" -> 3;
            case "COMPACT_READ" -> 10;
            case "COMPACT_COPIED" -> 300;
            case "COMPACT_SYNCED" -> 2;
            case "COMPACT_DELETED" -> 3;
            case "COMMIT", "RANDOM" -> 25;
            default -> throw new IllegalArgumentException(point);
        };
    }

    /**
     * Replays the generation's workload over the state the previous generation left, and requires the recovered
     * state to be the state after some prefix of it: at least {@code committed} operations, and for a kill at a
     * point exactly the operations done before it.
     */
    private static void checkPrefix(final long seed, final int generation, final Map<String, byte[]> baseline,
        final Map<String, byte[]> recovered, final Kill kill, final String where)
    {
        final int upper;
        final int expected;
        if (kill.markerOp() >= 0)
        {
            upper = kill.markerOp() + 1;
            expected = kill.point().equals("COMMIT") ? upper : kill.markerOp(); // the op under way is not visible
        }
        else
        {
            upper = OPS;
            expected = kill.precise() ? -1 : OPS; // a RANDOM kill: some prefix; a point never met: all (DONE)
        }
        final Map<String, byte[]> state = new HashMap<>(baseline);
        int mismatches = 0;
        for (int k = 0; k < CrashChild.Workload.KEYS; k++)
        {
            mismatches += Arrays.equals(state.get("k" + k), recovered.get("k" + k)) ? 0 : 1;
        }
        final List<Integer> matches = new ArrayList<>();
        Map<String, byte[]> atCommitted = null;
        final CrashChild.Workload workload = new CrashChild.Workload(seed, generation);
        for (int m = 0; ; m++)
        {
            if (m == kill.committed())
            {
                atCommitted = new HashMap<>(state);
            }
            if (m >= kill.committed() && mismatches == 0)
            {
                matches.add(m);
            }
            if (m == upper)
            {
                break;
            }
            final CrashChild.Op op = workload.next();
            if (op.kind() == CrashChild.Kind.PUT || op.kind() == CrashChild.Kind.DELETE)
            {
                final byte[] got = recovered.get(op.key());
                final boolean before = Arrays.equals(state.get(op.key()), got);
                if (op.kind() == CrashChild.Kind.PUT)
                {
                    state.put(op.key(), op.value());
                }
                else
                {
                    state.remove(op.key());
                }
                mismatches += (Arrays.equals(state.get(op.key()), got) ? 0 : 1) - (before ? 0 : 1);
            }
        }
        if (matches.isEmpty() || expected >= 0 && !matches.contains(expected))
        {
            final StringBuilder diff = new StringBuilder();
            int shown = 0;
            for (int k = 0; k < CrashChild.Workload.KEYS && shown < 8 && atCommitted != null; k++)
            {
                final byte[] want = atCommitted.get("k" + k);
                final byte[] got = recovered.get("k" + k);
                if (!Arrays.equals(want, got))
                {
                    diff.append("\n  k").append(k).append(": committed ").append(head(want)).append(", recovered ")
                        .append(head(got));
                    shown++;
                }
            }
            fail(where + ": committed " + kill.committed() + ", killed at op " + kill.markerOp() + "; the recovered " +
                "state (" + recovered.size() + " keys) is the state after ops " + matches + " of [" +
                kill.committed() + ", " + upper + "], expected " + (expected >= 0 ? expected : "any") +
                "; differences from the committed state (later ops may explain some):" + diff + "\nchild output: " +
                kill.output());
        }
    }

    private static String head(final byte[] v)
    {
        if (v == null)
        {
            return "absent";
        }
        final String s = new String(v, StandardCharsets.UTF_8);
        return "'" + s.substring(0, Math.min(24, s.indexOf(':') + 1 > 0 ? s.indexOf(':') + 1 : s.length())) +
            "' (" + v.length + " bytes)";
    }

    /** The last segment file holds a record whose body is written but whose length is still zero. */
    private static boolean tornRecordOnDisk(final Path dir) throws IOException
    {
        final Path last;
        try (Stream<Path> files = Files.list(dir))
        {
            last = files.filter(p -> p.getFileName().toString().startsWith("segment-")).sorted().toList().getLast();
        }
        final byte[] bytes = Files.readAllBytes(last);
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        int pos = 0;
        Records.Parsed r;
        while ((r = Records.read(buffer, pos, bytes.length)) != null)
        {
            pos += r.length();
        }
        if (pos + Records.HEADER > bytes.length || new RecordDecoder().wrap(buffer, pos).bodyLength() != 0)
        {
            return false;
        }
        for (int p = pos + Records.HEADER; p < bytes.length; p++)
        {
            if (bytes[p] != 0)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs one child to its end (its stdin closed, it exits at DONE) with {@code -XX:ArchiveClassesAtExit}.
     *
     * @return the archive, or null when the JVM made none (the children then start without it).
     */
    private static Path dumpArchive(final Path root) throws Exception
    {
        final Path jsa = root.resolve("crash-child.jsa");
        final Path dir = root.resolve("archive-run");
        final Process child = new ProcessBuilder(childCommand(List.of("-XX:ArchiveClassesAtExit=" + jsa),
            List.of(dir.toString(), "0", "0", "NONE", "1", Integer.toString(OPS))))
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            child.getOutputStream().close();
            child.waitFor(2 * LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        finally
        {
            child.destroyForcibly();
        }
        return Files.isRegularFile(jsa) ? jsa : null;
    }

    private static List<String> childCommand(final List<String> jvmFlags, final List<String> args)
    {
        final String java = ProcessHandle.current().info().command().orElseThrow();
        final String modulePath = System.getProperty("jdk.module.path");
        final List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-XX:-UsePerfData"));
        command.addAll(jvmFlags);
        if (modulePath != null)
        {
            command.addAll(List.of("--enable-native-access=io.regionmm.kernel,io.regionmm.region", "--add-exports",
                "java.base/jdk.internal.misc=org.agrona", "--module-path", modulePath, "--add-modules",
                "ALL-MODULE-PATH", "-m", "io.regionmm.examples/io.regionmm.examples.logstore.CrashChild"));
        }
        else
        {
            command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--add-exports",
                "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName()));
        }
        command.addAll(args);
        return command;
    }

    /**
     * Starts a child and SIGKILLs it when it stops at its kill point (or, for RANDOM, after {@code count} commits
     * and {@code delayMicros}); every wait is bounded and the child is killed whatever happens.
     */
    private static Kill runChild(final Path dir, final long seed, final int generation, final String point,
        final int count, final int delayMicros, final String where) throws Exception
    {
        final List<String> flags = archive == null ? List.of() : List.of("-XX:SharedArchiveFile=" + archive);
        final Process child = new ProcessBuilder(childCommand(flags, List.of(dir.toString(), Long.toString(seed),
            Integer.toString(generation), point, Integer.toString(count), Integer.toString(OPS))))
            .redirectErrorStream(true).start();
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final String eof = "\0EOF";
        final Thread reader = Thread.ofPlatform().daemon().name("crash-child-output").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    lines.add(line);
                }
            }
            catch (final IOException ignored)
            {
                // the child went
            }
            lines.add(eof);
        });
        final Deque<String> output = new ArrayDeque<>();
        int committed = 0;
        int commitLines = 0;
        int markerOp = -1;
        boolean precise = false;
        try
        {
            while (true)
            {
                final String line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                if (line == null)
                {
                    fail(where + ": the child printed nothing for " + LINE_TIMEOUT_SECONDS + " s; output: " + output);
                }
                if (line.equals(eof))
                {
                    fail(where + ": the child exited (" + child.waitFor() + ") before its kill point; output: " +
                        output);
                }
                remember(output, line);
                if (line.startsWith("COMMITTED "))
                {
                    committed = Integer.parseInt(line.substring(10));
                    if (point.equals("RANDOM") && ++commitLines == count)
                    {
                        LockSupport.parkNanos(delayMicros * 1000L); // a seeded moment after that commit
                        precise = true;
                        break;
                    }
                }
                else if (line.startsWith("KILLPOINT "))
                {
                    final String[] parts = line.split(" ");
                    assertEquals(point, parts[1], where);
                    markerOp = Integer.parseInt(parts[2]);
                    precise = true;
                    break;
                }
                else if (line.startsWith("DONE "))
                {
                    break; // the workload met the point fewer than count times: killed at its end
                }
            }
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close, no commit
            assertTrue(child.waitFor(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS), where + ": the child outlived SIGKILL");
            assertEquals(128 + 9, child.exitValue(), where + ": the child did not die of SIGKILL; output: " + output);
            // Commits the child printed before it died (a RANDOM kill lets it run on) are committed too.
            for (String line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS); line != null && !line.equals(eof);
                line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                remember(output, line);
                if (line.startsWith("COMMITTED "))
                {
                    committed = Integer.parseInt(line.substring(10));
                }
                else if (line.startsWith("KILLPOINT ") || line.startsWith("DONE ") && markerOp >= 0)
                {
                    fail(where + ": a marker after the child stopped: " + line); // (RANDOM: it may have run out)
                }
            }
            reader.join(TimeUnit.SECONDS.toMillis(LINE_TIMEOUT_SECONDS));
        }
        finally
        {
            child.destroyForcibly();
        }
        return new Kill(point, count, committed, markerOp, precise, List.copyOf(output));
    }

    private static void remember(final Deque<String> output, final String line)
    {
        output.addLast(line);
        if (output.size() > 20)
        {
            output.removeFirst();
        }
    }

    /**
     * The bug the crash runs found, replayed in-process: a torn record (body and checksum written, length not) left
     * behind after recovery, then overwritten by a shorter record, exposed the rest of its body to the next
     * recovery's scan. A value that holds record-like bytes (any value may) then came back as a record: here a
     * committed key's value changed after two reopenings. Recovery now zeroes everything after the last whole
     * record.
     */
    @Test
    void aTornTailCannotComeBackAsARecordAfterAShorterAppend(@TempDir final Path dir) throws Exception
    {
        final byte[] right = "right".getBytes(StandardCharsets.UTF_8);
        final byte[] k0 = "k0".getBytes(StandardCharsets.UTF_8);
        final byte[] wrong = "WRONG".getBytes(StandardCharsets.UTF_8);
        final byte[] embedded = new byte[Records.size(k0.length, wrong.length)];
        Records.write(new UnsafeBuffer(embedded), 0, Records.PUT, k0, wrong);
        final int filler = 20;
        final byte[] value = new byte[filler + embedded.length];
        Arrays.fill(value, 0, filler, (byte)'f');
        System.arraycopy(embedded, 0, value, filler, embedded.length);
        try (LogStore store = LogStore.open(dir, CrashChild.OPTIONS))
        {
            store.put("k0", right);
            store.commit();
            Hooks.install(p -> {
                if (p == Hooks.Point.RECORD_TORN)
                {
                    throw new IllegalStateException("crash");
                }
            });
            try
            {
                assertThrows(IllegalStateException.class, () -> store.put("pad", value)); // torn, as by a kill
            }
            finally
            {
                Hooks.install(null);
            }
        }
        try (LogStore store = LogStore.open(dir, CrashChild.OPTIONS))
        {
            // The torn record's embedded bytes start 4 + 1 + 4 + 3 + filler bytes into it: append exactly that much.
            final int length = 4 + 1 + 4 + "pad".length() + filler - Records.size(2, 0);
            store.put("k1", new byte[length]);
            store.commit();
        }
        try (LogStore store = LogStore.open(dir, CrashChild.OPTIONS))
        {
            assertArrayEquals(right, store.get("k0"), "the committed value of k0");
            assertEquals(2, store.size());
            store.verify();
        }
    }
}
