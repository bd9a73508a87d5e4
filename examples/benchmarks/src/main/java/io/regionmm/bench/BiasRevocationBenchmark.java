package io.regionmm.bench;

import io.regionmm.region.Protection;
import io.regionmm.space.Lease;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * What the reader bias costs writers, at its worst: every write is a protect of a region that was leased just before
 * (so the lease has biased it again) and must therefore revoke the bias and scan the visible-readers table. Run it
 * twice, with the bias and with {@code -jvmArgsPrepend -Dregionmm.readerBias=false}; the difference is the scan and
 * the revocation. {@code leaseOnly} and {@code protectOnly} are the two halves alone, in the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class BiasRevocationBenchmark
{
    private static final int REGIONS = 64;

    Fixture fx;
    long address;
    boolean readOnly = true; // region 0 is mapped READ (Fixture alternates, starting with READ)

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        fx = new Fixture(REGIONS);
        address = fx.base;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        fx.close();
    }

    @Benchmark
    public long leaseThenProtect() throws Exception
    {
        final long v = leaseOnly();
        return v + protectOnly();
    }

    @Benchmark
    public long leaseOnly()
    {
        try (Lease lease = fx.space.lease(address))
        {
            return lease.getLong(0);
        }
    }

    @Benchmark
    public long protectOnly() throws Exception
    {
        readOnly = !readOnly;
        fx.space.protect(address, Fixture.PAGE, readOnly ? Protection.READ : Protection.READ_WRITE);
        return readOnly ? 1 : 0;
    }
}
