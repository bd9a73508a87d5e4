package io.regionmm.examples.logstore;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.region.SyncMode;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Lease;
import io.regionmm.space.MapOptions;
import io.regionmm.space.MappingException;
import io.regionmm.space.RegionArgumentException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * A small log-structured key-value store on regionmm: append-only segment files mapped as regions, an in-memory
 * index of key to (segment, offset). Writers append under one lock and grow the active segment's region in
 * place (or move it) while readers read; readers never take a lock the writer holds: they read speculatively or
 * pin the region, validating what they copied against the segment's file and offset, and retry when a writer
 * holds the region or compaction removed the segment.
 *
 * <p>{@link #commit()} msyncs everything appended so far before it returns. Reopening scans the segments and stops
 * at the first record whose length is zero or whose CRC32C is wrong, so a record torn by a crash never appears, and
 * zeroes what follows (a torn record's body), so no later append can leave part of it where a scan would look.
 */
public final class LogStore implements AutoCloseable
{
    /**
     * @param segmentLimit the largest a segment grows before the store rolls to a new one.
     * @param growStep     how much the active segment's region grows at a time.
     */
    public record Options(long segmentLimit, long growStep)
    {
        /** 64 MiB segments grown 1 MiB at a time. */
        public static final Options DEFAULT = new Options(64L << 20, 1L << 20);
    }

    private record Location(Segment segment, long offset, int length)
    {
    }

    private static final long BUSY = -1;

    private final Path dir;
    private final Options options;
    private final AddressSpace space;
    private final long page;
    private final ConcurrentHashMap<String, Location> index = new ConcurrentHashMap<>();
    private final List<Segment> segments = new CopyOnWriteArrayList<>();
    private final ReentrantLock writer = new ReentrantLock();
    private final LongAdder readRetries = new LongAdder();
    private Segment active;
    private int compactions;

    private LogStore(final Path dir, final Options options) throws IOException
    {
        this.dir = dir;
        this.options = options;
        this.space = AddressSpace.create(Kernel.system(), 16L << 30);
        this.page = space.pageSize();
        if (options.growStep() % page != 0 || options.segmentLimit() % page != 0)
        {
            space.close();
            throw new IllegalArgumentException("open: segmentLimit and growStep must be multiples of " + page);
        }
    }

    /**
     * Opens (or creates) a store in {@code dir}, recovering every complete record of its segments.
     *
     * @param dir     the folder.
     * @param options sizes.
     * @return the store.
     * @throws IOException when the folder or a segment cannot be read or mapped.
     */
    public static LogStore open(final Path dir, final Options options) throws IOException
    {
        Files.createDirectories(dir);
        final LogStore store = new LogStore(dir, options);
        try
        {
            store.recover();
        }
        catch (final IOException | RuntimeException ex)
        {
            store.space.close();
            throw ex;
        }
        return store;
    }

    private void recover() throws IOException
    {
        for (final Path p : segmentFiles())
        {
            final int id = Integer.parseInt(p.getFileName().toString().substring(8, 14));
            final Segment s = mapSegment(id, p);
            long pos = 0;
            final boolean torn;
            try (Lease lease = space.lease(s.address))
            {
                final MemorySegment mem = lease.segment();
                Records.Parsed r;
                while ((r = Records.read(mem, pos, s.mappedLength)) != null)
                {
                    final String key = new String(r.key(), StandardCharsets.UTF_8);
                    if (r.type() == Records.PUT)
                    {
                        index.put(key, new Location(s, pos, r.length()));
                    }
                    else
                    {
                        index.remove(key);
                    }
                    pos += r.length();
                }
                // A crash mid-append leaves a torn record after the last whole one: body and checksum written, length
                // still zero. The next append writes over it, perhaps shorter, and counts on a zero length after
                // itself; the torn body's rest would be there instead, and whatever record-like bytes a value held
                // would come back as records at the next recovery. Zero the tail, durably, before anything is written.
                torn = firstNonZero(mem, pos, s.mappedLength) >= 0;
                if (torn)
                {
                    lease.writableSegment().asSlice(pos, s.mappedLength - pos).fill((byte)0);
                }
            }
            if (torn)
            {
                space.sync(s.address + pos / page * page, s.mappedLength - pos / page * page, SyncMode.SYNC);
            }
            s.writePosition = pos;
            s.syncedPosition = pos;
            segments.add(s);
            active = s;
        }
        if (active == null)
        {
            active = newSegment(1);
        }
    }

    private List<Path> segmentFiles() throws IOException
    {
        try (Stream<Path> list = Files.list(dir))
        {
            return list.filter(p -> p.getFileName().toString().matches("segment-\\d{6}\\.log")).sorted().toList();
        }
    }

    private Segment mapSegment(final int id, final Path path) throws MappingException
    {
        final FileHandle f = space.openFile(path, FileAccess.READ_WRITE);
        final long size = space.fileSize(f);
        final long length = Math.max(options.growStep(), (size + page - 1) / page * page);
        final long address = space.map(f, 0, length, Protection.READ_WRITE, Sharing.SHARED,
            MapOptions.DEFAULT.growingFile());
        return new Segment(id, path, f, address, length);
    }

    private Segment newSegment(final int id) throws MappingException
    {
        final Segment s = mapSegment(id, dir.resolve(Segment.fileName(id)));
        segments.add(s);
        return s;
    }

    /**
     * Stores a value. Visible to readers when this returns; durable after the next {@link #commit()}.
     *
     * @param key   the key.
     * @param value the value.
     * @throws IOException when the segment cannot grow (e.g. the disk is full).
     */
    public void put(final String key, final byte[] value) throws IOException
    {
        writer.lock();
        try
        {
            append(Records.PUT, key, value);
        }
        finally
        {
            writer.unlock();
        }
    }

    /**
     * Deletes a key (a delete record, so the deletion survives reopening once committed).
     *
     * @param key the key.
     * @throws IOException when the segment cannot grow.
     */
    public void delete(final String key) throws IOException
    {
        writer.lock();
        try
        {
            append(Records.DELETE, key, new byte[0]);
        }
        finally
        {
            writer.unlock();
        }
    }

    private Location append(final byte type, final String key, final byte[] value) throws IOException
    {
        final byte[] k = key.getBytes(StandardCharsets.UTF_8);
        final int size = Records.size(k.length, value.length);
        if (size + Records.HEADER > options.segmentLimit())
        {
            throw new IllegalArgumentException("put: record of " + size + " bytes does not fit a segment of " +
                options.segmentLimit());
        }
        ensureRoom(size + Records.HEADER); // room for the record and the zero length after it
        final Segment s = active;
        final long pos = s.writePosition;
        try (Lease lease = space.lease(s.address + pos))
        {
            final long base = lease.region().start();
            Records.write(lease.writableSegment(), s.address + pos - base, type, k, value);
        }
        s.writePosition = pos + size;
        final Location loc = new Location(s, pos, size);
        if (type == Records.PUT)
        {
            index.put(key, loc);
        }
        else
        {
            index.remove(key);
        }
        return loc;
    }

    private void ensureRoom(final int bytes) throws IOException
    {
        final Segment s = active;
        if (s.writePosition + bytes <= s.mappedLength)
        {
            return;
        }
        final long wanted = (Math.max(s.mappedLength + options.growStep(), s.writePosition + bytes) + page - 1) /
            page * page;
        if (wanted > options.segmentLimit())
        {
            syncSegment(s);
            active = newSegment(s.id + 1);
            Hooks.reach(Hooks.Point.ROLLOVER);
            return;
        }
        Hooks.reach(Hooks.Point.GROW_BEFORE);
        // Grows the file (fallocate) and the region; readers keep reading, and find the new address.
        s.address = space.remap(s.address, wanted, true);
        s.mappedLength = wanted;
        Hooks.reach(Hooks.Point.GROW_AFTER);
    }

    /**
     * Makes everything appended so far durable (msync) before returning.
     *
     * @throws IOException when msync fails.
     */
    public void commit() throws IOException
    {
        writer.lock();
        try
        {
            for (final Segment s : segments)
            {
                syncSegment(s);
            }
        }
        finally
        {
            writer.unlock();
        }
    }

    private void syncSegment(final Segment s) throws MappingException
    {
        if (s.syncedPosition == s.writePosition)
        {
            return;
        }
        final long from = s.syncedPosition / page * page;
        final long to = Math.min(s.mappedLength, (s.writePosition + Records.HEADER + page - 1) / page * page);
        space.sync(s.address + from, to - from, SyncMode.SYNC);
        s.syncedPosition = s.writePosition;
    }

    /**
     * Reads a value without taking any lock a writer holds: a speculative or pinned copy of the record, checked
     * against the segment file and offset the index named, retried when a writer holds the region or the segment
     * was compacted away.
     *
     * @param key the key.
     * @return the value, or null when absent.
     */
    public byte[] get(final String key)
    {
        for (int attempt = 0; ; attempt++)
        {
            final Location loc = index.get(key);
            if (loc == null)
            {
                return null;
            }
            final byte[] copy = new byte[loc.length()];
            final long address = loc.segment().address + loc.offset();
            final long got;
            try
            {
                got = space.readNoWait(address, (region, memory, offset) -> {
                    if (region.file() != loc.segment().file || region.fileOffsetOf(address) != loc.offset() ||
                        offset + loc.length() > region.length())
                    {
                        return 0; // something else is mapped there now
                    }
                    MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, offset, copy, 0, loc.length());
                    return 1;
                }, BUSY);
            }
            catch (final RegionArgumentException unmapped)
            {
                readRetries.increment(); // the segment went (compaction): the index has moved on
                continue;
            }
            if (got == 1)
            {
                final Records.Parsed r = Records.read(MemorySegment.ofArray(copy), 0, copy.length);
                if (r == null || !Arrays.equals(r.key(), key.getBytes(StandardCharsets.UTF_8)))
                {
                    throw new IllegalStateException("get: the record of '" + key + "' at segment " +
                        loc.segment().id + " offset " + loc.offset() + " is corrupt");
                }
                return r.value();
            }
            readRetries.increment();
            if (attempt > 1000)
            {
                Thread.yield(); // a writer holds the region (a grow or a move): let it finish
            }
            else
            {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * Copies the live records of every sealed segment into the active one, then unmaps and deletes the sealed
     * segments, while readers go on (they retry when their segment disappears under them).
     *
     * @return the number of segments removed.
     * @throws IOException when copying or syncing fails.
     */
    public int compact() throws IOException
    {
        writer.lock();
        try
        {
            final List<Segment> sealed = new ArrayList<>(segments);
            sealed.remove(active);
            if (sealed.isEmpty())
            {
                return 0;
            }
            for (final Segment s : sealed)
            {
                for (final Map.Entry<String, Location> e : index.entrySet())
                {
                    final Location old = e.getValue();
                    if (old.segment() != s)
                    {
                        continue;
                    }
                    final byte[] value;
                    try (Lease lease = space.lease(s.address + old.offset()))
                    {
                        final Records.Parsed r = Records.read(lease.segment(),
                            s.address + old.offset() - lease.region().start(), lease.region().length());
                        value = r.value();
                    }
                    append(Records.PUT, e.getKey(), value); // points the index at the copy
                    Hooks.reach(Hooks.Point.COMPACT_COPIED);
                }
            }
            for (final Segment s : segments)
            {
                syncSegment(s); // the copies are durable before the originals go
            }
            Hooks.reach(Hooks.Point.COMPACT_SYNCED);
            for (final Segment s : sealed)
            {
                space.unmap(s.address, s.mappedLength);
                space.releaseFile(s.file);
                segments.remove(s);
                Files.deleteIfExists(s.path);
                Hooks.reach(Hooks.Point.COMPACT_DELETED);
            }
            compactions++;
            return sealed.size();
        }
        finally
        {
            writer.unlock();
        }
    }

    /**
     * Checks the store's invariants (for tests, e.g. after a crash and reopening): the segment files in the folder
     * are exactly the store's segments, in order, the last one active; every segment's region is its file from
     * offset 0 and as long as the store thinks; its records up to the write position all parse with a right
     * checksum and end exactly there; every byte after the write position is zero (the next append relies on a
     * zero length following it, so a scan stops there); the index is exactly what replaying every segment in order
     * gives; and the address space agrees with the kernel ({@link AddressSpace#verify()}).
     *
     * @throws IOException           when the folder cannot be listed.
     * @throws IllegalStateException naming the first invariant that does not hold.
     */
    public void verify() throws IOException
    {
        writer.lock();
        try
        {
            final List<Path> files = segmentFiles();
            final List<Path> mapped = segments.stream().map(s -> s.path).toList();
            check(files.equals(mapped), "the folder holds " + files + ", the store maps " + mapped);
            check(!segments.isEmpty() && segments.getLast() == active, "the active segment is not the last one");
            final Map<String, Location> replay = new HashMap<>();
            int previous = 0;
            for (final Segment s : segments)
            {
                final String name = "segment " + s.id;
                check(s.id > previous, name + " follows segment " + previous);
                previous = s.id;
                check(s.syncedPosition <= s.writePosition && s.writePosition + Records.HEADER <= s.mappedLength,
                    name + ": synced " + s.syncedPosition + ", written " + s.writePosition + ", mapped " +
                    s.mappedLength);
                check(space.fileSize(s.file) >= s.mappedLength, name + ": the file is shorter than its region");
                try (Lease lease = space.lease(s.address))
                {
                    check(lease.region().start() == s.address && lease.region().length() == s.mappedLength &&
                        lease.region().file() == s.file && lease.region().fileOffsetOf(s.address) == 0,
                        name + ": mapped as " + lease.region() + ", expected at " + s.address + " length " +
                        s.mappedLength);
                    final MemorySegment mem = lease.segment();
                    long pos = 0;
                    while (pos < s.writePosition)
                    {
                        final Records.Parsed r = Records.read(mem, pos, s.writePosition);
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
                    final long dirty = firstNonZero(mem, s.writePosition, s.mappedLength);
                    check(dirty < 0, name + ": byte " + dirty + " after the last record (" + s.writePosition +
                        ") is not zero");
                }
            }
            for (final Map.Entry<String, Location> e : replay.entrySet())
            {
                check(e.getValue().equals(index.get(e.getKey())), "the index has " + index.get(e.getKey()) +
                    " for '" + e.getKey() + "', the segments say " + e.getValue());
            }
            check(replay.size() == index.size(), "the index has " + index.size() + " keys, the segments " +
                replay.size());
        }
        finally
        {
            writer.unlock();
        }
        space.verify();
    }

    private static void check(final boolean holds, final String what)
    {
        if (!holds)
        {
            throw new IllegalStateException("verify: " + what);
        }
    }

    /** @return the offset of the first non-zero byte in [from, to) of {@code mem}, or -1. */
    private static long firstNonZero(final MemorySegment mem, final long from, final long to)
    {
        for (long p = from; p < to; p++)
        {
            if (p % Long.BYTES == 0 && p + Long.BYTES <= to)
            {
                if (mem.get(ValueLayout.JAVA_LONG_UNALIGNED, p) == 0)
                {
                    p += Long.BYTES - 1;
                    continue;
                }
            }
            if (mem.get(ValueLayout.JAVA_BYTE, p) != 0)
            {
                return p;
            }
        }
        return -1;
    }

    /** @return the number of keys. */
    public int size()
    {
        return index.size();
    }

    /** @return the number of segment files. */
    public int segmentCount()
    {
        return segments.size();
    }

    /** @return how many compactions ran. */
    public int compactions()
    {
        return compactions;
    }

    /** @return reads that had to retry (a writer held the region, or compaction moved the record). */
    public long readRetries()
    {
        return readRetries.sum();
    }

    /** @return the address space, for its read counters. */
    public AddressSpace space()
    {
        return space;
    }

    /**
     * Commits and closes.
     */
    @Override
    public void close()
    {
        try
        {
            commit();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        finally
        {
            space.close();
        }
    }
}
