package io.regionmm.space;

import io.regionmm.region.Advice;
import io.regionmm.region.FileAccess;
import io.regionmm.region.FileHandle;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.regionmm.space.StampedFiles.PAGE;
import static io.regionmm.space.StampedFiles.stamp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Trust finding 1: write sections do not nest. A one-shot call made on the thread of an open section joins it (the
 * sequence stays odd, and equal to the section's, until the section closes), a second section on that thread is
 * refused, and a section belongs to its thread. The bug: a nested one-shot unmap opened a second section, which made
 * the sequence even while the first was open, so a speculative read validated the tombstone's zeros.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TrustNestedSectionTest extends TrustFixture
{
    /** The invariant: the sequence is odd exactly while a section is open, and it is this one's. */
    private void assertJoined(final WriteSection w, final String after)
    {
        final long s = space.mm().lock.sequence();
        assertEquals(w.sequence(), s, () -> "after " + after + ": the sequence is not the open section's");
        assertEquals(1, s & 1, () -> "after " + after + ": even sequence while section " + w.sequence() + " is open");
        assertTrue(space.mm().lock.isWriteLocked(), () -> "after " + after + ": the mm lock was released");
        assertTrue(space.mm().lock.isWriteLockedByCurrentThread(),
            () -> "after " + after + ": not held by this thread");
    }

    private void assertNoSection()
    {
        assertEquals(0, space.mm().lock.sequence() & 1, "odd sequence with no section open");
        assertFalse(space.mm().lock.isWriteLocked(), "the mm lock is still held");
    }

    @Test
    void aNestedUnmapKeepsTheSequenceOddSoASpeculativeReadNeverValidatesTheTombstone() throws Exception
    {
        final long x = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long y = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final Lane reader = lane("reader");
        final AtomicReference<Future<Long>> read = new AtomicReference<>();
        // On the writer's thread, inside the nested unmap: x is a tombstone now and the map saying so is not yet
        // published. A reader starts here; it must not return before the section closes (it may not validate a
        // copy of x now), so it either returns (the bug) or queues on the mm lock.
        kernel.afterNextTombstone(() -> {
            final Future<Long> f = reader.submit(() -> space.readLong(x + PAGE));
            read.set(f);
            awaitDoneOrQueued(f, "the reader");
        });
        try (WriteSection w = space.beginWrite())
        {
            w.protect(y, PAGE, Protection.READ_WRITE); // the outer section changes something first
            space.unmap(x, pages(4)); // a one-shot call on the section's thread: joins it
            assertNotNull(read.get(), "the unmap made its tombstone");
            assertFalse(read.get().isDone(), () -> "a read of the unmapped region validated inside the section: " +
                Long.toHexString(read.get().resultNow()));
            assertJoined(w, "the nested unmap");
        }
        assertNoSection();
        try
        {
            final long v = get(read.get(), "the reader");
            fail("read " + Long.toHexString(v) + " at an address the section unmapped (the tombstone's zeros: " +
                (v == 0) + ")");
        }
        catch (final RegionArgumentException expected)
        {
            // after the section: x is unmapped
        }
        assertEquals(stamp(2, 0), space.readLong(y));
        space.verify();
    }

    @Test
    void everyOneShotCallNestedInASectionJoinsItAndReleasesNothingBeforeItCloses() throws Exception
    {
        final long a = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final long b = space.map(f2, 0, pages(4), Protection.READ, Sharing.SHARED);
        final long untouched = space.map(f2, pages(8), pages(2), Protection.READ, Sharing.SHARED,
            MapOptions.DEFAULT.at(space.windowStart() + pages(64)));
        final Path p3 = StampedFiles.create(dir, 3, 4);
        final Lane other = lane("other");
        final Future<Long> lockedRead;
        try (WriteSection w = space.beginWrite())
        {
            assertJoined(w, "beginWrite");
            space.protect(a, PAGE, Protection.READ);
            assertJoined(w, "protect");
            space.advise(a + PAGE, PAGE, Advice.RANDOM);
            assertJoined(w, "advise RANDOM");
            space.advise(a + pages(2), pages(2), Advice.DONTNEED);
            assertJoined(w, "advise DONTNEED");
            space.split(b + pages(2));
            assertJoined(w, "split");
            space.merge(b, pages(4));
            assertJoined(w, "merge");
            space.lock(b, PAGE);
            assertJoined(w, "lock");
            space.unlock(b, PAGE);
            assertJoined(w, "unlock");
            assertEquals(b, space.remap(b, pages(2), false));
            assertJoined(w, "remap");
            final FileHandle f3 = space.openFile(p3, FileAccess.READ_WRITE);
            assertJoined(w, "openFile");
            final long c = space.map(f3, 0, pages(2), Protection.READ, Sharing.SHARED);
            assertJoined(w, "map");
            space.unmap(c, pages(2));
            assertJoined(w, "unmap");
            space.releaseFile(f3);
            assertJoined(w, "releaseFile");
            // A refused nested call leaves the section as it was, open and usable.
            assertThrows(RegionArgumentException.class, () -> space.unmap(a + 1, PAGE));
            assertJoined(w, "a refused unmap");
            assertThrows(RegionArgumentException.class, () -> space.map(f1, 0, PAGE, Protection.READ,
                Sharing.SHARED, MapOptions.DEFAULT.at(a)));
            assertJoined(w, "a refused map");

            // Nothing the nested calls changed is released before the section closes: no speculation, no pin.
            assertEquals(-1L, other.call(() -> space.readNoWait(a + PAGE, LONG, -1L)), "a");
            assertEquals(-1L, other.call(() -> space.readNoWait(b + PAGE, LONG, -1L)), "b");
            assertEquals(stamp(2, 9), other.call(() -> space.readNoWait(untouched + PAGE, LONG, -1L)),
                "a region the section did not touch is read at once");
            lockedRead = other.submit(() -> space.readLong(a + pages(3)));
            awaitDoneOrQueued(lockedRead, "a read of a changed region");
            assertFalse(lockedRead.isDone(), "read a changed region while the section is open");
            assertJoined(w, "the reads");
        }
        assertNoSection();
        assertEquals(stamp(1, 3), get(lockedRead, "the queued read"));
        assertEquals(stamp(1, 1), other.call(() -> space.readNoWait(a + PAGE, LONG, -1L)));
        assertEquals(stamp(2, 1), other.call(() -> space.readNoWait(b + PAGE, LONG, -1L)));
        final List<Region> regions = space.regions();
        assertEquals(Protection.READ, regions.get(0).protection());
        assertEquals(Advice.RANDOM, regions.get(1).advice());
        assertEquals(pages(2), space.mm().snapshot().find(b).length());
        space.verify();
    }

    @Test
    void aSecondSectionOrACloseOnTheSectionsThreadIsRefusedAndChangesNothing() throws Exception
    {
        final long a = space.map(f1, 0, pages(4), Protection.READ, Sharing.SHARED);
        try (WriteSection w = space.beginWrite())
        {
            final IllegalStateException nested = assertThrows(IllegalStateException.class, space::beginWrite);
            assertTrue(nested.getMessage().contains("write section " + w.sequence()), nested::getMessage);
            assertJoined(w, "a refused beginWrite");
            final IllegalStateException timed = assertThrows(IllegalStateException.class,
                () -> space.beginWrite(1, TimeUnit.SECONDS));
            assertTrue(timed.getMessage().contains("write section " + w.sequence()), timed::getMessage);
            assertJoined(w, "a refused tryBeginWrite");
            assertThrows(IllegalStateException.class, space::close);
            assertThrows(IllegalStateException.class, () -> space.close(1, TimeUnit.SECONDS));
            assertFalse(space.isClosed());
            assertJoined(w, "a refused close");
            w.unmap(a, PAGE); // the section still works
            assertJoined(w, "unmap");
        }
        assertNoSection();
        assertEquals(stamp(1, 1), space.readLong(a + PAGE));
        space.verify();
    }

    @Test
    void aSectionUsedOrClosedFromAnotherThreadThrowsWrongThreadAndChangesNothing() throws Exception
    {
        final long a = space.map(f1, 0, pages(4), Protection.READ_WRITE, Sharing.SHARED);
        final List<Region> before = space.regions();
        final Lane other = lane("other");
        try (WriteSection w = space.beginWrite())
        {
            other.call(() -> {
                assertThrows(WrongThreadException.class, () -> w.unmap(a, pages(4)));
                assertThrows(WrongThreadException.class, () -> w.protect(a, PAGE, Protection.READ));
                assertThrows(WrongThreadException.class, () -> w.advise(a, PAGE, Advice.DONTNEED));
                assertThrows(WrongThreadException.class, () -> w.map(f2, 0, PAGE, Protection.READ, Sharing.SHARED,
                    MapOptions.DEFAULT));
                assertThrows(WrongThreadException.class, w::downgrade);
                assertThrows(WrongThreadException.class, w::close);
                return null;
            });
            assertJoined(w, "another thread's calls");
            assertEquals(before, space.mm().snapshot().regions(), "another thread's calls changed the map");
            w.protect(a, PAGE, Protection.READ); // the owner's section still works
            assertJoined(w, "protect");
        }
        assertNoSection();
        assertEquals(Protection.READ, space.regions().getFirst().protection());
        assertEquals(stamp(1, 2), other.call(() -> space.readLong(a + pages(2))));
        space.verify();
    }
}
