package io.regionmm.map;

import io.regionmm.lock.RegionLock;
import io.regionmm.region.Advice;
import io.regionmm.region.FileHandle;
import io.regionmm.region.MergeConflict;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;
import io.regionmm.region.Sharing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure map edit against plain lists: splices and merges give the same regions as the same changes made to an
 * ArrayList, the edit reports exactly the regions that enter and leave (by identity, as the section locks them),
 * merges follow the kernel's vma_merge rules, freeze ends the editing, and the base version never changes.
 */
class MapEditTest
{
    private static final long BASE = 1L << 40;
    private static final long PAGE = 4096;
    private static final long WINDOW_PAGES = 64;
    // Odd, as a write section's sequence; base regions carry another so the merged region's origin shows.
    private static final long SEQ = 7;
    private static final long BASE_SEQ = 1;
    private static final FileHandle F1 = new FileHandle(1, Path.of("a"), true, 11, 0, 0);
    private static final FileHandle F2 = new FileHandle(2, Path.of("b"), true, 12, 0, 0);

    /** A base region on pages [from, to) of F1, file offset = its page, so same-file neighbours continue. */
    private static Region base(final long from, final long to)
    {
        return region(BASE_SEQ, from, to, F1, from * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
    }

    /** The same as {@link #base} for a region the edit's section creates. */
    private static Region fresh(final long from, final long to)
    {
        return region(SEQ, from, to, F1, from * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
    }

    private static Region region(final long seq, final long from, final long to, final FileHandle file,
        final long offset, final Protection p, final Sharing s, final Advice a, final boolean locked)
    {
        return new Region(seq, BASE + from * PAGE, BASE + to * PAGE, file, offset, p, s, a, locked);
    }

    private static RegionMap mapOf(final List<Region> regions)
    {
        return RegionMap.of(BASE, BASE + WINDOW_PAGES * PAGE, regions.toArray(new Region[0]));
    }

    /** Five base regions with two-page gaps: pages [2,4), [6,8), [10,12), [14,16), [18,20). */
    private static List<Region> fiveApart()
    {
        final List<Region> rs = new ArrayList<>();
        for (int k = 0; k < 5; k++)
        {
            rs.add(base(2 + 4L * k, 4 + 4L * k));
        }
        return rs;
    }

    // ---------------------------------------------------------------- splice

    @ParameterizedTest(name = "{0} [{1}, {2})")
    @CsvSource({
        "replace at start, 0, 1", "replace in the middle, 2, 3", "replace two in the middle, 1, 3",
        "replace at end, 4, 5", "replace all, 0, 5",
        "insert at start, 0, 0", "insert in the middle, 2, 2", "insert at end, 5, 5",
        "delete at start, 0, 1", "delete in the middle, 1, 3", "delete at end, 3, 5", "delete all, 0, 5"})
    void spliceGivesTheSameListAsAPlainListAndLeavesTheBaseAlone(final String what, final int from, final int to)
    {
        final List<Region> before = fiveApart();
        final RegionMap baseMap = mapOf(before);
        final List<Region> baseSnapshot = List.copyOf(baseMap.regions());
        // Fresh regions filling the gap the replaced stretch leaves (a page, a hole, a page), none for a delete.
        final long gapStart = from == 0 ? 0 : (before.get(from - 1).end() - BASE) / PAGE;
        final long gapEnd = to == before.size() ? WINDOW_PAGES : (before.get(to).start() - BASE) / PAGE;
        final List<Region> replacement = new ArrayList<>();
        if (!what.startsWith("delete"))
        {
            replacement.add(fresh(gapStart, gapStart + 1));
            if (gapEnd - gapStart >= 3)
            {
                replacement.add(fresh(gapStart + 2, gapEnd));
            }
        }
        final MapEdit edit = new MapEdit(baseMap, SEQ);
        edit.splice(from, to, replacement);

        final List<Region> expected = new ArrayList<>(before);
        expected.subList(from, to).clear();
        expected.addAll(from, replacement);
        assertEquals(expected, workingList(edit), "the working list before build");
        assertSameRegions(before.subList(from, to), edit.removed(), "removed");
        assertSameRegions(replacement, edit.added(), "added");
        edit.freeze();
        final RegionMap built = edit.build();
        assertEquals(expected, built.regions(), "built");
        for (final Region r : expected)
        {
            assertSame(r, built.find(r.start()));
            assertSame(r, built.find(r.end() - 1));
        }
        for (final Region r : before.subList(from, to))
        {
            assertNotSame(r, built.find(r.start()), "a replaced region is not found in the new version");
        }
        // The base version is immutable: same regions, same lookups, whatever the edit did.
        assertEquals(baseSnapshot, baseMap.regions());
        for (final Region r : before)
        {
            assertSame(r, baseMap.find(r.start()));
        }
    }

    @Test
    void severalSplicesAtBothEndsWidenTheEditedStretch()
    {
        final List<Region> before = fiveApart();
        final RegionMap baseMap = mapOf(before);
        final MapEdit edit = new MapEdit(baseMap, SEQ);
        final List<Region> expected = new ArrayList<>(before);
        // Middle first, then one before and one after it: the copied stretch grows both ways.
        final Region mid = fresh(10, 11);
        edit.splice(2, 3, List.of(mid));
        expected.set(2, mid);
        final Region first = fresh(0, 1);
        edit.splice(0, 0, List.of(first));
        expected.add(0, first);
        edit.splice(5, 6, List.of());
        expected.remove(5);
        assertEquals(expected, workingList(edit));
        edit.freeze();
        assertEquals(expected, edit.build().regions());
        assertSameRegions(List.of(before.get(2), before.get(4)), edit.removed(), "removed");
        assertEquals(before, baseMap.regions());
    }

    // ---------------------------------------------------------------- added and removed

    @Test
    void aRegionBornAndMergedAwayInTheSameEditIsNeitherAddedNorRemoved()
    {
        final Region a = base(2, 4);
        final Region b = base(6, 8);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b)), SEQ);
        final Region x = fresh(4, 6); // fills the hole, continuing both in the file: all three merge
        edit.splice(1, 1, List.of(x));
        assertSameRegions(List.of(x), edit.added(), "added before the merge");
        edit.mergeAround(0, 2);
        assertEquals(1, edit.size());
        final Region merged = edit.get(0);
        assertSameRegions(List.of(merged), edit.added(), "only the merged region is added");
        assertSameRegions(List.of(a, b), edit.removed(), "the base regions are removed, x never was published");
        edit.freeze();
        assertEquals(List.of(merged), edit.build().regions());
    }

    @Test
    void aRegionBornAndReplacedInTheSameEditIsNeitherAddedNorRemoved()
    {
        final Region a = base(2, 4);
        final MapEdit edit = new MapEdit(mapOf(List.of(a)), SEQ);
        final Region x = fresh(6, 8);
        edit.splice(1, 1, List.of(x));
        // A copy with the same fields: a different region all the same, so x goes and the copy enters.
        final Region copy = fresh(6, 8);
        edit.splice(1, 2, List.of(copy));
        assertSameRegions(List.of(copy), edit.added(), "added");
        assertTrue(edit.removed().isEmpty(), "nothing of the base left: " + edit.removed());
        edit.freeze();
        assertSameRegions(List.of(a, copy), edit.build().regions(), "built");
    }

    @Test
    void aReplacedBaseRegionIsRemovedEvenWhenItsReplacementLooksTheSame()
    {
        final Region a = base(2, 4);
        final Region b = base(6, 8);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b)), SEQ);
        final Region copyOfA = base(2, 4); // equal fields, not the same region: a reader may still pin a
        assertNotSame(a, copyOfA);
        edit.splice(0, 1, List.of(copyOfA));
        assertSameRegions(List.of(a), edit.removed(), "removed");
        assertSameRegions(List.of(copyOfA), edit.added(), "added");
        edit.freeze();
        assertSameRegions(List.of(copyOfA, b), edit.build().regions(), "built");
    }

    @Test
    void aBaseRegionSplicedBackInPlaceIsNeitherAddedNorRemoved()
    {
        final Region a = base(2, 4);
        final Region b = base(6, 8);
        final Region c = base(10, 12);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b, c)), SEQ);
        final Region x = fresh(8, 9);
        // The stretch [a, b) replaced by a, b and a new region: only b's successor-to-be enters, nothing leaves.
        edit.splice(0, 2, List.of(a, b, x));
        assertSameRegions(List.of(x), edit.added(), "added");
        assertTrue(edit.removed().isEmpty(), "removed: " + edit.removed());
        // Then b goes for good: removed once, a stays out of both.
        edit.splice(1, 2, List.of());
        assertSameRegions(List.of(b), edit.removed(), "removed");
        assertSameRegions(List.of(x), edit.added(), "added");
        edit.freeze();
        assertSameRegions(List.of(a, x, c), edit.build().regions(), "built");
    }

    // ---------------------------------------------------------------- mergeAround

    @Test
    void mergeAroundJoinsACompatibleRunIntoOneRegionWithTheFirstsAttributes()
    {
        // Not the defaults, so a joined region that took them from elsewhere would show.
        final Region a = region(BASE_SEQ, 2, 4, F2, 100 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE,
            Advice.RANDOM, true);
        final Region b = region(BASE_SEQ, 4, 5, F2, 102 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE,
            Advice.RANDOM, true);
        final Region c = region(BASE_SEQ, 5, 8, F2, 103 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE,
            Advice.RANDOM, true);
        final Region d = region(BASE_SEQ, 8, 9, F2, 106 * PAGE, Protection.READ, Sharing.PRIVATE, Advice.RANDOM,
            true);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b, c, d)), SEQ);
        edit.mergeAround(0, 3);
        assertEquals(2, edit.size());
        final Region m = edit.get(0);
        assertNotSame(a, m);
        assertMapping(a.start(), c.end(), a, m);
        assertEquals(SEQ, lockSeq(m), "the merged region belongs to the edit's section");
        assertSame(d, edit.get(1), "protection differs: d stays apart");
        assertSameRegions(List.of(a, b, c), edit.removed(), "removed");
        assertSameRegions(List.of(m), edit.added(), "added");
        edit.freeze();
        assertSameRegions(List.of(m, d), edit.build().regions(), "built");
    }

    @Test
    void joinedTakesTheFirstRegionsAttributesAndTheEditsSequence()
    {
        final Region a = region(BASE_SEQ, 2, 4, F2, 9 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE,
            Advice.SEQUENTIAL, true);
        final MapEdit edit = new MapEdit(mapOf(List.of(a)), SEQ);
        final Region j = edit.joined(a, BASE + 10 * PAGE);
        assertMapping(a.start(), BASE + 10 * PAGE, a, j);
        assertEquals(SEQ, lockSeq(j));
        assertEquals(1, edit.size(), "joined makes a region, it does not splice it in");
        assertTrue(edit.added().isEmpty());
    }

    @ParameterizedTest
    @EnumSource(MergeConflict.class)
    void mergeAroundLeavesNeighboursOneRuleKeepsApart(final MergeConflict rule)
    {
        final Region a = base(2, 4);
        final Region b = switch (rule)
        {
            case NOT_ADJACENT -> base(5, 6);
            case DIFFERENT_FILES -> region(BASE_SEQ, 4, 6, F2, 4 * PAGE, Protection.READ, Sharing.SHARED,
                Advice.NORMAL, false);
            case FILE_OFFSETS_NOT_CONTIGUOUS -> region(BASE_SEQ, 4, 6, F1, 5 * PAGE, Protection.READ,
                Sharing.SHARED, Advice.NORMAL, false);
            case PROTECTION_DIFFERS -> region(BASE_SEQ, 4, 6, F1, 4 * PAGE, Protection.READ_WRITE,
                Sharing.SHARED, Advice.NORMAL, false);
            case SHARING_DIFFERS -> region(BASE_SEQ, 4, 6, F1, 4 * PAGE, Protection.READ, Sharing.PRIVATE,
                Advice.NORMAL, false);
            case ADVICE_DIFFERS -> region(BASE_SEQ, 4, 6, F1, 4 * PAGE, Protection.READ, Sharing.SHARED,
                Advice.RANDOM, false);
            case LOCK_STATE_DIFFERS -> region(BASE_SEQ, 4, 6, F1, 4 * PAGE, Protection.READ, Sharing.SHARED,
                Advice.NORMAL, true);
        };
        // The case breaks exactly this rule (and a compatible c after b shows the merge still happens there).
        assertEquals(Optional.of(rule), a.mergeConflict(b));
        final Region c = region(BASE_SEQ, (b.end() - BASE) / PAGE, (b.end() - BASE) / PAGE + 1, b.file(),
            b.fileOffsetOf(b.end()), b.protection(), b.sharing(), b.advice(), b.locked());
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b, c)), SEQ);
        edit.mergeAround(0, 2);
        assertEquals(2, edit.size());
        assertSame(a, edit.get(0), rule + ": a stays as it was");
        assertMapping(b.start(), c.end(), b, edit.get(1));
        assertSameRegions(List.of(b, c), edit.removed(), "removed");
    }

    @Test
    void mergeAroundMergesOnlyInsideTheGivenIndexesAndClampsThem()
    {
        // Four compatible neighbours: [1, 2] merges b and c only; a and d are outside the range.
        final List<Region> run = List.of(base(2, 3), base(3, 4), base(4, 5), base(5, 6));
        final MapEdit edit = new MapEdit(mapOf(run), SEQ);
        edit.mergeAround(1, 2);
        assertEquals(3, edit.size());
        assertSame(run.get(0), edit.get(0));
        assertMapping(run.get(1).start(), run.get(2).end(), run.get(1), edit.get(1));
        assertSame(run.get(3), edit.get(2));
        // Out-of-range indexes are clamped to the list: then everything merges.
        edit.mergeAround(-3, 99);
        assertEquals(1, edit.size());
        assertMapping(run.get(0).start(), run.get(3).end(), run.get(0), edit.get(0));
        assertSameRegions(run, sortedByStart(edit.removed()), "every base region removed once");
        assertSameRegions(List.of(edit.get(0)), edit.added(), "the intermediate merged region is in neither");
    }

    @Test
    void mprotectOfTheMiddleBackToItsNeighboursAttributesMergesAllThree()
    {
        // As after mprotect: a middle region that differed takes its neighbours' protection; vma_merge joins them.
        final Region a = base(2, 4);
        final Region b = region(BASE_SEQ, 4, 6, F1, 4 * PAGE, Protection.READ_WRITE, Sharing.SHARED, Advice.NORMAL,
            false);
        final Region c = base(6, 8);
        final Region e = base(10, 12);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b, c, e)), SEQ);
        final Region b2 = b.with(SEQ, Protection.READ, Advice.NORMAL, false);
        edit.splice(1, 2, List.of(b2));
        edit.mergeAround(0, 2);
        assertEquals(2, edit.size());
        assertMapping(a.start(), c.end(), a, edit.get(0));
        assertSame(e, edit.get(1), "not adjacent: e stays");
        assertSameRegions(List.of(a, b, c), sortedByStart(edit.removed()), "removed");
        assertSameRegions(List.of(edit.get(0)), edit.added(), "b2 was born and merged away: not added");
    }

    @Test
    void mergeAroundMergesSeparateRunsAndKeepsTheRegionBetween()
    {
        final Region a = base(2, 3);
        final Region b = base(3, 4);
        final Region c = region(BASE_SEQ, 4, 5, F2, 4 * PAGE, Protection.READ, Sharing.SHARED, Advice.NORMAL, false);
        final Region d = base(5, 6);
        final Region e = base(6, 7);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b, c, d, e)), SEQ);
        edit.mergeAround(0, 4);
        assertEquals(3, edit.size());
        assertMapping(a.start(), b.end(), a, edit.get(0));
        assertSame(c, edit.get(1));
        assertMapping(d.start(), e.end(), d, edit.get(2));
        assertSameRegions(List.of(a, b, c, d, e).stream().filter(r -> r != c).toList(), sortedByStart(edit.removed()),
            "removed");
    }

    // ---------------------------------------------------------------- freeze and build

    @Test
    void freezeReturnsTheRemovedRegionsAndEndsTheEditing()
    {
        final List<Region> before = fiveApart();
        final RegionMap baseMap = mapOf(before);
        final MapEdit edit = new MapEdit(baseMap, SEQ);
        final Region x = fresh(6, 7);
        edit.splice(1, 3, List.of(x));
        final List<Region> frozen = edit.freeze();
        assertSameRegions(List.of(before.get(1), before.get(2)), frozen, "freeze");
        assertThrows(UnsupportedOperationException.class, () -> frozen.add(x), "freeze's list is unmodifiable");
        // A splice now would replace a region the section has not locked.
        assertThrows(IllegalStateException.class, () -> edit.splice(0, 1, List.of()));
        assertThrows(IllegalStateException.class, () -> edit.splice(0, 0, List.of(fresh(0, 1))));
        assertSameRegions(List.of(before.get(0), x, before.get(3), before.get(4)), workingList(edit),
            "a refused splice changes nothing");
        assertSameRegions(frozen, edit.removed(), "removed after refused splices");
        assertSameRegions(List.of(x), edit.added(), "added after refused splices");
        assertSameRegions(List.of(before.get(0), x, before.get(3), before.get(4)), edit.build().regions(), "built");
    }

    @Test
    void aMergeAfterFreezeIsRefusedToo()
    {
        final Region a = base(2, 4);
        final Region b = base(4, 6);
        final MapEdit edit = new MapEdit(mapOf(List.of(a, b)), SEQ);
        assertTrue(edit.freeze().isEmpty());
        assertThrows(IllegalStateException.class, () -> edit.mergeAround(0, 1));
        assertSameRegions(List.of(a, b), edit.build().regions(), "unchanged");
    }

    @Test
    void buildBeforeFreezeIsRefused()
    {
        final MapEdit edit = new MapEdit(mapOf(fiveApart()), SEQ);
        assertThrows(IllegalStateException.class, edit::build, "untouched edit");
        edit.splice(0, 1, List.of());
        assertThrows(IllegalStateException.class, edit::build, "after a splice");
    }

    @Test
    void anEditWithoutChangesBuildsTheSameRegions()
    {
        final List<Region> before = fiveApart();
        final MapEdit edit = new MapEdit(mapOf(before), SEQ);
        assertTrue(edit.freeze().isEmpty());
        assertTrue(edit.added().isEmpty());
        assertSameRegions(before, edit.build().regions(), "built");
    }

    // ---------------------------------------------------------------- randomized model

    private static final long MODEL_SEED = 0x5EED_3A9E_0000L;
    private static final int MODEL_RUNS = 200;
    private static final int MODEL_OPS = 20;

    @Test
    void randomSplicesAndMergesAgreeWithAPlainList()
    {
        for (int run = 0; run < MODEL_RUNS; run++)
        {
            final long seed = MODEL_SEED + run;
            try
            {
                modelRun(seed);
            }
            catch (final RuntimeException e)
            {
                // The map's own checks (build, replace) throw without the seed: say which run to replay.
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
    }

    /** One run: a random base, random operations on the edit and on an ArrayList, then the built map checked. */
    private static void modelRun(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final List<Region> baseList = randomRegions(random, BASE_SEQ, 0, WINDOW_PAGES, random.nextInt(30));
        final RegionMap baseMap = mapOf(baseList);
        final MapEdit edit = new MapEdit(baseMap, SEQ);
        final List<Region> ref = new ArrayList<>(baseList);
        // Regions the model made by merging: compared by fields, the edit's merge makes its own objects.
        final Set<Region> modelMerged = identitySet(List.of());
        final StringBuilder log = new StringBuilder();
        for (int op = 0; op < MODEL_OPS; op++)
        {
            final int kind = random.nextInt(10);
            if (kind < 4 || ref.isEmpty())
            {
                // Replace a short stretch (maybe empty: an insertion) with fresh regions in the hole it leaves.
                final int from = random.nextInt(ref.size() + 1);
                final int to = from + random.nextInt(Math.min(3, ref.size() - from) + 1);
                final long hole0 = from == 0 ? 0 : page(ref.get(from - 1).end());
                final long hole1 = to == ref.size() ? WINDOW_PAGES : page(ref.get(to).start());
                final List<Region> replacement = randomRegions(random, SEQ, hole0, hole1, random.nextInt(4));
                log.append(" splice(").append(from).append(',').append(to).append(',').append(replacement.size())
                    .append(')');
                splice(edit, ref, modelMerged, from, to, replacement);
            }
            else if (kind < 6)
            {
                // As mprotect or madvise: one region cut in pieces, some with other attributes (or kept as is).
                final int i = random.nextInt(ref.size());
                if (random.nextInt(5) == 0)
                {
                    log.append(" keep(").append(i).append(')');
                    edit.splice(i, i + 1, List.of(edit.get(i)));
                }
                else
                {
                    final List<Region> replacement = pieces(random, edit.get(i));
                    log.append(" change(").append(i).append(',').append(replacement.size()).append(')');
                    splice(edit, ref, modelMerged, i, i + 1, replacement);
                }
            }
            else if (kind < 7)
            {
                // The edit's own regions spliced back (the model's list stays as it is): nothing enters or leaves.
                final int from = random.nextInt(ref.size() + 1);
                final int to = from + random.nextInt(Math.min(3, ref.size() - from) + 1);
                log.append(" same(").append(from).append(',').append(to).append(')');
                edit.splice(from, to, List.copyOf(workingList(edit).subList(from, to)));
            }
            else
            {
                final int from = random.nextInt(ref.size() + 2) - 1;
                final int to = from + random.nextInt(4);
                log.append(" merge(").append(from).append(',').append(to).append(')');
                edit.mergeAround(from, to);
                modelMerge(ref, modelMerged, from, to);
            }
            final Supplier<String> where = () -> "seed " + seed + ":" + log;
            assertModel(ref, modelMerged, workingList(edit), where);
            for (int q = 0; q < 8; q++)
            {
                final long address = randomAddress(random);
                assertEquals(linearFirstEndingAfter(ref, address), edit.firstEndingAfter(address),
                    () -> where.get() + " edit.firstEndingAfter " + Long.toHexString(address));
            }
        }
        final Supplier<String> where = () -> "seed " + seed + ":" + log;
        final List<Region> frozen = edit.freeze();
        assertSameRegions(edit.removed(), frozen, where.get() + " freeze");
        final RegionMap built = edit.build();
        assertModel(ref, modelMerged, built.regions(), where);
        // Entered and left, by identity: exactly the difference between the two versions.
        final Set<Region> baseSet = identitySet(baseList);
        final Set<Region> builtSet = identitySet(built.regions());
        final Set<Region> left = identitySet(baseList);
        left.removeAll(builtSet);
        final Set<Region> entered = identitySet(built.regions());
        entered.removeAll(baseSet);
        assertEquals(left, identitySet(frozen), () -> where.get() + " removed");
        assertEquals(frozen.size(), left.size(), () -> where.get() + " removed twice");
        assertEquals(entered, identitySet(edit.added()), () -> where.get() + " added");
        assertEquals(edit.added().size(), entered.size(), () -> where.get() + " added twice");
        for (int q = 0; q < 64; q++)
        {
            final long address = randomAddress(random);
            final Region expected = linearFind(built.regions(), address);
            assertSame(expected, built.find(address), () -> where.get() + " find " + Long.toHexString(address));
            assertEquals(linearFirstEndingAfter(ref, address), built.firstEndingAfter(address),
                () -> where.get() + " firstEndingAfter " + Long.toHexString(address));
        }
        for (final Region r : built.regions())
        {
            assertSame(r, built.find(r.start()), where);
            assertSame(r, built.find(r.end() - 1), where);
        }
        assertSameRegions(baseList, baseMap.regions(), where.get() + " base changed");
    }

    private static void splice(final MapEdit edit, final List<Region> ref, final Set<Region> modelMerged,
        final int from, final int to, final List<Region> replacement)
    {
        edit.splice(from, to, replacement);
        ref.subList(from, to).clear();
        ref.addAll(from, replacement);
        modelMerged.removeIf(r -> !containsIdentity(ref, r));
    }

    /** The model's vma_merge: in [from, to] (clamped), each maximal run of mergeable neighbours becomes one. */
    private static void modelMerge(final List<Region> ref, final Set<Region> modelMerged, final int from,
        final int to)
    {
        int last = Math.min(ref.size() - 1, to);
        for (int i = Math.max(0, from); i < last; i++)
        {
            int j = i;
            while (j < last && kernelMerges(ref.get(j), ref.get(j + 1)))
            {
                j++;
            }
            if (j > i)
            {
                final Region a = ref.get(i);
                final Region m = new Region(SEQ, a.start(), ref.get(j).end(), a.file(), a.fileOffset(),
                    a.protection(), a.sharing(), a.advice(), a.locked());
                ref.subList(i, j + 1).clear();
                ref.add(i, m);
                modelMerged.add(m);
                last -= j - i; // the run is one region now; the next one cannot merge with it (the run was maximal)
            }
        }
        modelMerged.removeIf(r -> !containsIdentity(ref, r));
    }

    /** The kernel's rule, written out here rather than asking Region, so the two are checked against each other. */
    private static boolean kernelMerges(final Region a, final Region b)
    {
        return a.end() == b.start() && a.file() == b.file() && a.fileOffset() + a.length() == b.fileOffset() &&
            a.protection() == b.protection() && a.sharing() == b.sharing() && a.advice() == b.advice() &&
            a.locked() == b.locked();
    }

    /** Up to {@code max} regions in pages [from, to): 1-3 pages each, holes of 0-2, attributes from small sets. */
    private static List<Region> randomRegions(final SplittableRandom random, final long seq, final long from,
        final long to, final int max)
    {
        final List<Region> rs = new ArrayList<>();
        long at = from + random.nextInt(2);
        // Mostly defaults and offsets that continue the file, so neighbours often merge; sometimes a rule breaks.
        while (rs.size() < max && at < to)
        {
            final long end = Math.min(to, at + 1 + random.nextInt(3));
            final FileHandle file = random.nextInt(8) == 0 ? F2 : F1;
            final long offset = (at + (random.nextInt(8) == 0 ? 1 : 0)) * PAGE;
            final Protection p = random.nextInt(6) == 0 ? Protection.READ_WRITE : Protection.READ;
            final Sharing s = random.nextInt(10) == 0 ? Sharing.PRIVATE : Sharing.SHARED;
            final Advice a = random.nextInt(10) == 0 ? Advice.RANDOM : Advice.NORMAL;
            rs.add(region(seq, at, end, file, offset, p, s, a, random.nextInt(10) == 0));
            at = end + (random.nextInt(3) == 0 ? 1 + random.nextInt(2) : 0);
        }
        return rs;
    }

    /** The region cut at random pages, each piece keeping or changing its protection and advice. */
    private static List<Region> pieces(final SplittableRandom random, final Region r)
    {
        final List<Region> out = new ArrayList<>();
        long at = r.start();
        while (at < r.end())
        {
            final long end = Math.min(r.end(), at + PAGE * (1 + random.nextInt(2)));
            final Region piece = r.slice(SEQ, at, end);
            out.add(random.nextBoolean() ? piece : piece.with(SEQ,
                random.nextBoolean() ? Protection.READ : Protection.READ_WRITE,
                random.nextBoolean() ? Advice.NORMAL : Advice.SEQUENTIAL, piece.locked()));
            at = end;
        }
        return out;
    }

    private static void assertModel(final List<Region> ref, final Set<Region> modelMerged, final List<Region> actual,
        final Supplier<String> where)
    {
        assertEquals(ref.size(), actual.size(), () -> where.get() + " size: " + ref + " vs " + actual);
        for (int i = 0; i < ref.size(); i++)
        {
            final Region expected = ref.get(i);
            final Region got = actual.get(i);
            final int at = i;
            if (modelMerged.contains(expected))
            {
                assertEquals(describe(expected), describe(got), () -> where.get() + " merged region " + at);
            }
            else
            {
                assertSame(expected, got, () -> where.get() + " region " + at + ": " + ref + " vs " + actual);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long page(final long address)
    {
        return (address - BASE) / PAGE;
    }

    private static long randomAddress(final SplittableRandom random)
    {
        return BASE - PAGE + random.nextLong((WINDOW_PAGES + 2) * PAGE);
    }

    private static Region linearFind(final List<Region> rs, final long address)
    {
        for (final Region r : rs)
        {
            if (r.covers(address))
            {
                return r;
            }
        }
        return null;
    }

    private static int linearFirstEndingAfter(final List<Region> rs, final long address)
    {
        for (int i = 0; i < rs.size(); i++)
        {
            if (rs.get(i).end() > address)
            {
                return i;
            }
        }
        return rs.size();
    }

    private static List<Region> workingList(final MapEdit edit)
    {
        final List<Region> out = new ArrayList<>();
        for (int i = 0; i < edit.size(); i++)
        {
            out.add(edit.get(i));
        }
        return out;
    }

    private static List<Region> sortedByStart(final List<Region> rs)
    {
        final List<Region> out = new ArrayList<>(rs);
        out.sort((x, y) -> Long.compare(x.start(), y.start()));
        return out;
    }

    private static Set<Region> identitySet(final List<Region> rs)
    {
        final Set<Region> set = Collections.newSetFromMap(new IdentityHashMap<>());
        set.addAll(rs);
        return set;
    }

    private static boolean containsIdentity(final List<Region> rs, final Region r)
    {
        for (final Region x : rs)
        {
            if (x == r)
            {
                return true;
            }
        }
        return false;
    }

    /** Same regions, same order, by identity (Region's equals is identity too, but say so). */
    private static void assertSameRegions(final List<Region> expected, final List<Region> actual, final String what)
    {
        assertEquals(expected.size(), actual.size(), () -> what + ": " + expected + " vs " + actual);
        for (int i = 0; i < expected.size(); i++)
        {
            assertSame(expected.get(i), actual.get(i), what + " at " + i + ": " + expected + " vs " + actual);
        }
    }

    /** A region from {@code start} to {@code end} with {@code first}'s file, offset and attributes. */
    private static void assertMapping(final long start, final long end, final Region first, final Region actual)
    {
        assertEquals(describe(new Region(SEQ, start, end, first.file(), first.fileOffset(), first.protection(),
            first.sharing(), first.advice(), first.locked())), describe(actual));
    }

    /** Every field, the file by identity, and the creating section. */
    private static String describe(final Region r)
    {
        return Long.toHexString(r.start()) + "-" + Long.toHexString(r.end()) + " file " +
            System.identityHashCode(r.file()) + "@" + r.fileOffset() + " " + r.protection() + " " + r.sharing() +
            " " + r.advice() + " locked " + r.locked() + " seq " + lockSeq(r);
    }

    /**
     * The sequence the region was created with: the lock word holds it until a writer locks the region, and the
     * map package has no other way to see it (the lock package keeps its words to itself).
     */
    private static long lockSeq(final Region r)
    {
        try
        {
            final Field f = RegionLock.class.getDeclaredField("lockSeq");
            f.setAccessible(true);
            return f.getLong(r);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new AssertionError(e);
        }
    }

    // ---------------------------------------------------------------- the edits of the write operations

    @Test
    void insertMergesWithBothCompatibleNeighbours()
    {
        final List<Region> before = fiveApart();
        final MapEdit edit = new MapEdit(mapOf(before), SEQ);
        edit.insert(fresh(4, 6)); // between [2,4) and [6,8), file offsets continuing both
        assertEquals(List.of("2-8", "10-12", "14-16", "18-20"), spans(workingList(edit)));
        assertSameRegions(before.subList(0, 2), edit.removed(), "removed: the two neighbours");
        assertEquals(1, edit.added().size(), "added: the one joined region, not the inserted one");
    }

    @Test
    void cutKeepsTheOuterPartsAndReportsAGapAsNothingThere()
    {
        final MapEdit edit = new MapEdit(mapOf(List.of(base(2, 10), base(12, 14))), SEQ);
        assertTrue(!edit.cut(BASE + 10 * PAGE, BASE + 12 * PAGE), "only a gap there");
        assertTrue(edit.removed().isEmpty());
        assertTrue(edit.cut(BASE + 4 * PAGE, BASE + 13 * PAGE));
        assertEquals(List.of("2-4", "13-14"), spans(workingList(edit)));
        assertEquals(13 * PAGE, workingList(edit).get(1).fileOffset(), "the tail keeps its file offset");
        assertEquals(2, edit.removed().size());
    }

    @Test
    void resizeShrinksOrGrowsIntoACompatibleNeighbour()
    {
        final MapEdit shrink = new MapEdit(mapOf(List.of(base(2, 10))), SEQ);
        shrink.resize(0, BASE + 5 * PAGE);
        assertEquals(List.of("2-5"), spans(workingList(shrink)));

        final MapEdit grow = new MapEdit(mapOf(List.of(base(2, 4), base(6, 8))), SEQ);
        grow.resize(0, BASE + 6 * PAGE);
        assertEquals(List.of("2-8"), spans(workingList(grow)), "grown up to the next region, then merged");
    }

    @Test
    void moveKeepsFileOffsetAndAttributesAndLeavesAGap()
    {
        final Region r = region(BASE_SEQ, 2, 4, F2, 7 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE,
            Advice.RANDOM, true);
        final MapEdit edit = new MapEdit(mapOf(List.of(r, base(10, 12))), SEQ);
        edit.move(0, BASE + 30 * PAGE, 3 * PAGE);
        final List<Region> after = workingList(edit);
        assertEquals(2, after.size());
        final Region moved = after.get(1);
        assertEquals(BASE + 30 * PAGE, moved.start());
        assertEquals(BASE + 33 * PAGE, moved.end());
        assertEquals(List.of(F2, 7 * PAGE, Protection.READ_WRITE, Sharing.PRIVATE, Advice.RANDOM, true),
            List.of(moved.file(), moved.fileOffset(), moved.protection(), moved.sharing(), moved.advice(),
                moved.locked()));
        assertSameRegions(List.of(r), edit.removed(), "removed");
    }

    @Test
    void changeCutsAtTheRangeEndsAndMergesOnlyChangedPieces()
    {
        final Region whole = base(2, 10);
        final MapEdit edit = new MapEdit(mapOf(List.of(whole)), SEQ);
        edit.change(0, new Region[] {whole.with(SEQ, Protection.READ_WRITE, whole.advice(), whole.locked())},
            BASE + 4 * PAGE, BASE + 6 * PAGE);
        final List<Region> after = workingList(edit);
        assertEquals(List.of("2-4", "4-6", "6-10"), spans(after));
        assertEquals(List.of(Protection.READ, Protection.READ_WRITE, Protection.READ),
            List.of(after.get(0).protection(), after.get(1).protection(), after.get(2).protection()));

        // Changing the middle back makes it compatible with both neighbours again: one region, as vma_merge.
        final MapEdit back = new MapEdit(mapOf(after), SEQ);
        final Region middle = after.get(1);
        back.change(1, new Region[] {middle.with(SEQ, Protection.READ, middle.advice(), middle.locked())},
            middle.start(), middle.end());
        assertEquals(List.of("2-10"), spans(workingList(back)));

        // An unchanged boundary stays: an explicit split next to an unchanged region is not merged away.
        final MapEdit untouched = new MapEdit(mapOf(List.of(base(2, 4), base(4, 6), base(6, 8))), SEQ);
        final Region last = base(6, 8);
        untouched.change(2, new Region[] {null}, last.start(), last.end());
        assertEquals(3, workingList(untouched).size());
    }

    @Test
    void vmaDeltaCountsRegionsAndTheTombstonesBetweenThem()
    {
        // Window of 64 pages; regions [2,4) [6,8) ...: each region and each gap is one mapping.
        final MapEdit insertInGap = new MapEdit(mapOf(List.of(base(2, 4), base(8, 10))), SEQ);
        insertInGap.splice(1, 1, List.of(region(SEQ, 5, 6, F2, 0, Protection.READ, Sharing.SHARED, Advice.NORMAL,
            false)));
        assertEquals(2, insertInGap.vmaDelta(), "a region inside a gap splits its tombstone in two");
        final MapEdit fillGap = new MapEdit(mapOf(List.of(base(2, 4), base(6, 8))), SEQ);
        fillGap.splice(1, 1, List.of(region(SEQ, 4, 6, F2, 0, Protection.READ, Sharing.SHARED, Advice.NORMAL,
            false)));
        assertEquals(0, fillGap.vmaDelta(), "a region filling a gap exactly replaces its tombstone");
        final MapEdit cutMiddle = new MapEdit(mapOf(List.of(base(2, 10))), SEQ);
        cutMiddle.cut(BASE + 4 * PAGE, BASE + 6 * PAGE);
        assertEquals(2, cutMiddle.vmaDelta(), "unmapping the middle of a region: two pieces and a tombstone");
        final MapEdit cutWhole = new MapEdit(mapOf(List.of(base(2, 4), base(6, 8), base(10, 12))), SEQ);
        cutWhole.cut(BASE + 6 * PAGE, BASE + 8 * PAGE);
        assertEquals(-2, cutWhole.vmaDelta(), "unmapping a region between gaps joins three mappings into one");
        final MapEdit first = new MapEdit(mapOf(List.of()), SEQ);
        first.insert(fresh(0, 1));
        assertEquals(1, first.vmaDelta(), "the first region at the window's start: itself, the tombstone shrinks");
    }

    @Test
    void aFarMoveEditsTwoStretchesAndBuildsTheSameMapAsOne()
    {
        // Ten regions two pages apart; the second moves past the last, more than two regions away: the edit keeps
        // its old place apart instead of copying everything between.
        final List<Region> before = new ArrayList<>();
        for (int k = 0; k < 10; k++)
        {
            before.add(base(2 + 4L * k, 4 + 4L * k));
        }
        final Region r = before.get(1);
        final MapEdit edit = new MapEdit(mapOf(before), SEQ);
        edit.move(1, BASE + 50 * PAGE, 3 * PAGE);
        assertThrows(IllegalStateException.class, () -> edit.splice(0, 0, List.of()), "no splice after a far move");
        assertSameRegions(List.of(r), edit.freeze(), "the moved region is locked and removed");
        assertEquals(1, edit.added().size());
        // Old place: a region and its two gaps become one gap (-2); new place: a gap becomes gap, region, gap (+2).
        assertEquals(0, edit.vmaDelta());
        final RegionMap built = edit.build();
        final List<String> expected = new ArrayList<>(spans(before));
        expected.remove(1);
        expected.add("50-53");
        assertEquals(expected, spans(built.regions()));
        assertEquals(6 * PAGE, built.find(BASE + 51 * PAGE).fileOffset(), "the moved region keeps its offset");
        assertEquals(null, built.find(BASE + 6 * PAGE), "its old place is a gap");
    }

    /** The regions' page ranges, "from-to" (Region has identity equality). */
    private static List<String> spans(final List<Region> regions)
    {
        final List<String> out = new ArrayList<>();
        for (final Region r : regions)
        {
            out.add((r.start() - BASE) / PAGE + "-" + (r.end() - BASE) / PAGE);
        }
        return out;
    }
}
