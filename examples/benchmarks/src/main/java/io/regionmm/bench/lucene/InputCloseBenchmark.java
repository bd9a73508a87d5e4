package io.regionmm.bench.lucene;

import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
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
import java.util.concurrent.TimeUnit;

/**
 * Opening, reading 8 bytes of and closing an {@code IndexInput} of a 1 MiB file while a searcher thread runs queries
 * on the same directory: {@code RegionDirectory} (unmap: a tombstone, no handshake) against {@code MMapDirectory}
 * (the file is not a segment file, so it gets its own shared arena, whose close hand shakes with every thread).
 * {@code close} times the close alone.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class InputCloseBenchmark
{
    private static final String FILE = "one-mebibyte.bin";

    @Param({"region", "mmap"})
    public String directory;

    private Path path;
    private Directory dir;
    private DirectoryReader reader;
    private Thread searcher;
    private volatile boolean stop;
    private volatile long sink;
    private IndexInput open;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        path = LuceneFixture.copyOfIndex(LuceneSearchBenchmark.DOCS);
        dir = LuceneFixture.open(directory, path);
        LuceneFixture.writeFile(dir, FILE, 1 << 20);
        reader = DirectoryReader.open(dir);
        final IndexSearcher s = new IndexSearcher(reader);
        searcher = new Thread(() ->
        {
            long q = 0;
            long hits = 0;
            try
            {
                while (!stop)
                {
                    hits += s.search(LuceneFixture.CORPUS.query(q++ % 1024), 10).totalHits.value();
                }
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
            sink = hits;
        }, "searcher");
        searcher.setDaemon(true);
        searcher.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        stop = true;
        searcher.join();
        reader.close();
        dir.close();
        LuceneFixture.deleteTree(path);
    }

    /** Opens the input the {@code close} benchmark closes (outside its timing). */
    @Setup(Level.Invocation)
    public void openForClose() throws IOException
    {
        open = dir.openInput(FILE, IOContext.DEFAULT);
        sink += open.readLong();
    }

    @TearDown(Level.Invocation)
    public void closeIfLeft() throws IOException
    {
        open.close(); // idempotent: the close benchmark has closed it already
    }

    /**
     * @return a long read from the file.
     */
    @Benchmark
    public long openReadClose() throws IOException
    {
        try (IndexInput in = dir.openInput(FILE, IOContext.DEFAULT))
        {
            in.seek(512 << 10);
            return in.readLong();
        }
    }

    /** Closes an input opened (and read) by the per-invocation setup. */
    @Benchmark
    public void close() throws IOException
    {
        open.close();
    }
}
