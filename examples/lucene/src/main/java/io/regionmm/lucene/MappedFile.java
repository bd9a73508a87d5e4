package io.regionmm.lucene;

import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Region;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.Invalidation;
import io.regionmm.space.InvalidationCause;
import io.regionmm.space.MappingException;
import io.regionmm.space.RegionArgumentException;
import io.regionmm.space.SpaceClosedException;
import io.regionmm.space.Subscription;
import io.regionmm.space.WriteSection;
import org.apache.lucene.store.AlreadyClosedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * One index file mapped read-only as a region of a {@link RegionDirectory}'s address space, shared by the input that
 * opened it and all its clones and slices; and the one place where a read learns whether the bytes it has just copied
 * came from this mapping. Every validation of the module is here.
 *
 * <h2>How a read validates (the reader side)</h2>
 * An input reads its cached segment directly (no lease, no lookup, no allocation), then calls {@link #validate()}:
 * an acquire fence, then one load of this mapping's {@code closed} flag. If the flag is set, the copied bytes are
 * discarded and the read throws {@link AlreadyClosedException}.
 *
 * <h2>Who sets the flag: a range subscription (regionmm's mmu interval notifier)</h2>
 * The mapping subscribes to its own range in the write section that maps it, so no write of the space can come
 * between the map and the subscription. From then on every writer that would change what a reader of the range sees
 * (unmap, shrink, move, the space's close; whoever the writer is: the master input's close, the directory's close,
 * another user of a shared space, the {@code regions} tool) calls {@link #invalidated} before it changes a byte, and
 * the listener sets the flag. Our own close sets it too, before it unmaps. Invalidations that leave the bytes as they
 * are (protect: read permission is never taken; DONTNEED of a shared file mapping: the pages are read again from the
 * file) do not close the input.
 *
 * <h2>Why that is enough</h2>
 * The flag belongs to this mapping, not to its address, and it is set before the region's memory changes:
 * <pre>
 *   writer:  listener sets closed (volatile) ; unmap (tombstone over the range) ; later maps may reuse the address
 *   reader:  copy bytes from the segment ; acquire fence ; load closed
 * </pre>
 * A reader whose copy saw anything but this file's bytes (the tombstone's zeros, or another file mapped at the same
 * address later) read memory that changed after the flag was set; its fence orders its load of the flag after that
 * copy, so it sees {@code closed == true} and throws. A reader that sees {@code false} copied before any change, i.e.
 * this file's bytes. A stale read never faults: regionmm keeps every range of its window readable (tombstones), and
 * after the space itself closes the window's shared arena makes the access throw {@link IllegalStateException},
 * which inputs turn into {@link AlreadyClosedException} too. One-sided, as a seqlock: a read racing a close may
 * throw although its bytes were good; a read that returns never returns bytes of another mapping.
 *
 * <p>The subscription's own sequence ({@link Subscription#checkRetry}) would give the same answer; the flag is what
 * the listener derives from it for this reader: one load from the object the input already holds instead of two
 * more dependent loads, and blind to the invalidations that change no byte.
 */
final class MappedFile
{
    private static final Logger LOG = LoggerFactory.getLogger(MappedFile.class);
    private static final VarHandle CLOSED;
    private static final VarHandle RELEASED;

    static
    {
        try
        {
            CLOSED = MethodHandles.lookup().findVarHandle(MappedFile.class, "closed", boolean.class);
            RELEASED = MethodHandles.lookup().findVarHandle(MappedFile.class, "released", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final AddressSpace space;
    private final String name;
    /** The handle the region maps: what tells our region from another writer's at the same address. */
    private final FileHandle handle;
    /** The region's start; 0 for an empty file, which maps nothing. */
    private final long start;
    /** The region's length: the file's length rounded up to pages; 0 for an empty file. */
    private final long mappedLength;
    /** Null for an empty file. */
    private final Subscription subscription;
    private final Consumer<MappedFile> onClose;
    // Set by our close (a CAS, before the unmap) or by the listener (before the writer changes a byte); read by
    // validate after an acquire fence.
    private volatile boolean closed;
    // Set once by whoever releases the mapping (our unmap or revoke): closed may have been set by another writer's
    // invalidation first, and what is still ours must go all the same.
    @SuppressWarnings("unused") // through RELEASED
    private volatile boolean released;
    // Set by the listener when a writer other than our own close changed the range: our close then unmaps only the
    // pieces that still map our file (the rest may be someone else's by then). For the log.
    private volatile boolean invalidatedByOthers;
    // Prefetches of this file by every input over it: a hint, so a racy count is fine (a lost update advises less).
    private int prefetches;

    /**
     * The mapping of a region this thread's open write section has just mapped, subscribed to inside that section.
     *
     * @param space        the space.
     * @param name         the file's name in its directory.
     * @param handle       the handle the region maps.
     * @param start        the region's start.
     * @param mappedLength its length.
     * @param onClose      told once the mapping is closed.
     */
    MappedFile(final AddressSpace space, final String name, final FileHandle handle, final long start,
        final long mappedLength, final Consumer<MappedFile> onClose)
    {
        this.space = space;
        this.name = name;
        this.handle = handle;
        this.start = start;
        this.mappedLength = mappedLength;
        this.onClose = onClose;
        this.subscription = mappedLength == 0 ? null : space.subscribe(start, mappedLength, this::invalidated);
    }

    /** @return the region's start (0 for an empty file). */
    long start()
    {
        return start;
    }

    /** @return the file's name in its directory. */
    String name()
    {
        return name;
    }

    /** The listener: a writer is about to change [invalidation.start, invalidation.end); nothing has changed yet. */
    private boolean invalidated(final Subscription sub, final Invalidation invalidation, final long sequence)
    {
        sub.setSequence(sequence);
        final InvalidationCause cause = invalidation.cause();
        // UNMAP, SHRINK, MOVE and CLOSE change the bytes a reader of the range sees; PROTECT (read permission is
        // never taken) and DONTNEED (a shared file mapping reads the same file bytes again) do not.
        final boolean changesBytes = cause == InvalidationCause.UNMAP || cause == InvalidationCause.SHRINK ||
            cause == InvalidationCause.MOVE || cause == InvalidationCause.CLOSE;
        if (changesBytes && CLOSED.compareAndSet(this, false, true)) // before the writer changes a byte
        {
            invalidatedByOthers = cause != InvalidationCause.CLOSE;
        }
        return true; // never blocks: a flag, no lock
    }

    /**
     * Validates every read of this mapping's memory made before this call.
     *
     * @throws AlreadyClosedException when the mapping was closed: the bytes read may belong to another file.
     */
    void validate()
    {
        // acquire: orders the caller's copies from the segment before the load of the flag; pairs with the CAS in
        // close, which comes before the unmap.
        VarHandle.acquireFence();
        if (closed)
        {
            throw alreadyClosed(null);
        }
    }

    /** @return whether this prefetch of the file should advise the kernel: the 1st, 2nd, 4th, 8th, ... */
    boolean countPrefetch()
    {
        final int n = prefetches;
        prefetches = n + 1;
        return (n & (n - 1)) == 0 || n < 0;
    }

    /** @return true once the mapping is closed (no fence: for slow paths and messages). */
    boolean isClosed()
    {
        return closed;
    }

    /**
     * @param cause what the read raised, or null.
     * @return the exception a read of this mapping throws once it is closed.
     */
    AlreadyClosedException alreadyClosed(final Throwable cause)
    {
        return new AlreadyClosedException("Already closed: " + name + " (unmapped from " + space + ")", cause);
    }

    /**
     * Advises the kernel on a range of the file, rounded out to pages; no-op for an empty file.
     *
     * @param offset first byte in the file.
     * @param length bytes.
     * @param advice the advice.
     * @throws AlreadyClosedException when the mapping was closed.
     */
    void advise(final long offset, final long length, final Advice advice) throws MappingException
    {
        if (mappedLength == 0 || length <= 0)
        {
            return;
        }
        final long page = space.pageSize();
        final long from = start + (offset & -page);
        final long to = Math.min(start + mappedLength, (start + offset + length + page - 1) & -page);
        try
        {
            space.advise(from, to - from, advice);
        }
        catch (final RegionArgumentException | SpaceClosedException ex)
        {
            // Only a closed mapping leaves its range unmapped (or its space closed); anything else is a bug.
            if (closed || space.isClosed())
            {
                throw alreadyClosed(ex);
            }
            throw ex;
        }
        // The advice may have reached a region that a later map placed at this address (harmless: advice changes no
        // byte), but the caller must not believe its own file was advised.
        validate();
    }

    /**
     * Closes the mapping and unmaps its region: the master input's close. Idempotent; reads through any clone or slice
     * throw {@link AlreadyClosedException} from then on.
     *
     * @throws MappingException when the kernel refuses the unmap.
     */
    void unmap() throws MappingException
    {
        CLOSED.setVolatile(this, true); // before the region changes (another writer's invalidation may have been first)
        if (!RELEASED.compareAndSet(this, false, true))
        {
            return; // released already
        }
        try
        {
            if (mappedLength > 0 && !space.isClosed())
            {
                unmapWhatIsStillOurs();
            }
        }
        catch (final SpaceClosedException ex)
        {
            LOG.debug("{}: the space closed first, and the region with it", this);
        }
        finally
        {
            closeSubscription();
        }
    }

    /**
     * Unmaps, in one write section, whatever of our range still maps our file: all of it, normally; after another
     * writer of a shared space changed part of the range (a partial unmap, a region mapped there since), only the
     * pieces that are still ours, so a close never unmaps another writer's region and never leaves ours behind.
     */
    private void unmapWhatIsStillOurs() throws MappingException
    {
        final long end = start + mappedLength;
        final long page = space.pageSize();
        try (WriteSection w = space.beginWrite())
        {
            long at = start;
            while (at < end)
            {
                final Region r = space.regionAt(at); // this section's own map: nothing changes it but us
                if (r == null)
                {
                    at += page;
                    continue;
                }
                final long to = Math.min(r.end(), end);
                if (r.file() == handle)
                {
                    w.unmap(at, to - at);
                }
                at = to;
            }
        }
    }

    /**
     * Marks the mapping closed without unmapping it: when a region could not be used after all (the caller unmaps), or
     * for a space that closes next.
     */
    void revoke()
    {
        CLOSED.setVolatile(this, true);
        if (RELEASED.compareAndSet(this, false, true))
        {
            closeSubscription();
        }
    }

    private void closeSubscription()
    {
        try
        {
            if (subscription != null && !space.isClosed())
            {
                subscription.close();
            }
        }
        finally
        {
            if (invalidatedByOthers)
            {
                LOG.debug("{}: another writer of the space changed the region first; only what was still ours went",
                    this);
            }
            onClose.accept(this);
        }
    }

    @Override
    public String toString()
    {
        return "MappedFile(" + name + " at 0x" + Long.toHexString(start) + ", " + mappedLength + " bytes mapped" +
            (closed ? ", closed)" : ")");
    }
}
