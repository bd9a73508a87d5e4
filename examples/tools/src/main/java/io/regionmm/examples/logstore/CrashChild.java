package io.regionmm.examples.logstore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The process a crash test kills.
 *
 * <p>With one argument (the store's folder) it appends {@code k<i> = value(i)} forever, committing every 50 records
 * and then printing {@code COMMITTED <i>} (all records up to i are durable).
 *
 * <p>With {@code folder seed generation point count ops} it runs {@code ops} operations of the seeded
 * {@link Workload} (puts, overwrites, deletes, commits, compactions) on the store of that folder, printing
 * {@code COMMITTED <n>} when a commit of the first n operations returns. When it reaches the kill point
 * {@code point} (a {@link Hooks.Point}, or {@code COMMIT}: right after a commit returned) for the {@code count}-th
 * time it prints {@code KILLPOINT <point> <op>} (op: the operation under way) and blocks on its standard input,
 * holding the writer lock, until the parent kills it. Having run every operation it prints {@code DONE <counts>}
 * (how often it met each point) and blocks the same way. Point {@code NONE} never stops.
 */
public final class CrashChild
{
    /** Operation kinds of the {@link Workload}. */
    enum Kind
    {
        PUT, DELETE, COMMIT, COMPACT
    }

    /**
     * One operation.
     *
     * @param kind  what.
     * @param key   the key (PUT and DELETE).
     * @param value the value (PUT).
     */
    record Op(Kind kind, String key, byte[] value)
    {
    }

    /**
     * The operations of one generation of a crash run: a function of the seed and the generation only, so the
     * test replays them to know what the store must hold. Keys come from a pool of {@link #KEYS}, so later
     * operations overwrite and delete earlier ones (also those of earlier generations); values are 0 to ~1.5 KiB
     * and name the operation that wrote them.
     */
    static final class Workload
    {
        /** The key pool. */
        static final int KEYS = 300;
        private final SplittableRandom random;
        private final int generation;
        private int op;

        Workload(final long seed, final int generation)
        {
            this.random = new SplittableRandom(seed * 1_000_003L + generation);
            this.generation = generation;
        }

        Op next()
        {
            final int i = op++;
            final int roll = random.nextInt(1000);
            if (roll < 30)
            {
                return new Op(Kind.COMMIT, null, null);
            }
            if (roll < 34)
            {
                return new Op(Kind.COMPACT, null, null);
            }
            final String key = "k" + random.nextInt(KEYS);
            if (roll < 120)
            {
                return new Op(Kind.DELETE, key, null);
            }
            final int size = random.nextInt(20) == 0 ? random.nextInt(1500) : random.nextInt(400);
            final byte[] head = ("g" + generation + "-o" + i + "-" + key + ":").getBytes(StandardCharsets.UTF_8);
            final byte[] value = new byte[head.length + size];
            System.arraycopy(head, 0, value, 0, head.length);
            long x = random.nextLong();
            for (int b = head.length; b < value.length; b++)
            {
                x = x * 6364136223846793005L + 1442695040888963407L;
                value[b] = (byte)(x >>> 56);
            }
            return new Op(Kind.PUT, key, value);
        }
    }

    /** The store's sizes in the seeded runs: small, so segments grow, roll over and compact often. */
    static final LogStore.Options OPTIONS = new LogStore.Options(64 * 1024, 8 * 1024);

    private CrashChild()
    {
    }

    /**
     * @param i a record number.
     * @return the value stored under {@code k<i>}.
     */
    public static byte[] value(final int i)
    {
        return ("value-" + i + "-" + "x".repeat(i % 97)).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @param args the store's folder [seed generation point count ops].
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        if (args.length == 1)
        {
            appendForever(Path.of(args[0]));
            return;
        }
        final long seed = Long.parseLong(args[1]);
        final int generation = Integer.parseInt(args[2]);
        final String point = args[3];
        final int count = Integer.parseInt(args[4]);
        final int ops = Integer.parseInt(args[5]);
        final Map<Hooks.Point, Integer> met = new EnumMap<>(Hooks.Point.class);
        final int[] current = {-1};
        final int[] commits = {0};
        Hooks.install(p -> {
            final int n = met.merge(p, 1, Integer::sum);
            if (p.name().equals(point) && n == count)
            {
                stop("KILLPOINT " + p + " " + current[0]);
            }
        });
        try (LogStore store = LogStore.open(Path.of(args[0]), OPTIONS))
        {
            final Workload workload = new Workload(seed, generation);
            for (int i = 0; i < ops; i++)
            {
                current[0] = i;
                final Op op = workload.next();
                switch (op.kind())
                {
                    case PUT -> store.put(op.key(), op.value());
                    case DELETE -> store.delete(op.key());
                    case COMPACT -> store.compact();
                    case COMMIT ->
                    {
                        store.commit();
                        System.out.println("COMMITTED " + (i + 1));
                        System.out.flush();
                        if (++commits[0] == count && "COMMIT".equals(point))
                        {
                            stop("KILLPOINT COMMIT " + i);
                        }
                    }
                    default -> throw new AssertionError(op.kind());
                }
            }
            stop("DONE " + met + " COMMIT=" + commits[0]);
        }
    }

    /** Prints the marker, then waits to be killed; exits at once if the parent went (its pipe closed). */
    private static void stop(final String marker)
    {
        System.out.println(marker);
        System.out.flush();
        try
        {
            while (System.in.read() >= 0)
            {
                Thread.onSpinWait();
            }
        }
        catch (final IOException ignored)
        {
            // the parent went: fall through
        }
        Runtime.getRuntime().halt(3);
    }

    private static void appendForever(final Path dir) throws IOException
    {
        final LogStore.Options small = new LogStore.Options(128 * 1024, 16 * 1024);
        try (LogStore store = LogStore.open(dir, small))
        {
            for (int i = 0; ; i++)
            {
                store.put("k" + i, value(i));
                if (i % 50 == 49)
                {
                    store.commit();
                    System.out.println("COMMITTED " + i);
                    System.out.flush();
                }
            }
        }
    }
}
