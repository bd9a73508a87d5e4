package io.regionmm.lucene;

import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import io.regionmm.space.AddressSpace;
import io.regionmm.space.MapOptions;
import io.regionmm.space.MappingException;
import io.regionmm.space.SpaceClosedException;
import io.regionmm.space.WriteSection;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.FSLockFactory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.LockFactory;
import org.apache.lucene.store.ReadAdvice;
import org.apache.lucene.util.Constants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * A Lucene {@link FSDirectory} that reads its files as regions of a regionmm {@link AddressSpace}: writes go through
 * {@link FSDirectory}'s usual output; {@link #openInput} maps the file read-only, and the input, its clones and slices
 * read the mapping directly and validate each read (see {@code MappedFile}).
 *
 * <p>Closing the input that {@code openInput} returned unmaps the file without a handshake with other threads (a
 * tombstone replaces the range, the pages go in a batch); reads through its clones and slices then throw
 * {@link org.apache.lucene.store.AlreadyClosedException}, and never return bytes of a file that a later map placed at
 * the same address. Deleting a file does not unmap it (as with {@code MMapDirectory}: an open input keeps reading
 * the deleted file). Closing the directory marks every input closed, then closes its space.
 *
 * <p>One space per directory by default: its window (64 GiB of addresses, no memory) bounds the bytes of the
 * directory's files open at once, its writers (every open and close of an input) contend with no other index, and
 * closing the directory releases all its mappings at once. A space can also be shared by several directories
 * ({@link #RegionDirectory(Path, LockFactory, AddressSpace)}): fewer windows, but one mm lock for all their opens
 * and closes; the caller then closes the space.
 */
public class RegionDirectory extends FSDirectory
{
    private static final Logger LOG = LoggerFactory.getLogger(RegionDirectory.class);
    private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]).asReadOnly();

    private final AddressSpace space;
    private final boolean ownsSpace;
    private final Set<MappedFile> open = ConcurrentHashMap.newKeySet();
    private volatile BiFunction<String, IOContext, Optional<ReadAdvice>> readAdvice = (n, c) -> Optional.empty();

    /**
     * A directory with its own address space of the default window and the default lock factory.
     *
     * @param path the index folder (created if missing).
     * @throws IOException when the folder or the space cannot be made.
     */
    public RegionDirectory(final Path path) throws IOException
    {
        this(path, FSLockFactory.getDefault());
    }

    /**
     * A directory with its own address space of the default window.
     *
     * @param path        the index folder (created if missing).
     * @param lockFactory the lock factory.
     * @throws IOException when the folder or the space cannot be made.
     */
    public RegionDirectory(final Path path, final LockFactory lockFactory) throws IOException
    {
        this(path, lockFactory, AddressSpace.create(), true);
    }

    /**
     * A directory that maps its files into a space shared with others; closing the directory leaves the space open.
     *
     * @param path        the index folder (created if missing).
     * @param lockFactory the lock factory.
     * @param space       the space; the caller closes it after every directory using it.
     * @throws IOException when the folder cannot be made.
     */
    public RegionDirectory(final Path path, final LockFactory lockFactory, final AddressSpace space) throws IOException
    {
        this(path, lockFactory, space, false);
    }

    private RegionDirectory(final Path path, final LockFactory lockFactory, final AddressSpace space,
        final boolean ownsSpace) throws IOException
    {
        super(path, lockFactory);
        this.space = space;
        this.ownsSpace = ownsSpace;
    }

    /** @return the space this directory maps its files into (for tools: show, verify). */
    public AddressSpace space()
    {
        return space;
    }

    /**
     * Sets the read advice per file and context, as {@code MMapDirectory#setReadAdvice}; by default Lucene's
     * {@link Constants#DEFAULT_READADVICE} for every file.
     *
     * @param toReadAdvice the advice for a file name and context, or empty for the default.
     */
    public void setReadAdvice(final BiFunction<String, IOContext, Optional<ReadAdvice>> toReadAdvice)
    {
        this.readAdvice = toReadAdvice;
    }

    @Override
    public IndexInput openInput(final String name, final IOContext context) throws IOException
    {
        ensureOpen();
        ensureCanRead(name);
        final Path path = directory.resolve(name);
        // The advice first: a function that throws then leaves nothing mapped.
        final ReadAdvice advice = readAdvice.apply(name, context).orElse(Constants.DEFAULT_READADVICE);
        final RegionIndexInput in = map(name, path);
        if (advice != ReadAdvice.NORMAL)
        {
            try
            {
                in.advise(toAdvice(advice));
            }
            catch (final IOException | RuntimeException ex)
            {
                in.close();
                throw ex;
            }
        }
        return in;
    }

    private RegionIndexInput map(final String name, final Path path) throws IOException
    {
        try
        {
            return mapOpen(name, path);
        }
        catch (final SpaceClosedException ex)
        {
            // the directory (or the shared space's owner) closed it meanwhile: what Lucene's callers catch
            throw new AlreadyClosedException("this Directory is closed: " + this, ex);
        }
    }

    private RegionIndexInput mapOpen(final String name, final Path path) throws IOException
    {
        final FileHandle handle;
        try
        {
            handle = space.openFile(path, FileAccess.READ_ONLY);
        }
        catch (final MappingException ex)
        {
            if (!Files.exists(path))
            {
                throw (NoSuchFileException) new NoSuchFileException(path.toString()).initCause(ex);
            }
            throw ex;
        }
        final String description = "RegionIndexInput(path=\"" + path + "\")";
        final long size;
        final MappedFile file;
        // One write section maps the file, subscribes to its range (no other writer can come in between) and
        // releases our hold on the descriptor (it closes with the region).
        try (WriteSection w = space.beginWrite())
        {
            try
            {
                size = space.fileSize(handle);
                if (size == 0)
                {
                    file = new MappedFile(space, name, handle, 0, 0, open::remove);
                }
                else
                {
                    final long mapped = (size + space.pageSize() - 1) & -space.pageSize();
                    final long start = w.map(handle, 0, mapped, Protection.READ, Sharing.SHARED, MapOptions.DEFAULT);
                    try
                    {
                        file = new MappedFile(space, name, handle, start, mapped, open::remove);
                    }
                    catch (final RuntimeException ex)
                    {
                        w.unmap(start, mapped);
                        throw ex;
                    }
                }
            }
            finally
            {
                space.releaseFile(handle); // joins this section
            }
        }
        open.add(file);
        if (!isOpen)
        {
            // close() ran while we mapped, and may have gone through the open files before this one was added
            file.unmap();
            throw new AlreadyClosedException("this Directory is closed: " + this);
        }
        if (size == 0)
        {
            return new RegionIndexInput(description, file, 0, 0, EMPTY, false);
        }
        // The segment: the region's read-only view (a slice of the window). Found after the section, when the map
        // is published; if a writer changed the range meanwhile, the subscription has closed the file already.
        final Region region = space.regionAt(file.start());
        if (region == null || region.file() != handle || region.start() != file.start() || region.length() < size)
        {
            file.unmap(); // what is still ours goes
            throw new IOException("openInput: the region of " + name + " was changed by another writer of " + space +
                " before it could be read");
        }
        final RegionIndexInput in = new RegionIndexInput(description, file, 0, size,
            region.view().asSlice(0, size), false);
        try
        {
            file.validate();
        }
        catch (final RuntimeException ex)
        {
            in.close();
            throw ex;
        }
        return in;
    }

    /**
     * @param advice Lucene's advice.
     * @return regionmm's.
     */
    static Advice toAdvice(final ReadAdvice advice)
    {
        return switch (advice)
        {
            case NORMAL -> Advice.NORMAL;
            case RANDOM -> Advice.RANDOM;
            case SEQUENTIAL -> Advice.SEQUENTIAL;
        };
    }

    /** @return how many files are mapped now (inputs opened and not closed). */
    public int mappedFiles()
    {
        return open.size();
    }

    /**
     * Closes the directory: every input still open is marked closed (its reads throw
     * {@link org.apache.lucene.store.AlreadyClosedException}), then the space, when this directory owns it, is closed
     * (unmapping everything at once); in a shared space each mapping is unmapped.
     */
    @Override
    public synchronized void close() throws IOException
    {
        try
        {
            super.close();
        }
        finally
        {
            if (!open.isEmpty())
            {
                LOG.debug("closing {} with {} inputs still open", this, open.size());
            }
            IOException failed = null;
            for (final MappedFile f : open)
            {
                try
                {
                    if (ownsSpace)
                    {
                        f.revoke();
                    }
                    else
                    {
                        f.unmap();
                    }
                }
                catch (final IOException ex)
                {
                    // every file is still unmapped (or revoked); the first failure is thrown, the others kept with it
                    if (failed == null)
                    {
                        failed = ex;
                    }
                    else
                    {
                        failed.addSuppressed(ex);
                    }
                }
            }
            open.clear();
            if (ownsSpace)
            {
                space.close();
            }
            if (failed != null)
            {
                throw failed;
            }
        }
    }
}
