package io.regionmm.space;

import io.regionmm.kernel.KernelException;
import io.regionmm.map.MapEdit;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Advice;
import io.regionmm.region.Protection;
import io.regionmm.region.Region;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The write operations that change what a range's regions are (protection, lasting advice, mlock) rather than where
 * they are, and advice that acts on the range's pages once: the kernel's {@code mprotect_fixup},
 * {@code madvise_update_vma} and {@code mlock_fixup}. Each attribute change is one {@link #changeRange}: every region
 * of the range that the change alters is replaced by a changed copy (split at the range's ends, merged with
 * neighbours that become compatible), then one system call per piece, reverted piece by piece if one fails
 * ({@code Rollback.applyToPieces}).
 *
 * <p>One per {@link WriteSection}, whose attribute methods it implements and whose steps it takes in the section's
 * order (checks, invalidation, region locks, system calls, commit: see the section's class comment). The space's
 * one-shot advise ({@link #adviseOneShot}) lets read-ahead bypass write sections altogether.
 */
final class AttributeChange
{
    private final WriteSection section;
    private final Mm mm;
    private final Window window;
    private final Rollback rollback;
    private final long seq;

    AttributeChange(final WriteSection section, final Mm mm, final Rollback rollback, final long seq)
    {
        this.section = section;
        this.mm = mm;
        this.window = mm.window;
        this.rollback = rollback;
        this.seq = seq;
    }

    /**
     * The space's one-shot advise ({@link AddressSpace#advise}): WILLNEED outside a write section under the mm lock
     * shared, every other advice (and WILLNEED inside this thread's open section) through the writer gate.
     */
    static void adviseOneShot(final Mm mm, final WriterGate gate, final long start, final long length,
        final Advice advice) throws MappingException
    {
        if (advice == Advice.WILLNEED && !mm.lock.isWriteLockedByCurrentThread())
        {
            // Read-ahead changes no mapping and no byte: the mm lock shared (as sync), so prefetching readers do
            // not queue behind each other or behind writers as a write section would.
            mm.shared("advise", () -> mm.willNeed(start, length));
            return;
        }
        gate.run("advise", w -> w.advise(start, length, advice));
    }

    /** @see WriteSection#protect */
    void protect(final long start, final long length, final Protection protection) throws MappingException
    {
        final String op = "protect";
        Objects.requireNonNull(protection, "protection");
        section.checkActive(op);
        window.checkRange(op, start, length);
        final RegionMap m = mm.snapshot();
        Window.requireCovered(op, m, start, start + length);
        if (protection == Protection.READ_WRITE)
        {
            rollback.checkMayBecomeWritable(op, m.regionsIn(start, start + length), start + length);
        }
        changeRange(op, start, length, InvalidationCause.PROTECT,
            r -> r.protection() == protection ? null : r.with(seq, protection, r.advice(), r.locked()),
            (r, s, l) -> mm.kernel.mprotect(s, l, protection.prot()),
            (r, s, l) -> mm.kernel.mprotect(s, l, r.protection().prot()));
    }

    /** @see WriteSection#advise */
    void advise(final long start, final long length, final Advice advice) throws MappingException
    {
        final String op = "advise";
        Objects.requireNonNull(advice, "advice");
        section.checkActive(op);
        window.checkRange(op, start, length);
        if (!advice.lasting())
        {
            final RegionMap m = mm.snapshot();
            Window.requireCovered(op, m, start, start + length);
            if (advice == Advice.DONTNEED)
            {
                final List<Region> touched = m.regionsIn(start, start + length);
                for (final Region r : touched)
                {
                    if (r.locked())
                    {
                        // the kernel answers EINVAL: locked pages cannot be dropped
                        throw new RegionArgumentException(op, "DONTNEED on " + r + ", which is locked; " +
                            "unlock it first");
                    }
                }
                // DONTNEED changes memory readers see (a PRIVATE mapping's dirty pages revert to the file's bytes;
                // writes through a lease would be dropped): lock like any other change, so pins block it and
                // speculation across it fails; subscribers first, like every other change.
                section.invalidate(op, start, start + length, InvalidationCause.DONTNEED);
                for (final Region r : touched)
                {
                    section.writeLock(op, r);
                }
            }
            try
            {
                mm.kernel.madvise(start, length, advice.madv());
            }
            catch (final KernelException ex)
            {
                throw mm.failed(op, ex);
            }
            return;
        }
        changeRange(op, start, length, null, // lasting advice changes no byte a reader sees
            r -> r.advice() == advice ? null : r.with(seq, r.protection(), advice, r.locked()),
            (r, s, l) -> mm.kernel.madvise(s, l, advice.madv()),
            (r, s, l) -> mm.kernel.madvise(s, l, r.advice().madv()));
    }

    /** @see WriteSection#lock */
    void lock(final long start, final long length) throws MappingException
    {
        changeRange("lock", start, length, null, // mlock changes no byte a reader sees
            r -> r.locked() ? null : r.with(seq, r.protection(), r.advice(), true),
            (r, s, l) -> mm.kernel.mlock(s, l),
            (r, s, l) -> mm.kernel.munlock(s, l));
    }

    /** @see WriteSection#unlock */
    void unlock(final long start, final long length) throws MappingException
    {
        changeRange("unlock", start, length, null,
            r -> r.locked() ? r.with(seq, r.protection(), r.advice(), false) : null,
            (r, s, l) -> mm.kernel.munlock(s, l),
            (r, s, l) -> mm.kernel.mlock(s, l));
    }

    /**
     * Replaces each region of [start, start + length) that {@code change} alters (null: left as it is) by its changed
     * copy, and makes {@code apply} on each changed piece ({@code revert} undoes it); {@code cause} is null when no
     * byte a reader sees changes (no subscriber is told).
     */
    private void changeRange(final String op, final long start, final long length, final InvalidationCause cause,
        final Function<Region, Region> change, final Rollback.PieceCall apply, final Rollback.PieceCall revert)
        throws MappingException
    {
        section.checkActive(op);
        window.checkRange(op, start, length);
        final long stop = start + length;
        final RegionMap m = mm.snapshot();
        Window.requireCovered(op, m, start, stop);
        final int i0 = m.indexOf(start);
        final List<Region> in = m.regionsIn(start, stop);
        final Region[] changed = new Region[in.size()];
        boolean any = false;
        for (int k = 0; k < changed.length; k++)
        {
            changed[k] = change.apply(in.get(k));
            any |= changed[k] != null;
        }
        if (!any)
        {
            return; // nothing changed, so nothing became mergeable: an explicit split stays
        }
        final MapEdit c = new MapEdit(m, seq);
        c.change(i0, changed, start, stop);
        mm.mapCount.check(op, c.vmaDelta()); // vm.max_map_count: before anything waits or changes
        if (cause != null)
        {
            section.invalidate(op, start, stop, cause);
        }
        section.lockReplaced(op, c); // every changed region (it is replaced) and the neighbours merged with it
        try
        {
            rollback.applyToPieces(in, changed, start, stop, apply, revert, op);
        }
        catch (final KernelException ex)
        {
            throw mm.failed(op, ex);
        }
        section.commit(c);
    }
}
