package io.regionmm.examples.regions;

import io.regionmm.lucene.RegionDirectory;
import io.regionmm.lucene.corpus.ZipfCorpus;
import io.regionmm.region.Region;
import io.regionmm.space.AddressSpace;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSLockFactory;
import org.apache.lucene.store.NIOFSDirectory;
import org.apache.lucene.util.IOUtils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Lucene index opened in the shell's space: a {@link RegionDirectory} sharing the session's {@link AddressSpace}
 * and a {@link DirectoryReader} on it, so every file the reader keeps open is a region {@code show} lists and
 * {@code verify} checks against the kernel.
 */
final class LuceneIndex implements AutoCloseable
{
    final Path path;
    final RegionDirectory directory;
    final DirectoryReader reader;

    private LuceneIndex(final Path path, final RegionDirectory directory, final DirectoryReader reader)
    {
        this.path = path;
        this.directory = directory;
        this.reader = reader;
    }

    /**
     * Writes a demo index (replacing any index in the folder): {@code docs} documents of a seeded Zipf corpus, one
     * commit, through Lucene's own {@link NIOFSDirectory} (no mapping). Compound files are off, so a reader opens
     * each of a segment's files on its own, one region each.
     *
     * @param path the folder (created if missing).
     * @param docs how many documents.
     * @param seed the corpus' seed.
     * @throws IOException when Lucene cannot write it.
     */
    static void create(final Path path, final long docs, final long seed) throws IOException
    {
        Files.createDirectories(path);
        final IndexWriterConfig config = new IndexWriterConfig(new StandardAnalyzer())
            .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
            .setUseCompoundFile(false);
        config.getMergePolicy().setNoCFSRatio(0.0);
        final ZipfCorpus corpus = ZipfCorpus.standard(seed);
        try (Directory dir = new NIOFSDirectory(path); IndexWriter writer = new IndexWriter(dir, config))
        {
            for (long n = 0; n < docs; n++)
            {
                writer.addDocument(corpus.document(n));
            }
            writer.commit();
        }
    }

    /**
     * Opens the index in {@code path} through a {@link RegionDirectory} in {@code space}, and a reader on it.
     *
     * @param path  the index folder.
     * @param space the session's space (the directory leaves it open when it closes).
     * @return the open index.
     * @throws IOException when the folder holds no index, or a file cannot be mapped.
     */
    static LuceneIndex open(final Path path, final AddressSpace space) throws IOException
    {
        if (!Files.isDirectory(path))
        {
            throw new NoSuchFileException(path.toString(), null, "no such folder");
        }
        final RegionDirectory directory = new RegionDirectory(path, FSLockFactory.getDefault(), space);
        try
        {
            return new LuceneIndex(directory.getDirectory(), directory, DirectoryReader.open(directory));
        }
        catch (final IOException | RuntimeException ex)
        {
            IOUtils.closeWhileHandlingException(directory);
            throw ex;
        }
    }

    /** @return the space's regions that map this index's files, in address order. */
    List<Region> regions(final AddressSpace space)
    {
        final List<Region> out = new ArrayList<>();
        for (final Region r : space.regions())
        {
            if (r.file().path().startsWith(path))
            {
                out.add(r);
            }
        }
        return out;
    }

    /** @return one line: the folder, its documents and segments, and how many of its files are mapped. */
    String summary()
    {
        return String.format("index %s: %d documents in %d segment(s), %d files mapped", path, reader.numDocs(),
            reader.leaves().size(), directory.mappedFiles());
    }

    /** Closes the reader (its inputs unmap their files), then the directory; the space stays open. */
    @Override
    public void close() throws IOException
    {
        IOUtils.close(reader, directory);
    }
}
