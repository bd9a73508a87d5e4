package io.regionmm.examples.logstore;

import io.regionmm.space.Lease;
import io.regionmm.view.AgronaView;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A store's compaction: one at a time, beside puts, gets and commits. The writer lock is held only to append a batch
 * of copies and to sync and drop the compacted segments, never while values are read.
 */
final class Compactor
{
    /** Copies appended per hold of the writer lock: a put waits for at most this many appends. */
    private static final int COPY_BATCH = 32;

    private final LogStore store;
    private final ReentrantLock compacting = new ReentrantLock(); // one compaction at a time
    private volatile int compactions;

    Compactor(final LogStore store)
    {
        this.store = store;
    }

    int compactions()
    {
        return compactions;
    }

    /**
     * Copies the live records of every sealed segment into the active one, then unmaps and deletes the sealed
     * store.segments, while readers and writers go on: values are read without the writer lock, and the lock is taken
     * only to append a batch of copies (a copy is skipped when a put or delete replaced its key meanwhile), then to
     * sync and to drop the sealed store.segments from the list. Readers retry when their segment disappears under them;
     * their cached pointers into it are invalidated before it is unmapped.
     *
     * @return the number of store.segments removed.
     * @throws IOException when copying or syncing fails.
     */
    int compact() throws IOException
    {
        compacting.lock();
        try
        {
            final List<Segment> sealed = new ArrayList<>();
            store.writer.lock();
            try
            {
                sealed.addAll(store.segments);
                sealed.remove(store.active);
            }
            finally
            {
                store.writer.unlock();
            }
            if (sealed.isEmpty())
            {
                return 0;
            }
            final List<Map.Entry<String, Location>> batch = new ArrayList<>();
            final List<byte[]> values = new ArrayList<>();
            for (final Segment s : sealed)
            {
                for (final Map.Entry<String, Location> e : store.index.entrySet())
                {
                    final Location old = e.getValue();
                    if (old.segment() != s)
                    {
                        continue;
                    }
                    // Sealed store.segments never move or change until this compaction unmaps them: a lease reads them
                    // without the writer lock.
                    try (Lease lease = store.space.lease(s.address + old.offset()))
                    {
                        final DirectBuffer record = AgronaView.readOnly(lease,
                            s.address + old.offset() - lease.region().start(), old.length());
                        values.add(Records.read(record, 0, old.length()).value());
                    }
                    batch.add(Map.entry(e.getKey(), old));
                    if (batch.size() == COPY_BATCH)
                    {
                        appendCopies(batch, values);
                    }
                }
            }
            appendCopies(batch, values);
            store.writer.lock();
            try
            {
                for (final Segment s : store.segments)
                {
                    store.syncSegment(s); // the copies are durable before the originals go
                }
                Hooks.reach(Hooks.Point.COMPACT_SYNCED);
                store.segments.removeAll(sealed); // commit() no longer syncs them
            }
            finally
            {
                store.writer.unlock();
            }
            for (final Segment s : sealed)
            {
                store.space.unmap(s.address, s.mappedLength); // invalidates the pointers cached into it first
                s.subscription.close();
                store.space.releaseFile(s.file);
                Files.deleteIfExists(s.path);
                Hooks.reach(Hooks.Point.COMPACT_DELETED);
            }
            compactions = compactions + 1; // written only by the compaction holding `compacting`
            return sealed.size();
        }
        finally
        {
            compacting.unlock();
        }
    }

    /** Appends the copies whose keys still point at the records read, under the writer lock, and clears the batch. */
    private void appendCopies(final List<Map.Entry<String, Location>> batch, final List<byte[]> values)
        throws IOException
    {
        if (batch.isEmpty())
        {
            return;
        }
        Hooks.reach(Hooks.Point.COMPACT_READ);
        store.writer.lock();
        try
        {
            for (int i = 0; i < batch.size(); i++)
            {
                final Map.Entry<String, Location> e = batch.get(i);
                if (store.index.get(e.getKey()) == e.getValue()) // else a put or delete came after the read: it wins
                {
                    store.append(Records.PUT, e.getKey(), values.get(i)); // points the index at the copy
                    Hooks.reach(Hooks.Point.COMPACT_COPIED);
                }
            }
        }
        finally
        {
            store.writer.unlock();
        }
        batch.clear();
        values.clear();
    }

}
