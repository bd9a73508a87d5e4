package io.regionmm.examples.logstore;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The process a crash test kills: appends {@code k<i> = value(i)} forever, committing every 50 records and then
 * printing {@code COMMITTED <i>} (all records up to i are durable).
 */
public final class CrashChild
{
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
     * @param args the store's folder.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final LogStore.Options small = new LogStore.Options(128 * 1024, 16 * 1024);
        try (LogStore store = LogStore.open(Path.of(args[0]), small))
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
