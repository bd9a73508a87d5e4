package io.regionmm.lock;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck over the locking protocol alone (plain Java fields, no syscalls, no native memory): per-region pins,
 * write sections that write-lock and detach regions, batch release, speculation and the slow path.
 *
 * <p>Each region carries two plain fields that a writer changes one after the other, only while it holds the
 * region write-locked. The sequential specification is that every read sees them equal: a reader that holds a pin
 * (or validated a speculation, or holds the mm lock shared) while a writer is between the two stores would
 * return false. Detached regions are replaced by fresh ones, so a reader that pins a region it found before the
 * replacement must be refused.
 */
@Param(name = "region", gen = IntGen.class, conf = "0:1")
public class MmLockLincheckTest
{
    static final class TestRegion extends RegionLock
    {
        final int index; // region i covers the "addresses" [i, i + 1)
        int a;
        int b;

        TestRegion(final long seq, final int index, final int value)
        {
            super(seq);
            this.index = index;
            a = value;
            b = value;
        }

        @Override
        public long start()
        {
            return index;
        }

        @Override
        public long end()
        {
            return index + 1;
        }
    }

    private final MmLock mm = new MmLock();
    private final TestRegion[] map = {new TestRegion(-1, 0, 0), new TestRegion(-1, 1, 0)};
    // Published like the region map: volatile reads and writes of the slot.
    private static final java.lang.invoke.VarHandle SLOT =
        java.lang.invoke.MethodHandles.arrayElementVarHandle(TestRegion[].class);

    private TestRegion lookup(final int i)
    {
        return (TestRegion)SLOT.getAcquire(map, i);
    }

    /**
     * Pins the region and checks its fields; a refused pin is not a failure (a reader then falls back).
     */
    @Operation
    public boolean pinnedRead(@Param(name = "region") final int i)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            final TestRegion r = lookup(i);
            final StartRead result = mm.tryStartRead(r);
            if (result == StartRead.PINNED)
            {
                try
                {
                    return !r.isDetached() && r.a == r.b;
                }
                finally
                {
                    mm.endRead(r);
                }
            }
            if (result == StartRead.WRITE_LOCKED)
            {
                return true;
            }
        }
        return true;
    }

    @Operation
    public boolean speculativeRead(@Param(name = "region") final int i)
    {
        final long s = mm.speculateTryBegin();
        if (s == MmLock.NO_SPECULATION)
        {
            return true;
        }
        final TestRegion r = lookup(i);
        final int a = r.a;
        final int b = r.b;
        return mm.speculateRetry(s) || a == b;
    }

    /** Per-region speculation, which goes on while a writer works on another region. */
    @Operation
    public boolean regionSpeculativeRead(@Param(name = "region") final int i)
    {
        final long s = mm.speculateBegin();
        final TestRegion r = lookup(i);
        if (!mm.speculateRegion(r, s))
        {
            return true;
        }
        final int a = r.a;
        final int b = r.b;
        return mm.speculateRetry(r, s) || a == b;
    }

    /** Range speculation: the region's fields are read, but the validation never looks at the region. */
    @Operation
    public boolean rangeSpeculativeRead(@Param(name = "region") final int i)
    {
        final long s = mm.speculateBegin();
        final TestRegion r = lookup(i);
        final int a = r.a;
        final int b = r.b;
        return mm.speculateRangeRetry(i, i + 1, s) || a == b;
    }

    @Operation
    public boolean lockedRead(@Param(name = "region") final int i)
    {
        mm.readLock();
        try
        {
            final TestRegion r = lookup(i);
            return r.a == r.b;
        }
        finally
        {
            mm.readUnlock();
        }
    }

    /** Changes a region in place: write-lock, two stores. */
    @Operation
    public void update(@Param(name = "region") final int i)
    {
        mm.beginWrite();
        try
        {
            final TestRegion r = lookup(i);
            mm.writeLock(r);
            r.a++;
            r.b++;
        }
        finally
        {
            mm.endWrite();
        }
    }

    /** Replaces a region: a new one is published, the old one detached (as unmap, split and merge do). */
    @Operation
    public void replace(@Param(name = "region") final int i)
    {
        final long s = mm.beginWrite();
        try
        {
            final TestRegion old = lookup(i);
            mm.writeLock(old);
            old.a++; // the old region's memory changes (a tombstone goes over it) while it is locked
            final TestRegion fresh = new TestRegion(s, i, old.b);
            SLOT.setRelease(map, i, fresh);
            mm.detach(old);
            old.b++;
        }
        finally
        {
            mm.endWrite();
        }
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void modelCheckingFindsNoTornRead()
    {
        new ModelCheckingOptions()
            .iterations(Integer.getInteger("regionmm.lincheck.iterations", 20))
            .invocationsPerIteration(Integer.getInteger("regionmm.lincheck.invocations", 300))
            .threads(3)
            .actorsPerThread(2)
            .check(getClass());
    }

    @Test
    @Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void stressOnRealMemoryOrderingFindsNoTornRead()
    {
        new StressOptions()
            .iterations(Integer.getInteger("regionmm.lincheck.iterations", 20))
            .invocationsPerIteration(Integer.getInteger("regionmm.lincheck.invocations", 300))
            .threads(2)
            .actorsPerThread(3)
            .check(getClass());
    }
}
