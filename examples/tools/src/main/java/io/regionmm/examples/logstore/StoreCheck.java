package io.regionmm.examples.logstore;

import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
import io.regionmm.view.AgronaView;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The store's invariants, checked against its files, its regions and the kernel: what tests (and the crash test,
 * after each recovery) call to know a store is whole.
 */
final class StoreCheck
{
    private StoreCheck()
    {
    }

    /**
     * Checks the store's invariants (for tests, e.g. after a crash and reopening): the segment files in the folder
     * are exactly the store's segments, in order, the last one active; every segment's region is its file from
     * offset 0 and as long as the store thinks; its records up to the write position all parse with a right
     * checksum and end exactly there; every byte after the write position is zero (the next append relies on a
     * zero length following it, so a scan stops there); the index is exactly what replaying every segment in order
     * gives; and the address space agrees with the kernel ({@link AddressSpace#verify()}).
     *
     * @param store the store.
     * @throws IOException           when the folder cannot be listed.
     * @throws IllegalStateException naming the first invariant that does not hold.
     */
    static void verify(final LogStore store) throws IOException
    {
        store.writer.lock();
        try
        {
            final List<Path> files = store.segmentFiles();
            final List<Path> mapped = store.segments.stream().map(s -> s.path).toList();
            check(files.equals(mapped), "the folder holds " + files + ", the store maps " + mapped);
            check(!store.segments.isEmpty() && store.segments.getLast() == store.active,
                "the active segment is not the last one");
            final Map<String, Location> replay = new HashMap<>();
            int previous = 0;
            for (final Segment s : store.segments)
            {
                final String name = "segment " + s.id;
                check(s.id > previous, name + " follows segment " + previous);
                previous = s.id;
                check(s.syncedPosition <= s.writePosition && s.writePosition + Records.HEADER <= s.mappedLength,
                    name + ": synced " + s.syncedPosition + ", written " + s.writePosition + ", mapped " +
                    s.mappedLength);
                check(store.space.fileSize(s.file) >= s.mappedLength, name + ": the file is shorter than its region");
                try (Lease lease = store.space.lease(s.address))
                {
                    check(lease.region().start() == s.address && lease.region().length() == s.mappedLength &&
                        lease.region().file() == s.file && lease.region().fileOffsetOf(s.address) == 0,
                        name + ": mapped as " + lease.region() + ", expected at " + s.address + " length " +
                        s.mappedLength);
                    final MemorySegment mem = lease.segment();
                    final DirectBuffer records = AgronaView.readOnly(lease);
                    final int written = Math.toIntExact(s.writePosition); // <= the region's length, an int here
                    int pos = 0;
                    while (pos < written)
                    {
                        final Records.Parsed r = Records.read(records, pos, written);
                        check(r != null, name + ": no whole record with a right checksum at " + pos +
                            " (written up to " + s.writePosition + ")");
                        final String key = new String(r.key(), StandardCharsets.UTF_8);
                        if (r.type() == Records.PUT)
                        {
                            replay.put(key, new Location(s, pos, r.length()));
                        }
                        else
                        {
                            replay.remove(key);
                        }
                        pos += r.length();
                    }
                    check(pos == s.writePosition, name + ": records end at " + pos + ", written up to " +
                        s.writePosition);
                    final long dirty = Records.firstNonZero(mem, s.writePosition, s.mappedLength);
                    check(dirty < 0, name + ": byte " + dirty + " after the last record (" + s.writePosition +
                        ") is not zero");
                }
            }
            for (final Map.Entry<String, Location> e : replay.entrySet())
            {
                check(e.getValue().equals(store.index.get(e.getKey())), "the index has " + store.index.get(e.getKey()) +
                    " for '" + e.getKey() + "', the segments say " + e.getValue());
            }
            check(replay.size() == store.index.size(), "the index has " + store.index.size() + " keys, the segments " +
                replay.size());
        }
        finally
        {
            store.writer.unlock();
        }
        store.space.verify();
    }

    private static void check(final boolean holds, final String what)
    {
        if (!holds)
        {
            throw new IllegalStateException("verify: " + what);
        }
    }
}
