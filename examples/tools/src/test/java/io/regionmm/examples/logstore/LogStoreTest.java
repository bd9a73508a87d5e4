package io.regionmm.examples.logstore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /**
     * The segment files keep the format byte for byte (crash recovery and existing stores read it): the first two
     * records compared with bytes the hand-written encoder wrote before the records went through a codec (x86,
     * little-endian), then a record with a key longer than 255 bytes (keyLength is big-endian) against the format
     * built here by hand; zeros after the last record.
     */
    @Test
    void segmentFilesKeepTheRecordFormatByteForByte() throws Exception
    {
        final String longKey = "k".repeat(300);
        final byte[] value = new byte[1000];
        new SplittableRandom(15).nextBytes(value);
        try (LogStore store = LogStore.open(dir, SMALL))
        {
            store.put("k1", bytes("hello"));
            store.delete("k1");
            store.put(longKey, value);
            assertArrayEquals(value, store.getUncached(longKey), "read back through the decoder");
        }
        final byte[] file = Files.readAllBytes(dir.resolve(Segment.fileName(1)));
        final byte[] golden = HexFormat.of().parseHex("0c00000001000000026b3168656c6c6f3c17664c" +
            "0700000002000000026b3165e5b0cf");
        final ByteBuffer expected = ByteBuffer.allocate(golden.length + 4 + 5 + 300 + 1000 + 4);
        expected.put(golden);
        final ByteBuffer body = ByteBuffer.allocate(5 + 300 + 1000).order(ByteOrder.BIG_ENDIAN);
        body.put(Records.PUT).putInt(300).put(bytes(longKey)).put(value);
        final CRC32C crc = new CRC32C();
        crc.update(body.array());
        expected.order(ByteOrder.nativeOrder()).putInt(body.capacity()).put(body.array()).putInt((int)crc.getValue());
        assertArrayEquals(expected.array(), Arrays.copyOf(file, expected.capacity()));
        for (int i = expected.capacity(); i < file.length; i++)
        {
            assertEquals(0, file[i], "byte " + i + " after the last record");
        }
    }

    /** A segment is read through one Agrona buffer, whose capacity is an int: larger segments are refused. */
    @Test
    void segmentsOverTwoGiBAreRefusedAtOpen()
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> LogStore.open(dir, new LogStore.Options(2L << 30, 8 * 1024)));
        assertTrue(refused.getMessage().contains("2147483648"), refused.getMessage());
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
        final List<String> command = new ArrayList<>(List.of(java));
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
