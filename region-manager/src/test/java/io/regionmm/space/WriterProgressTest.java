package io.regionmm.space;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A storm of readers cannot starve a writer: neither readers on the shared mm lock (the lock is fair) nor readers
 * pinning the very region the writer must lock (the writer flag refuses new pins while it waits for old ones).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WriterProgressTest
{
    @TempDir
    Path dir;

    @Test
    void aWriterGetsThroughAStormOfLockedReadersAndOfPinsOnItsOwnRegion() throws Exception
    {
        try (AddressSpace space = AddressSpace.create(Kernel.system(), 64 * PAGE))
        {
            final FileHandle f = space.openFile(StampedFiles.create(dir, 1, 8), FileAccess.READ_WRITE);
            final long a = space.map(f, 0, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED);
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final LongAdder reads = new LongAdder();
            final CountDownLatch storming = new CountDownLatch(4);
            final List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++)
            {
                final boolean locked = t % 2 == 0;
                final Thread th = new Thread(() -> {
                    storming.countDown();
                    try
                    {
                        while (!stop.get())
                        {
                            final long v;
                            if (locked)
                            {
                                v = space.readLocked(a + PAGE, (r, m, o) -> m.get(ValueLayout.JAVA_LONG, o));
                            }
                            else
                            {
                                try (Lease lease = space.lease(a + PAGE))
                                {
                                    v = lease.segment().get(ValueLayout.JAVA_LONG, PAGE);
                                }
                            }
                            if (v != stamp(1, 1))
                            {
                                throw new AssertionError("read " + Long.toHexString(v));
                            }
                            reads.increment();
                        }
                    }
                    catch (final Throwable e)
                    {
                        failure.compareAndSet(null, e);
                    }
                });
                th.start();
                readers.add(th);
            }
            storming.await();
            // Each protect write-locks the region the pinning readers hammer; each section needs the mm lock the
            // locked readers hold shared. All 200 must get through while the storm goes on.
            for (int i = 0; i < 200; i++)
            {
                space.protect(a, 4 * PAGE, i % 2 == 0 ? Protection.READ : Protection.READ_WRITE);
            }
            final long readsDuringWrites = reads.sum();
            stop.set(true);
            for (final Thread th : readers)
            {
                th.join();
            }
            assertNull(failure.get());
            assertTrue(readsDuringWrites > 0, "the readers ran meanwhile");
            assertEquals(Protection.READ_WRITE, space.regions().getFirst().protection());
            space.verify();
        }
    }
}
