package io.regionmm.lucene;

import io.regionmm.lucene.corpus.ZipfCorpus;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.SerialMergeScheduler;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seeded Zipf corpus indexed the same way into a {@link RegionDirectory} and an {@link MMapDirectory}: term and
 * boolean queries find the same hits with the same scores, before and after a force-merge and reopen.
 */
@Timeout(180)
class SameHitsAsMMapDirectoryTest
{
    private static final long SEED = 0x5EEDL;
    private static final int DOCS = 100_000;
    private static final int QUERIES = 400;

    @TempDir
    Path path;

    @Test
    void sameHitsBeforeAndAfterForceMergeAndReopen() throws IOException
    {
        final ZipfCorpus corpus = ZipfCorpus.standard(SEED);
        try (RegionDirectory region = new RegionDirectory(path.resolve("region"));
            Directory mmap = new MMapDirectory(path.resolve("mmap"));
            IndexWriter rw = writer(region);
            IndexWriter mw = writer(mmap))
        {
            for (int n = 0; n < DOCS; n++)
            {
                rw.addDocument(corpus.document(n));
                mw.addDocument(corpus.document(n));
                if (n % 25_000 == 24_999)
                {
                    rw.commit();
                    mw.commit();
                }
            }
            rw.commit();
            mw.commit();
            DirectoryReader rr = DirectoryReader.open(region);
            DirectoryReader mr = DirectoryReader.open(mmap);
            assertTrue(rr.leaves().size() > 1, "several segments before the merge");
            final int matched = sameHits(corpus, rr, mr);
            assertTrue(matched > QUERIES / 2, "most queries match something: " + matched);
            assertTrue(region.mappedFiles() > 0);

            rw.forceMerge(1);
            mw.forceMerge(1);
            rw.commit();
            mw.commit();
            final DirectoryReader rr2 = DirectoryReader.openIfChanged(rr);
            final DirectoryReader mr2 = DirectoryReader.openIfChanged(mr);
            sameHits(corpus, rr, mr); // the old readers still read their (now deleted) segment files
            rr.close();
            mr.close();
            rr = rr2;
            mr = mr2;
            assertEquals(1, rr.leaves().size());
            assertEquals(DOCS, rr.numDocs());
            sameHits(corpus, rr, mr);
            rr.close();
            mr.close();
            assertEquals(0, region.mappedFiles(), "every input the readers opened is closed and unmapped");
            region.space().verify();
        }
    }

    private static IndexWriter writer(final Directory dir) throws IOException
    {
        final IndexWriterConfig config = new IndexWriterConfig(new StandardAnalyzer());
        config.setMergeScheduler(new SerialMergeScheduler()); // the same segments in both indexes
        config.setRAMBufferSizeMB(8);
        return new IndexWriter(dir, config);
    }

    /** @return how many queries matched at least one document. */
    private static int sameHits(final ZipfCorpus corpus, final DirectoryReader region, final DirectoryReader mmap)
        throws IOException
    {
        final IndexSearcher rs = new IndexSearcher(region);
        final IndexSearcher ms = new IndexSearcher(mmap);
        final Sort sort = new Sort(SortField.FIELD_SCORE, new SortField(ZipfCorpus.NUM, SortField.Type.LONG));
        int matched = 0;
        for (int q = 0; q < QUERIES; q++)
        {
            final Query query = corpus.query(q);
            final TopDocs r = rs.search(query, 20, sort, true);
            final TopDocs m = ms.search(query, 20, sort, true);
            assertEquals(m.totalHits, r.totalHits, query::toString);
            assertEquals(hits(ms, m), hits(rs, r), query::toString);
            assertEquals(ms.count(query), rs.count(query), query::toString);
            matched += r.scoreDocs.length > 0 ? 1 : 0;
        }
        return matched;
    }

    private static List<String> hits(final IndexSearcher searcher, final TopDocs top) throws IOException
    {
        final List<String> hits = new ArrayList<>();
        for (final ScoreDoc d : top.scoreDocs)
        {
            hits.add(searcher.storedFields().document(d.doc).get(ZipfCorpus.ID) + ":" + d.score);
        }
        return hits;
    }
}
