package io.regionmm.examples.logstore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LogStoreTest
{
    private static final LogStore.Options SMALL = new LogStore.Options(64 * 1024, 8 * 1024);

    @TempDir
    Path dir;

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putGetDeleteSurviveReopening() throws Exception
    {
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            for (int i = 0; i < 5000; i++)
            {
                store.put("k" + i, bytes("v" + i));
            }
            store.put("k7", bytes("seven"));
            store.delete("k8");
            assertArrayEquals(bytes("seven"), store.get("k7"));
            assertNull(store.get("k8"));
            assertNull(store.get("absent"));
            assertTrue(store.segmentCount() > 1, "rolled over: " + store.segmentCount());
            store.commit();
        }
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            assertEquals(4999, store.size());
            assertArrayEquals(bytes("seven"), store.get("k7"));
            assertNull(store.get("k8"));
            assertArrayEquals(bytes("v4999"), store.get("k4999"));
            final int segments = store.segmentCount();
            assertEquals(segments - 1, store.compact(), "every sealed segment is compacted away");
            assertArrayEquals(bytes("v1234"), store.get("k1234"));
        }
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            assertEquals(4999, store.size(), "compaction kept every live record");
            assertNull(store.get("k8"));
            assertArrayEquals(bytes("v0"), store.get("k0"));
        }
    }

    @Test
    void cachedGetsTouchNoRegionAndCompactionInvalidatesExactlyTheSealedSegments() throws Exception
    {
        final int keys = 8000;
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            for (int i = 0; i < keys; i++)
            {
                store.put("k" + i, bytes("v" + i));
            }
            assertTrue(store.segmentCount() > 2);
            for (int i = 0; i < keys; i++)
            {
                assertArrayEquals(bytes("v" + i), store.get("k" + i)); // caches a pointer
            }
            final long before = store.cachedGets();
            final var counts = store.space().readCounts();
            for (int i = 0; i < keys; i++)
            {
                assertArrayEquals(bytes("v" + i), store.get("k" + i));
            }
            assertEquals(before + keys, store.cachedGets(), "every second get went through its pointer");
            assertEquals(counts, store.space().readCounts(), "and none of them looked up a region");

            final int sealed = store.segmentCount() - 1;
            final long invalidations = store.invalidations();
            store.compact();
            assertEquals(invalidations + sealed, store.invalidations(), "one invalidation per unmapped segment");
            final long afterCompaction = store.cachedGets();
            for (int i = 0; i < keys; i++)
            {
                assertArrayEquals(bytes("v" + i), store.get("k" + i)); // moved keys: new locations, new pointers
            }
            assertTrue(store.cachedGets() - afterCompaction < keys, "pointers into the sealed segments were not used");
            store.verify();
        }
    }

    @Test
    void putsGoOnWhileACompactionCopies() throws Exception
    {
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            for (int i = 0; i < 5000; i++)
            {
                store.put("k" + i, bytes("v" + i));
            }
            final AtomicBoolean first = new AtomicBoolean(true);
            final AtomicReference<String> failure = new AtomicReference<>();
            Hooks.install(point -> {
                if (point != Hooks.Point.COMPACT_READ || !first.compareAndSet(true, false))
                {
                    return;
                }
                // The compaction has read a batch and holds no writer lock: a put must go through now. (Bounded: a
                // compaction that held the lock would make this wait time out, not hang.)
                final CountDownLatch putDone = new CountDownLatch(1);
                final Thread putter = new Thread(() -> {
                    try
                    {
                        store.put("k1", bytes("new"));
                        store.delete("k2");
                        putDone.countDown();
                    }
                    catch (final Exception ex)
                    {
                        failure.set(ex.toString());
                    }
                });
                putter.start();
                try
                {
                    if (!putDone.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    {
                        failure.set("a put waited for the compaction");
                    }
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
            });
            try
            {
                assertTrue(store.compact() > 0);
            }
            finally
            {
                Hooks.install(null);
            }
            assertNull(failure.get());
            assertArrayEquals(bytes("new"), store.get("k1"), "the put won over the compaction's copy");
            assertNull(store.get("k2"), "the delete too");
            assertArrayEquals(bytes("v3"), store.get("k3"));
            store.verify();
        }
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            assertArrayEquals(bytes("new"), store.get("k1"));
            assertNull(store.get("k2"));
            assertEquals(4999, store.size());
        }
    }

    @Test
    void readersSeeRightValuesWhileSegmentsGrowMoveAndAreCompacted() throws Exception
    {
        final int keys = 500;
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final LongAdder reads = new LongAdder();
            final CountDownLatch readersRunning = new CountDownLatch(2);
            final List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++)
            {
                final SplittableRandom random = new SplittableRandom(r);
                final Thread t = new Thread(() -> {
                    readersRunning.countDown();
                    try
                    {
                        while (!stop.get())
                        {
                            final int k = random.nextInt(keys);
                            final byte[] v = store.get("key" + k);
                            if (v != null && !new String(v, StandardCharsets.UTF_8).startsWith(k + ":"))
                            {
                                throw new AssertionError("key" + k + " read " + new String(v, StandardCharsets.UTF_8));
                            }
                            reads.increment();
                        }
                    }
                    catch (final Throwable t1)
                    {
                        failure.compareAndSet(null, t1);
                    }
                });
                t.start();
                readers.add(t);
            }
            readersRunning.await();
            final int[] version = new int[keys];
            final SplittableRandom random = new SplittableRandom(99);
            for (int i = 0; i < 20_000 && failure.get() == null; i++)
            {
                final int k = random.nextInt(keys);
                version[k]++;
                store.put("key" + k, bytes(k + ":" + version[k] + ":" + "p".repeat(random.nextInt(200))));
                if (i % 2500 == 2499)
                {
                    store.compact();
                }
            }
            stop.set(true);
            for (final Thread t : readers)
            {
                t.join();
            }
            if (failure.get() != null)
            {
                throw new AssertionError(failure.get());
            }
            assertTrue(reads.sum() > 1000, "reads: " + reads.sum());
            assertTrue(store.compactions() >= 4);
            for (int k = 0; k < keys; k++)
            {
                if (version[k] > 0)
                {
                    assertTrue(new String(store.get("key" + k), StandardCharsets.UTF_8)
                        .startsWith(k + ":" + version[k] + ":"), "latest version of key" + k);
                }
            }
            store.space().verify();
        }
    }

    @Test
    void everyCommittedRecordSurvivesAKillAndNothingTornAppears() throws Exception
    {
        final String java = ProcessHandle.current().info().command().orElseThrow();
        final String modulePath = System.getProperty("jdk.module.path");
        final List<String> command = new ArrayList<>(List.of(java,
            "--enable-native-access=io.regionmm.kernel,io.regionmm.region"));
        if (modulePath != null)
        {
            command.addAll(List.of("--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH", "-m",
                "io.regionmm.examples/io.regionmm.examples.logstore.CrashChild"));
        }
        else
        {
            command.set(1, "--enable-native-access=ALL-UNNAMED");
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashChild.class.getName()));
        }
        command.add(dir.toString());
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        int committed = -1;
        final List<String> output = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
            StandardCharsets.UTF_8)))
        {
            String line;
            while (committed < 3000 && (line = in.readLine()) != null)
            {
                output.add(line);
                if (line.startsWith("COMMITTED "))
                {
                    committed = Integer.parseInt(line.substring(10));
                }
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close, mid-append
            child.waitFor();
        }
        assertTrue(committed >= 3000, "child output: " + output);
        try (Stream<Path> files = Files.list(dir))
        {
            assertTrue(files.count() > 1, "the child rolled over segments");
        }
        try (LogStore store = LogStore.open(dir, new LogStore.Options(128 * 1024, 16 * 1024)))
        {
            for (int i = 0; i <= committed; i++)
            {
                assertArrayEquals(CrashChild.value(i), store.get("k" + i), "committed k" + i);
            }
            int extra = 0;
            for (int i = committed + 1; store.get("k" + i) != null; i++)
            {
                assertArrayEquals(CrashChild.value(i), store.get("k" + i), "uncommitted k" + i + " is whole");
                extra++;
            }
            assertEquals(committed + 1 + extra, store.size(), "no other keys appeared");
        }
    }
}
