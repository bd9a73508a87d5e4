package io.regionmm.lucene;

import com.carrotsearch.randomizedtesting.RandomizedContext;
import org.apache.lucene.store.Directory;
import org.apache.lucene.tests.store.BaseDirectoryTestCase;
import org.junit.BeforeClass;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Lucene's own directory test suite ({@link BaseDirectoryTestCase}, JUnit 4 under the randomized runner, run here by
 * the JUnit Platform's vintage engine) with {@link RegionDirectory} as the directory under test. Seeded: CI fixes
 * {@code tests.seed}; {@code -Plucene-random} runs random seeds (the runner prints each).
 */
public class TestRegionDirectory extends BaseDirectoryTestCase
{
    /** The seed, in the log of every run (a failing test prints its reproduce line too). */
    @BeforeClass
    public static void logSeed()
    {
        LoggerFactory.getLogger(TestRegionDirectory.class).info("Lucene's randomized seed: -Dtests.seed={}",
            RandomizedContext.current().getRunnerSeedAsString());
    }

    @Override
    protected Directory getDirectory(final Path path) throws IOException
    {
        return new RegionDirectory(path);
    }
}
