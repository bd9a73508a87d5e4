package io.regionmm.space;

import io.regionmm.lock.MmLock;
import io.regionmm.lock.StartRead;
import io.regionmm.map.RegionMap;
import io.regionmm.region.Region;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where every read and lease of a space falls back: one ladder of three rungs, climbed from the top, stopping at the
 * first that holds.
 *
 * <ol>
 * <li><b>Speculate</b> (reads only, up to {@value #SPECULATION_ATTEMPTS} times): find the region in the newest map
 *     without a lock, copy or compute, then validate against the mm sequence (and, while a section is open, the
 *     region's lock word or the section's lock log). Nothing shared is written; a failed validation discards the
 *     result. Works while a writer changes other regions.</li>
 * <li><b>Pin</b> (up to {@value #PIN_ATTEMPTS} times): take the region's reference count (the kernel's per-VMA
 *     read lock). A region found detached was replaced by a newer map: look again. A region write-locked by the
 *     open section: climb down at once. A range read whose range this thread's own leases already pin reads under
 *     them instead (range speculation fails on every region the open section has logged, pinned or not): the
 *     writer it would wait for may be waiting for those very pins.</li>
 * <li><b>Lock</b>: the mm lock shared. No writer can be inside a section; only this thread's own section can have
 *     locked a region, which is refused with a message saying so.</li>
 * </ol>
 *
 * <p>Algorithmic notes. The rungs are ordered by what they cost others: speculation writes nothing, a pin writes
 * one cache line of one region (and makes a writer of that region wait), the lock makes every writer wait. The
 * attempt counts bound the work before climbing down, so a reader never spins on a busy region. Counters are
 * {@link LongAdder}s and are bumped only off the fast path: the speculative read itself is not counted.
 * The first rung of {@link AddressSpace#readLong} is written at the front door, not here: it reads through the
 * window's segment and the page index alone, without loading the region object (a cache miss in a large map), and
 * every object between the caller and the map would cost it a dependent load; anything it cannot decide climbs
 * this ladder.
 */
final class ReadLadder
{
    private static final int SPECULATION_ATTEMPTS = 4;
    private static final int PIN_ATTEMPTS = 8;

    private static final RegionFunction LONG_AT = (region, memory, offset) -> {
        if (offset > region.length() - Long.BYTES)
        {
            throw Window.notMapped("readLong", region.start() + offset, Long.BYTES);
        }
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    };

    private final Mm mm;
    private final MmLock lock;
    // Copied from the window: loaded from this object, not through two more.
    private final MemorySegment window;
    private final MemorySegment readOnlyWindow;
    private final long base;

    private final LongAdder speculationRetries = new LongAdder();
    private final LongAdder pinnedReads = new LongAdder();
    private final LongAdder lockedReads = new LongAdder();

    ReadLadder(final Mm mm)
    {
        this.mm = mm;
        this.lock = mm.lock;
        this.window = mm.window.segment;
        this.readOnlyWindow = mm.window.readOnly;
        this.base = mm.window.base;
    }

    ReadCounts counts()
    {
        return new ReadCounts(speculationRetries.sum(), pinnedReads.sum(), lockedReads.sum());
    }

    // ------------------------------------------------------------------ one address

    /**
     * The ladder for {@link AddressSpace#readLong} after its first, speculative attempt (which lives at the front
     * door: each object between the caller and the map costs that read a dependent load).
     *
     * @param retried whether that attempt found the page mapped but failed validation (counted as a retry).
     */
    long readLong(final long address, final boolean retried)
    {
        if (retried)
        {
            speculationRetries.increment();
        }
        return read(address, LONG_AT, true, 0);
    }

    /**
     * @param mayLock whether the last rung may be taken; when not, {@code ifBusy} is returned instead.
     */
    long read(final long address, final RegionFunction f, final boolean mayLock, final long ifBusy)
    {
        for (int attempt = 0; attempt < SPECULATION_ATTEMPTS; attempt++)
        {
            final long s = lock.speculateBegin();
            final Region r = mm.snapshot().find(address);
            if (r == null)
            {
                mm.checkOpen("read"); // a closed space has an empty map: say closed, not "not mapped"
                if ((s & 1) == 0 && !lock.speculateRetry(s))
                {
                    throw Window.notMapped("read", address, 1); // validated: no region there
                }
                break; // a writer is active: a lower rung decides
            }
            if (!lock.speculateRegion(r, s))
            {
                break; // write-locked by the open section
            }
            long v = 0;
            RuntimeException thrown = null;
            try
            {
                v = f.apply(r, r.view(), address - r.start());
            }
            catch (final RuntimeException ex)
            {
                thrown = ex; // may come from inconsistent data: decided by the validation below
            }
            catch (final InternalError ex)
            {
                thrown = accessFailed("read", address, 1, ex); // a fault of a stale mapping: validated below too
            }
            if (!lock.speculateRetry(r, s))
            {
                if (thrown != null)
                {
                    throw thrown;
                }
                return v;
            }
            speculationRetries.increment();
        }
        final Region pinned = pin(address);
        if (pinned != null)
        {
            try
            {
                pinnedReads.increment();
                return apply("read", f, pinned, address);
            }
            finally
            {
                lock.endRead(pinned);
            }
        }
        // No own-pins rung here: a region this thread pins is never write-locked by lockSeq (a writer drains the
        // pin first, and the mm sequence cannot move while it holds the lock), so speculation on it holds.
        return mayLock ? readLocked(address, f) : ifBusy;
    }

    long readLocked(final long address, final RegionFunction f)
    {
        mm.subscribers.refuseInListener("read"); // the shared lock could wait for the section the listener runs in
        lock.readLock();
        try
        {
            final Region r = findLocked("readLocked", address);
            lockedReads.increment();
            return apply("readLocked", f, r, address);
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /**
     * A lease of the region covering the address. Kept small, with every rare path out of line: only compiled under
     * C2's size limit for inlining compiled code (InlineSmallCode, 2 500 bytes) is it inlined into the caller, where a
     * Lease that does not escape is never allocated. With the locked rung and the retry loop in line it compiled to
     * 5 KB; now to 2 800 at 1 000 regions (still allocating there) and under the limit at 10 (RESULTS.md,
     * "Reader-biased leases").
     */
    Lease lease(final long address)
    {
        mm.subscribers.refuseInListener("lease"); // a pin would hold up the section the listener runs in
        final Region pinned = pin(address);
        // Regions are immutable and never recycled: a pinned, attached region still covers the address.
        return new Lease(lock, pinned != null ? pinned : pinLocked(address), readOnlyWindow, base);
    }

    /** The locked rung of {@link #lease}: the region covering the address, pinned under the shared mm lock. */
    private Region pinLocked(final long address)
    {
        lock.readLock();
        try
        {
            final Region r = findLocked("lease", address);
            final StartRead result = lock.tryStartRead(r);
            if (result != StartRead.PINNED)
            {
                throw lockedByOwnSection("lease", r.toString(), result);
            }
            lockedReads.increment();
            return r;
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /** The pin rung for one address: the pinned region covering it, or null to climb down. */
    private Region pin(final long address)
    {
        final Region r = mm.snapshot().find(address);
        if (r == null)
        {
            return null; // not mapped, or being moved: the locked rung decides
        }
        final StartRead result = lock.tryStartRead(r);
        if (result == StartRead.PINNED)
        {
            return r;
        }
        return result == StartRead.WRITE_LOCKED ? null : pinAgain(address);
    }

    /** After a DETACHED: a newer map has replaced the region; look again, a few times (out of line: rare). */
    private Region pinAgain(final long address)
    {
        for (int attempt = 1; attempt < PIN_ATTEMPTS; attempt++)
        {
            final Region r = mm.snapshot().find(address);
            if (r == null)
            {
                return null;
            }
            final StartRead result = lock.tryStartRead(r);
            if (result == StartRead.PINNED)
            {
                return r;
            }
            if (result == StartRead.WRITE_LOCKED)
            {
                return null;
            }
        }
        return null;
    }

    private long apply(final String op, final RegionFunction f, final Region r, final long address)
    {
        try
        {
            return f.apply(r, r.view(), address - r.start());
        }
        catch (final InternalError ex)
        {
            throw accessFailed(op, address, 1, ex);
        }
    }

    /** Under the shared mm lock: the region covering {@code address}, or why there is none. */
    private Region findLocked(final String op, final long address)
    {
        mm.checkOpen(op);
        final Region r = mm.snapshot().find(address);
        if (r == null)
        {
            throw Window.notMapped(op, address, 1);
        }
        return r;
    }

    // ------------------------------------------------------------------ ranges

    /**
     * Copies [address, address + dst.byteSize()). No per-region pin rung: pinning every region of a long range costs
     * more than the shared lock it would avoid; only this thread's own pins are used.
     */
    void read(final long address, final MemorySegment dst)
    {
        final long length = dst.byteSize();
        for (int attempt = 0; attempt < SPECULATION_ATTEMPTS; attempt++)
        {
            // Range speculation, as readLong: while a section is open the copy is checked against every range the
            // section has locked, so a bulk read of regions the writer leaves alone does not wait for it. Every
            // region of the range that changed during the copy was logged before its memory changed.
            final long s = lock.speculateBegin();
            final boolean inside = mm.snapshot().isMapped(address, address + length);
            if (inside)
            {
                copyOut(address, dst);
            }
            if (!lock.speculateRangeRetry(address, address + length, s))
            {
                if (!inside)
                {
                    mm.checkOpen("read"); // a closed space has an empty map: say closed, not "not mapped"
                    throw Window.notMapped("read", address, length);
                }
                return;
            }
            speculationRetries.increment();
        }
        if (lock.pinsCover(address, address + length))
        {
            copyOut(address, dst); // this thread's leases pin the whole range: nothing can change it
            pinnedReads.increment();
            return;
        }
        mm.subscribers.refuseInListener("read");
        lock.readLock();
        try
        {
            mm.checkOpen("read");
            if (!mm.snapshot().isMapped(address, address + length))
            {
                throw Window.notMapped("read", address, length);
            }
            copyOut(address, dst);
            lockedReads.increment();
        }
        finally
        {
            lock.readUnlock();
        }
    }

    private void copyOut(final long address, final MemorySegment dst)
    {
        try
        {
            MemorySegment.copy(window, address - base, dst, 0, dst.byteSize());
        }
        catch (final IllegalStateException | InternalError ex)
        {
            throw accessFailed("read", address, dst.byteSize(), ex);
        }
    }

    RangeLease leaseRange(final long start, final long length)
    {
        mm.subscribers.refuseInListener("leaseRange");
        final Window w = mm.window;
        if (length <= 0 || start < w.base || start > w.end - length)
        {
            throw new RegionArgumentException("leaseRange", "[" + Window.hex(start) + ", +" + length +
                ") is not a range inside the window");
        }
        final List<Region> pinned = new ArrayList<>();
        for (int attempt = 0; attempt < PIN_ATTEMPTS; attempt++)
        {
            if (pinAll(mm.snapshot(), start, start + length, pinned))
            {
                return new RangeLease(lock, pinned, w.view(start, length));
            }
        }
        lock.readLock();
        try
        {
            mm.checkOpen("leaseRange");
            if (!pinAll(mm.snapshot(), start, start + length, pinned))
            {
                if (mm.snapshot().isMapped(start, start + length))
                {
                    throw lockedByOwnSection("leaseRange", "[" + Window.hex(start) + ", +" + length + ")", null);
                }
                throw Window.notMapped("leaseRange", start, length);
            }
            lockedReads.increment();
            return new RangeLease(lock, pinned, w.view(start, length));
        }
        finally
        {
            lock.readUnlock();
        }
    }

    /**
     * The pin rung for a range, one attempt: pins the regions covering [from, to) of one map version in address
     * order, never waiting (so two range leases cannot deadlock); on any refusal or gap drops them all.
     */
    private boolean pinAll(final RegionMap m, final long from, final long to, final List<Region> pinned)
    {
        pinned.clear();
        long at = from;
        while (at < to)
        {
            final Region r = m.find(at); // the page index: the region that covers at, or null at a gap
            if (r == null || lock.tryStartRead(r) != StartRead.PINNED)
            {
                break;
            }
            pinned.add(r);
            at = r.end();
        }
        if (at >= to)
        {
            return true;
        }
        for (final Region r : pinned)
        {
            lock.endRead(r);
        }
        pinned.clear();
        return false;
    }

    private IllegalStateException lockedByOwnSection(final String op, final String what, final StartRead result)
    {
        if (lock.isWriteLockedByCurrentThread())
        {
            return new IllegalStateException(op + ": " + what + " is write-locked by this thread's open write " +
                "section (it created or changed it); take the lease after the section closes");
        }
        return new IllegalStateException(op + ": pin refused under the mm read lock: " + result);
    }

    /**
     * What a failed access of the window means: the space closed under a racing reader (the window's arena is
     * gone), or the file was truncated under a mapping (SIGBUS, which the JVM reports as an InternalError).
     */
    RuntimeException accessFailed(final String op, final long address, final long length, final Throwable ex)
    {
        if (ex instanceof InternalError fault)
        {
            return new RegionFaultException(op, address, length, mm.snapshot().find(address), fault);
        }
        if (mm.isClosed())
        {
            final SpaceClosedException c = new SpaceClosedException(op);
            c.addSuppressed(ex);
            return c;
        }
        return (RuntimeException)ex;
    }
}
