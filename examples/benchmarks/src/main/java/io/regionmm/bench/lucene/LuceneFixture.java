package io.regionmm.bench.lucene;

import io.regionmm.lucene.RegionDirectory;
import io.regionmm.lucene.corpus.ZipfCorpus;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.store.NIOFSDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * The index the Lucene benchmarks search: a seeded Zipf corpus, built once per machine into
 * {@code target/lucene-bench/base-<docs>} and copied for each trial, and the directory under test over a copy.
 */
final class LuceneFixture
{
    static final long SEED = 0xB5EEDL;
    static final ZipfCorpus CORPUS = ZipfCorpus.standard(SEED);

    private LuceneFixture()
    {
    }

    /** @return a fresh copy of the base index of {@code docs} documents (built first if missing). */
    static Path copyOfIndex(final int docs) throws IOException
    {
        final Path root = Path.of("target", "lucene-bench").toAbsolutePath();
        final Path base = root.resolve("base-" + docs);
        if (!Files.exists(base.resolve("done")))
        {
            build(base, docs);
        }
        final Path copy = Files.createTempDirectory(root, "trial-");
        try (Stream<Path> files = Files.list(base))
        {
            for (final Path f : (Iterable<Path>) files::iterator)
            {
                if (!f.getFileName().toString().equals("done") && !f.getFileName().toString().equals("write.lock"))
                {
                    Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return copy;
    }

    private static void build(final Path base, final int docs) throws IOException
    {
        Files.createDirectories(base);
        try (Directory dir = new NIOFSDirectory(base);
            IndexWriter w = new IndexWriter(dir, new IndexWriterConfig(new StandardAnalyzer()).setRAMBufferSizeMB(32)))
        {
            for (int n = 0; n < docs; n++)
            {
                w.addDocument(CORPUS.document(n));
            }
            w.commit();
        }
        Files.createFile(base.resolve("done"));
    }

    /**
     * @param kind "region" or "mmap" (Lucene's default: arenas grouped by segment).
     * @param path the index folder.
     * @return the directory under test.
     */
    static Directory open(final String kind, final Path path) throws IOException
    {
        return switch (kind)
        {
            case "region" -> new RegionDirectory(path);
            case "mmap" -> new MMapDirectory(path);
            default -> throw new IllegalArgumentException("unknown directory " + kind);
        };
    }

    static void deleteTree(final Path path) throws IOException
    {
        if (!Files.exists(path))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(path))
        {
            walk.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    /** A file of {@code bytes} bytes named {@code name} in {@code dir}. */
    static void writeFile(final Directory dir, final String name, final int bytes) throws IOException
    {
        try (var out = dir.createOutput(name, IOContext.DEFAULT))
        {
            final byte[] page = new byte[4096];
            for (int i = 0; i < bytes; i += page.length)
            {
                out.writeBytes(page, Math.min(page.length, bytes - i));
            }
        }
    }
}
