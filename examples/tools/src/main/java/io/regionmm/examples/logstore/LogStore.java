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
import io.regionmm.space.SpaceClosedException;
import io.regionmm.space.Subscription;
import io.regionmm.view.AgronaView;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
     * @param segmentLimit the largest a segment grows before the store rolls to a new one; at most
     *                     {@value Integer#MAX_VALUE} bytes (records are read through an Agrona buffer over the
     *                     segment's region, and its capacity is an int).
     * @param growStep     how much the active segment's region grows at a time.
     */
    public record Options(long segmentLimit, long growStep)
    {
        /** 64 MiB segments grown 1 MiB at a time. */
        public static final Options DEFAULT = new Options(64L << 20, 1L << 20);
    }

    private static final long BUSY = -1;

    final Path dir;
    private final Options options;
    final AddressSpace space;
    private final long page;
    final ConcurrentHashMap<String, Location> index = new ConcurrentHashMap<>();
    final List<Segment> segments = new CopyOnWriteArrayList<>();
    final ReentrantLock writer = new ReentrantLock();
    private final LongAdder readRetries = new LongAdder();
    private final LongAdder cachedGets = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final Compactor compactor = new Compactor(this);
    volatile Segment active;

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
        if (options.segmentLimit() > Integer.MAX_VALUE)
        {
            space.close();
            throw new IllegalArgumentException("open: segmentLimit " + options.segmentLimit() + " is more than " +
                Integer.MAX_VALUE + " bytes (a segment's records are read through one Agrona buffer, whose capacity " +
                "is an int)");
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
            int pos = 0;
            final boolean torn;
            try (Lease lease = space.lease(s.address))
            {
                final MemorySegment mem = lease.segment();
                final DirectBuffer records = AgronaView.readOnly(lease); // refuses a region over 2 GiB
                Records.Parsed r;
                while ((r = Records.read(records, pos, records.capacity())) != null)
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
                torn = Records.firstNonZero(mem, pos, s.mappedLength) >= 0;
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

    List<Path> segmentFiles() throws IOException
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
        final Segment s = new Segment(id, path, f, address, length);
        subscribe(s);
        return s;
    }

    /**
     * Subscribes to the segment's mapped range (again, after it grew or moved: the old subscription covers only
     * the old range). Pointers cached under the old one fail their check from now on, since it is closed.
     */
    private void subscribe(final Segment s)
    {
        final Subscription old = s.subscription;
        s.subscription = space.subscribe(s.address, s.mappedLength, (sub, inv, seq) -> {
            // Before the writer unmaps, moves or shrinks the range: from here on every pointer cached under the
            // old sequence fails its check, so no get uses one once the memory changes.
            s.cacheLock.lock();
            try
            {
                sub.setSequence(seq);
            }
            finally
            {
                s.cacheLock.unlock();
            }
            invalidations.increment();
            return true;
        });
        if (old != null)
        {
            old.close();
        }
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

    Location append(final byte type, final String key, final byte[] value) throws IOException
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
            Records.write(AgronaView.writable(lease, s.address + pos - lease.region().start(), size), 0, type, k,
                value);
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
        subscribe(s); // the grown range (a move invalidated the old one; growing in place did not, but it is small)
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

    void syncSegment(final Segment s) throws MappingException
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
     * Reads a value without taking any lock a writer holds. A key read before keeps a pointer to its record's
     * mapped bytes (validated by its segment's subscription): reading through it costs the index lookup, the copy
     * and one sequence check, no region map lookup and no lease; the check fails once the segment is unmapped,
     * moved or grown, and the read falls back to {@link #getUncached} (which caches again).
     *
     * @param key the key.
     * @return the value, or null when absent.
     */
    public byte[] get(final String key)
    {
        final Location loc = index.get(key);
        if (loc == null)
        {
            return null;
        }
        final Location.Pointer p = loc.pointer;
        if (p != null && !p.subscription().checkRetry(p.sequence())) // stale already: no copy to throw away
        {
            final byte[] value = new byte[p.valueLength()];
            try
            {
                MemorySegment.copy(p.memory(), ValueLayout.JAVA_BYTE, p.valueOffset(), value, 0, value.length);
            }
            catch (final IllegalStateException closed)
            {
                return lookUp(key, true); // the space closed: the slow path says so
            }
            if (!p.subscription().checkRetry(p.sequence())) // fences the copy above before its load
            {
                // No invalidation of the segment had started when the copy ended: the bytes are the value's.
                cachedGets.increment();
                return value;
            }
        }
        return lookUp(key, true);
    }

    /**
     * Reads a value without the pointer cache: a speculative or pinned copy of the record, checked against the
     * segment file and offset the index named, retried when a writer holds the region or the segment was compacted
     * away.
     *
     * @param key the key.
     * @return the value, or null when absent.
     */
    public byte[] getUncached(final String key)
    {
        return lookUp(key, false);
    }

    private byte[] lookUp(final String key, final boolean cache)
    {
        final MemorySegment[] memory = new MemorySegment[1];
        final long[] offsetInRegion = new long[1];
        for (int attempt = 0; ; attempt++)
        {
            final Location loc = index.get(key);
            if (loc == null)
            {
                return null;
            }
            final Segment seg = loc.segment();
            final Subscription sub = seg.subscription;
            final long seq = cache ? beginCaching(sub) : 0; // before the lookup: an invalidation after it is seen
            final byte[] copy = new byte[loc.length()];
            final long address = seg.address + loc.offset();
            final long got;
            try
            {
                got = space.readNoWait(address, (region, mem, offset) -> {
                    if (region.file() != seg.file || region.fileOffsetOf(address) != loc.offset() ||
                        offset + loc.length() > region.length())
                    {
                        return 0; // something else is mapped there now
                    }
                    MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, offset, copy, 0, loc.length());
                    memory[0] = mem;
                    offsetInRegion[0] = offset;
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
                final Records.Parsed r = Records.read(new UnsafeBuffer(copy), 0, copy.length);
                final byte[] value = valueOf(r, key, loc);
                if (seq != 0 && address >= sub.start() && address + loc.length() <= sub.end())
                {
                    seg.cacheLock.lock();
                    try
                    {
                        if (!sub.readRetry(seq))
                        {
                            loc.pointer = new Location.Pointer(memory[0], offsetInRegion[0] + r.valueOffset(),
                                value.length, sub, seq);
                        }
                    }
                    finally
                    {
                        seg.cacheLock.unlock();
                    }
                }
                return value;
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

    /** @return the sequence to cache under, or 0 (do not cache) when the subscription was replaced meanwhile. */
    private static long beginCaching(final Subscription sub)
    {
        try
        {
            return sub.readBegin(); // waits only while this segment is being unmapped, moved or grown
        }
        catch (final SpaceClosedException ex)
        {
            throw ex;
        }
        catch (final IllegalStateException replaced)
        {
            return 0;
        }
    }

    private static byte[] valueOf(final Records.Parsed r, final String key, final Location loc)
    {
        if (r == null || !Arrays.equals(r.key(), key.getBytes(StandardCharsets.UTF_8)))
        {
            throw new IllegalStateException("get: the record of '" + key + "' at segment " + loc.segment().id +
                " offset " + loc.offset() + " is corrupt");
        }
        return r.value();
    }

    /**
     * Copies the live records of every sealed segment into the active one, then unmaps and deletes the sealed
     * segments, while readers and writers go on (see {@link Compactor}).
     *
     * @return the number of segments removed.
     * @throws IOException when copying or syncing fails.
     */
    public int compact() throws IOException
    {
        return compactor.compact();
    }

    /**
     * Checks the store's invariants (for tests, e.g. after a crash and reopening; see {@link StoreCheck}).
     *
     * @throws IOException           when the folder cannot be listed.
     * @throws IllegalStateException naming the first invariant that does not hold.
     */
    public void verify() throws IOException
    {
        StoreCheck.verify(this);
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
        return compactor.compactions();
    }

    /** @return gets served through a cached pointer (no region lookup, no lease). */
    public long cachedGets()
    {
        return cachedGets.sum();
    }

    /**
     * @return invalidations of segment subscriptions (a segment unmapped, moved or grown).
     */
    public long invalidations()
    {
        return invalidations.sum();
    }

    /**
     * @return gets that retried (a writer held the region, or the segment went).
     */
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
