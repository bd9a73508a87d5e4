package io.regionmm.region;

import io.regionmm.space.IncompatibleRegionsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's merge rule, one reason at a time (regions as values, no system calls): each rule alone keeps a pair
 * apart and is the reason reported, the first rule broken wins, and the exception carries the reason and keeps its
 * message.
 */
class MergeConflictTest
{
    private static final long PAGE = 4096;
    private static final long BASE = 1L << 40;
    private static final FileHandle F1 = new FileHandle(1, Path.of("f1"), true, 1, 0, 0);
    private static final FileHandle F2 = new FileHandle(2, Path.of("f2"), true, 2, 0, 0);

    private static Region left()
    {
        return new Region(1, BASE, BASE + 2 * PAGE, F1, 0, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
    }

    /** The region that merges with {@link #left()}, with one attribute changed by the caller. */
    private static Region right(final long start, final FileHandle file, final long fileOffset, final Protection p,
        final Sharing s, final Advice a, final boolean locked)
    {
        return new Region(1, start, start + PAGE, file, fileOffset, p, s, a, locked);
    }

    private static Region right()
    {
        return right(BASE + 2 * PAGE, F1, 2 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
    }

    private static void assertConflict(final MergeConflict expected, final Region next, final String detail)
    {
        final Region l = left();
        assertEquals(Optional.of(expected), l.mergeConflict(next));
        assertFalse(l.canMergeWith(next));
        assertEquals(expected.description() + " (" + detail + ")", expected.explain(l, next));
        final IncompatibleRegionsException ex = new IncompatibleRegionsException(l, next, expected);
        assertEquals(expected, ex.conflict());
        assertTrue(ex.getMessage().contains("cannot merge " + l + " with " + next + ": " +
            expected.description() + " (" + detail + ")"), ex.getMessage());
    }

    @Test
    void neighboursAlikeMerge()
    {
        assertEquals(Optional.empty(), left().mergeConflict(right()));
        assertTrue(left().canMergeWith(right()));
    }

    @Test
    void notAdjacent()
    {
        assertConflict(MergeConflict.NOT_ADJACENT,
            right(BASE + 3 * PAGE, F1, 3 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false),
            "0x10000002000 != 0x10000003000");
    }

    @Test
    void differentFiles()
    {
        assertConflict(MergeConflict.DIFFERENT_FILES,
            right(BASE + 2 * PAGE, F2, 2 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false),
            "f1:f1 vs f2:f2");
    }

    @Test
    void fileOffsetsNotContiguous()
    {
        assertConflict(MergeConflict.FILE_OFFSETS_NOT_CONTIGUOUS,
            right(BASE + 2 * PAGE, F1, 5 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false),
            2 * PAGE + " vs " + 5 * PAGE);
    }

    @Test
    void protectionDiffers()
    {
        assertConflict(MergeConflict.PROTECTION_DIFFERS,
            right(BASE + 2 * PAGE, F1, 2 * PAGE, Protection.READ_WRITE, Sharing.SHARED, Advice.NORMAL, false),
            "READ vs READ_WRITE");
    }

    @Test
    void sharingDiffers()
    {
        assertConflict(MergeConflict.SHARING_DIFFERS,
            right(BASE + 2 * PAGE, F1, 2 * PAGE, Protection.READ, Sharing.PRIVATE, Advice.NORMAL, false),
            "SHARED vs PRIVATE");
    }

    @Test
    void adviceDiffers()
    {
        assertConflict(MergeConflict.ADVICE_DIFFERS,
            right(BASE + 2 * PAGE, F1, 2 * PAGE, Protection.READ, Sharing.SHARED, Advice.RANDOM, false),
            "NORMAL vs RANDOM");
    }

    @Test
    void lockStateDiffers()
    {
        assertConflict(MergeConflict.LOCK_STATE_DIFFERS,
            right(BASE + 2 * PAGE, F1, 2 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, true),
            "false vs true");
    }

    @Test
    void theFirstRuleBrokenIsTheReason()
    {
        // Different file, protection and lock state at once: the file is checked first.
        assertEquals(Optional.of(MergeConflict.DIFFERENT_FILES), left().mergeConflict(
            right(BASE + 2 * PAGE, F2, 0, Protection.READ_WRITE, Sharing.SHARED, Advice.NORMAL, true)));
    }
}
