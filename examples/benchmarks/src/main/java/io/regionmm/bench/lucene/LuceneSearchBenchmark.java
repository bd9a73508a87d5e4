package io.regionmm.bench.lucene;

import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.store.Directory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Search latency (JMH sample time: mean, p50, p99) of term and boolean queries over a seeded Zipf index,
 * {@code RegionDirectory} against {@code MMapDirectory} (its default arena grouping, by segment):
 * {@code staticIndex} on an index nothing changes; {@code underReopen} while an indexing task adds documents, commits
 * and refreshes a near-real-time searcher every 100 ms, so segment files are opened and closed under the searcher
 * (merges included).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LuceneSearchBenchmark
{
    static final int DOCS = 200_000;
    private static final int QUERIES = 1024;

    /** A copy of the index, in the directory under test, that nothing changes. */
    @State(Scope.Benchmark)
    public static class StaticIndex
    {
        @Param({"region", "mmap"})
        public String directory;

        Path path;
        Directory dir;
        DirectoryReader reader;
        IndexSearcher searcher;
        long query;

        @Setup(Level.Trial)
        public void setUp() throws IOException
        {
            path = LuceneFixture.copyOfIndex(DOCS);
            dir = LuceneFixture.open(directory, path);
            reader = DirectoryReader.open(dir);
            searcher = new IndexSearcher(reader);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException
        {
            reader.close();
            dir.close();
            LuceneFixture.deleteTree(path);
        }
    }

    /** A copy of the index under an indexing task: 500 documents, a commit and an NRT refresh every 100 ms. */
    @State(Scope.Benchmark)
    public static class ReopenedIndex
    {
        @Param({"region", "mmap"})
        public String directory;

        Path path;
        Directory dir;
        IndexWriter writer;
        SearcherManager manager;
        ScheduledExecutorService indexer;
        final AtomicLong nextDoc = new AtomicLong(DOCS);
        final AtomicLong reopens = new AtomicLong();
        long query;

        @Setup(Level.Trial)
        public void setUp() throws IOException
        {
            path = LuceneFixture.copyOfIndex(DOCS);
            dir = LuceneFixture.open(directory, path);
            writer = new IndexWriter(dir, new IndexWriterConfig(new StandardAnalyzer()));
            manager = new SearcherManager(writer, null);
            indexer = Executors.newSingleThreadScheduledExecutor(r ->
            {
                final Thread t = new Thread(r, "indexer");
                t.setDaemon(true);
                return t;
            });
            indexer.scheduleAtFixedRate(this::indexAndReopen, 100, 100, TimeUnit.MILLISECONDS);
        }

        private void indexAndReopen()
        {
            try
            {
                for (int i = 0; i < 500; i++)
                {
                    writer.addDocument(LuceneFixture.CORPUS.document(nextDoc.getAndIncrement()));
                }
                writer.commit();
                manager.maybeRefresh();
                reopens.incrementAndGet();
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception
        {
            indexer.shutdown();
            indexer.awaitTermination(1, TimeUnit.MINUTES);
            System.out.println("\n" + directory + ": " + reopens.get() + " commits + NRT reopens, " +
                (nextDoc.get() - DOCS) + " documents added");
            manager.close();
            writer.close();
            dir.close();
            LuceneFixture.deleteTree(path);
        }
    }

    /**
     * @param index the static index.
     * @return hits of the next query.
     */
    @Benchmark
    public long staticIndex(final StaticIndex index) throws IOException
    {
        return index.searcher.search(LuceneFixture.CORPUS.query(index.query++ % QUERIES), 10).totalHits.value();
    }

    /**
     * @param index the index being changed.
     * @return hits of the next query on the newest near-real-time searcher.
     */
    @Benchmark
    public long underReopen(final ReopenedIndex index) throws IOException
    {
        final IndexSearcher s = index.manager.acquire();
        try
        {
            return s.search(LuceneFixture.CORPUS.query(index.query++ % QUERIES), 10).totalHits.value();
        }
        finally
        {
            index.manager.release(s);
        }
    }
}
