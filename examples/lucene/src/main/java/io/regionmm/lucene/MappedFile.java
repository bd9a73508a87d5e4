package io.regionmm.lucene;

import io.regionmm.region.Advice;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MappingException;
import io.regionmm.space.RegionArgumentException;
import io.regionmm.space.SpaceClosedException;
import org.apache.lucene.store.AlreadyClosedException;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * One index file mapped read-only as a region of a {@link RegionDirectory}'s address space, shared by the input that
 * opened it and all its clones and slices; and the one place where a read learns whether the bytes it has just copied
 * came from this mapping. Every validation of the module is here, so the mechanism can change in this file alone.
 *
 * <h2>How a read validates (the reader side)</h2>
 * An input reads its cached segment directly (no lease, no lookup, no allocation), then calls {@link #validate()}:
 * an acquire fence, then one load of this mapping's {@code closed} flag. If the flag is set, the copied bytes are
 * discarded and the read throws {@link AlreadyClosedException}.
 *
 * <h2>Why that is enough</h2>
 * The flag belongs to this mapping, not to its address: it is set once, by {@link #unmap()} (the master input's
 * close) or {@link #revoke()} (the directory's close), always before the region's memory changes, and nothing else in
 * the directory's space unmaps, moves or shrinks this region. The order is
 * <pre>
 *   closer:  closed = true (CAS, a full fence) ; space.unmap (tombstone over the range) ; later maps may reuse it
 *   reader:  copy bytes from the segment ; acquire fence ; load closed
 * </pre>
 * A reader whose copy saw anything but this file's bytes (the tombstone's zeros, or another file mapped at the same
 * address later) read memory that changed after the CAS; its fence orders its later load of the flag after that
 * copy, so it sees {@code closed == true} and throws. A reader that sees {@code false} copied before the unmap, i.e.
 * this file's bytes. A stale read never faults: regionmm keeps every range of its window readable (tombstones), and
 * after the space itself closes the window's shared arena makes the access throw {@link IllegalStateException},
 * which inputs turn into {@link AlreadyClosedException} too. One-sided, as a seqlock: a read racing close may throw
 * although its bytes were good; a read that returns never returns bytes of another mapping.
 *
 * <p>With the range subscriptions of regionmm's issue 14 the listener would set the same flag before any writer of
 * the space changes the range (also writers outside this directory, e.g. the {@code regions} tool); the read side
 * stays this one load.
 */
final class MappedFile
{
    private static final VarHandle CLOSED;

    static
    {
        try
        {
            CLOSED = MethodHandles.lookup().findVarHandle(MappedFile.class, "closed", boolean.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final AddressSpace space;
    private final String name;
    /** The region's start; 0 for an empty file, which maps nothing. */
    private final long start;
    /** The region's length: the file's length rounded up to pages; 0 for an empty file. */
    private final long mappedLength;
    /** The file's bytes, [0, length): a read-only slice of the space's window. */
    private final MemorySegment memory;
    private final Consumer<MappedFile> onClose;
    // Written by the CAS in unmap/revoke only (a full fence before the region changes); read by validate after an
    // acquire fence.
    private volatile boolean closed;

    MappedFile(final AddressSpace space, final String name, final long start, final long mappedLength,
        final MemorySegment memory, final Consumer<MappedFile> onClose)
    {
        this.space = space;
        this.name = name;
        this.start = start;
        this.mappedLength = mappedLength;
        this.memory = memory;
        this.onClose = onClose;
    }

    /** @return the file's bytes, read-only; reads through it must be followed by {@link #validate()}. */
    MemorySegment memory()
    {
        return memory;
    }

    /** @return the file's name in its directory. */
    String name()
    {
        return name;
    }

    /**
     * Validates every read made through {@link #memory()} before this call.
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
        if (!CLOSED.compareAndSet(this, false, true)) // release and more: before the region changes
        {
            return;
        }
        try
        {
            if (mappedLength > 0 && !space.isClosed())
            {
                space.unmap(start, mappedLength);
            }
        }
        catch (final SpaceClosedException ex)
        {
            // The directory closed the space meanwhile: the region is gone with it.
        }
        finally
        {
            onClose.accept(this);
        }
    }

    /**
     * Marks the mapping closed without unmapping it: the directory's close, just before it closes the whole space.
     */
    void revoke()
    {
        CLOSED.compareAndSet(this, false, true);
    }

    @Override
    public String toString()
    {
        return "MappedFile(" + name + " at 0x" + Long.toHexString(start) + ", " + memory.byteSize() + " bytes" +
            (closed ? ", closed)" : ")");
    }
}
