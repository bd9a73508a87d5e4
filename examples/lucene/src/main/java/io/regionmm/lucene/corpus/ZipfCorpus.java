package io.regionmm.lucene.corpus;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded synthetic corpus of short documents whose terms follow a Zipf distribution (rank r drawn with probability
 * proportional to 1 / r^s), and queries over it: the same seed gives the same documents and queries, each document
 * computed on its own from the seed and its number.
 */
public final class ZipfCorpus
{
    /** The text field. */
    public static final String BODY = "body";
    /** The document's number, a stored keyword. */
    public static final String ID = "id";
    /** The document's number, a doc value (for sorting ties the same way in every index). */
    public static final String NUM = "num";

    private final long seed;
    private final double[] cdf;
    private final int minTerms;
    private final int maxTerms;

    /**
     * @param seed       the seed.
     * @param vocabulary how many distinct terms.
     * @param exponent   the Zipf exponent (1.0 is natural text).
     * @param minTerms   fewest terms a document has.
     * @param maxTerms   most terms a document has.
     */
    public ZipfCorpus(final long seed, final int vocabulary, final double exponent, final int minTerms,
        final int maxTerms)
    {
        this.seed = seed;
        this.minTerms = minTerms;
        this.maxTerms = maxTerms;
        cdf = new double[vocabulary];
        double sum = 0;
        for (int r = 0; r < vocabulary; r++)
        {
            sum += 1.0 / Math.pow(r + 1, exponent);
            cdf[r] = sum;
        }
        for (int r = 0; r < vocabulary; r++)
        {
            cdf[r] /= sum;
        }
    }

    /**
     * @param seed the seed.
     * @return a corpus of natural-text shape: 50 000 terms, exponent 1.0, 4 to 16 terms a document.
     */
    public static ZipfCorpus standard(final long seed)
    {
        return new ZipfCorpus(seed, 50_000, 1.0, 4, 16);
    }

    /**
     * @param rank a term's rank, 0 the most frequent.
     * @return the term.
     */
    public static String term(final int rank)
    {
        return "t" + rank;
    }

    private int rank(final SplittableRandom random)
    {
        final int i = Arrays.binarySearch(cdf, random.nextDouble());
        return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
    }

    /**
     * @param n the document's number.
     * @return the document: its number and its body, the same for the same seed and number.
     */
    public Document document(final long n)
    {
        final SplittableRandom random = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
        final int terms = minTerms + random.nextInt(maxTerms - minTerms + 1);
        final StringBuilder body = new StringBuilder(terms * 7);
        for (int t = 0; t < terms; t++)
        {
            body.append(term(rank(random))).append(' ');
        }
        final Document doc = new Document();
        doc.add(new StringField(ID, Long.toString(n), Field.Store.YES));
        doc.add(new NumericDocValuesField(NUM, n));
        doc.add(new TextField(BODY, body.toString(), Field.Store.NO));
        return doc;
    }

    /**
     * A query drawn from the corpus' own distribution: a term query, or a boolean query of two or three terms (all
     * required, or any).
     *
     * @param n the query's number.
     * @return the query, the same for the same seed and number.
     */
    public Query query(final long n)
    {
        final SplittableRandom random = new SplittableRandom(~seed ^ (n * 0xC2B2AE3D27D4EB4FL));
        final int kind = random.nextInt(3);
        if (kind == 0)
        {
            return new TermQuery(new Term(BODY, term(rank(random))));
        }
        final BooleanClause.Occur occur = kind == 1 ? BooleanClause.Occur.MUST : BooleanClause.Occur.SHOULD;
        final BooleanQuery.Builder b = new BooleanQuery.Builder();
        final int clauses = 2 + random.nextInt(2);
        for (int c = 0; c < clauses; c++)
        {
            // required clauses from the frequent head, so that conjunctions match something
            final int rank = occur == BooleanClause.Occur.MUST ? random.nextInt(200) : rank(random);
            b.add(new TermQuery(new Term(BODY, term(rank))), occur);
        }
        return b.build();
    }
}
