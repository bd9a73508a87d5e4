package io.regionmm.lock;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The mm lock of one address space and the per-region read locks that hang off it: the whole locking protocol
 * of regionmm, in one file, after the Linux kernel's {@code mmap_lock}, {@code mm_lock_seq} and per-VMA locks.
 *
 * <p>Three ways to read, one way to write:
 * <ul>
 * <li>Speculative: {@link #speculateTryBegin()} / {@link #speculateRetry(long)} around a lock-free lookup and a
 *     copy (the whole map), or {@link #speculateBegin()} / {@link #speculateRegion} /
 *     {@link #speculateRetry(RegionLock, long)} for one region, or {@link #speculateBegin()} /
 *     {@link #speculateRangeRetry(long, long, long)} for an address range without loading
 *     its region; the last two also work while a writer is active. Nothing read may be acted on before the retry
 *     check says the copy is valid.</li>
 * <li>Per-region: {@link #tryStartRead(RegionLock)} / {@link #endRead(RegionLock)} pin one region; while pinned
 *     its memory cannot be unmapped, moved, shrunk or re-protected.</li>
 * <li>Slow: {@link #readLock()} / {@link #readUnlock()} take the mm lock shared. Always succeeds.</li>
 * <li>Writers: {@link #beginWrite()} ... {@link #endWrite()} (or {@link #downgrade()}), and inside,
 *     {@link #writeLock(RegionLock)} on every region the write changes and {@link #detach(RegionLock)} on every
 *     region it removes. There is no per-region unlock: ending the section unlocks them all at once.</li>
 * </ul>
 *
 * <p>Correctness is one-sided: {@code tryStartRead} may report {@link StartRead#WRITE_LOCKED} when no writer
 * holds the region any more (a stale early check, a concurrent section that just ended); it never reports
 * {@link StartRead#PINNED} for a region a writer has locked. Likewise {@code speculateRetry} may fail a copy
 * that was in fact consistent, and never passes one that was not.
 *
 * <p>Who may wait on what (each rule is enforced, not just documented):
 * <ul>
 * <li>A section is not re-entrant: {@link #beginWrite()} on a thread that holds the mm lock in any mode throws, so
 *     the sequence is odd exactly while a write section is open.</li>
 * <li>Pins are counted per thread. A thread that holds a pin of this space cannot begin a write in it
 *     ({@link #beginWrite()} throws, naming the pin); a thread that holds a pin of any space waits in
 *     {@link #readLock()} only in short timed turns, and throws when the writer holding the lock waits for one of
 *     its pins (in this space or another); a section that would wait for a pin of its own thread throws instead
 *     of waiting.</li>
 * <li>Drains are bounded by the section's deadline ({@link #tryBeginWrite}); an interrupt does not cut a drain
 *     short, it is kept for the caller.</li>
 * </ul>
 */
public final class MmLock
{
    /*
     * Algorithmic notes.
     *
     * State.
     *   seq        the mm sequence (kernel: mm_lock_seq). Even: no writer. Odd: a write section is open; the
     *              value identifies that section. A long: it cannot wrap in any lifetime (2^63 sections).
     *   rw         the mm lock proper, a fair ReentrantReadWriteLock: writers exclusive, slow readers shared.
     *              Fair, so a stream of readers cannot starve a queued writer.
     *   refcnt     per region (kernel: vm_refcnt), shared with the writer flag:
     *                0                 detached: removed from the map, never pinned again
     *                1                 attached, nobody reading
     *                1 + n             n readers hold pins
     *                WRITER_FLAG + ... a writer is excluding readers; new pins are refused
     *   lockSeq    per region (kernel: vm_lock_seq). Equal to seq exactly while the section numbered seq has
     *              write-locked the region. Ending the section changes seq, so every such equality breaks at
     *              once: that is the batch release.
     *   lock log   per section (beyond the kernel): the address ranges of the regions the open section has
     *              write-locked or detached, append-only, up to LOG_CAPACITY of them; logState (a slot of the
     *              log array, off seq's cache line) packs the seq of the section that last logged with its number
     *              of entries (LOG_FULL: it stopped logging, its readers use lockSeq instead). A state of an
     *              earlier section means the open one has logged nothing yet: opening a section writes nothing
     *              here, so the line readers check is written only when there is something to log.
     *
     * Writer: beginWrite takes rw exclusively, then seq := seq + 1 (odd). Store-store fence after it: a reader
     *   that sees any store of the section (a new map, a region's lockSeq) must also see the odd seq, else a
     *   speculation could validate across the change.
     *   writeLock(r): if r.lockSeq == seq, done (already locked in this section). Else add WRITER_FLAG to
     *   r.refcnt, wait until only the attached count is left (readers drained), store r.lockSeq = seq, remove
     *   the flag with release. detach(r) instead ends with refcnt := 0.
     *   endWrite: seq := seq + 1 (even) with release, then release rw.
     *
     * Reader, per region (kernel: vma_start_read):
     *   1. early check: r.lockSeq == seq -> WRITE_LOCKED. Opaque loads: a false "locked" is allowed here.
     *   2. CAS refcnt c -> c + 1 with acquire, refusing c == 0 (DETACHED) and c with the flag (WRITE_LOCKED).
     *   3. re-check r.lockSeq == seq -> drop the pin, WRITE_LOCKED. The acquire of step 2 keeps this load after
     *      the increment (the race of the vm_refcnt thread: hoisted above it, the load could see the old
     *      lockSeq while the writer, not yet seeing our increment, goes ahead). It also pairs with the writer's
     *      release when it removes the flag, so a reader that pins after that sees the new lockSeq.
     *   4. the caller checks the region still covers its address (a lookup in an older map may have found a
     *      region that has since been replaced; replaced regions are detached, so step 2 usually catches it).
     *   endRead: refcnt - 1 with release (the reader's accesses happen before the writer, acquiring the count,
     *   goes on to change the mapping); the last reader unparks a waiting writer.
     *
     * Reader bias (after BRAVO, Dice & Kogan, USENIX ATC 2019; beyond the kernel, whose vm_refcnt bounces between
     *   cores just as our count did). Readers of one region all CAS its count: its line moves to every core that
     *   pins, and two threads leasing the same region paid 4x a speculative read. A biased region is pinned instead
     *   by publishing it in the visible-readers table VISIBLE, one slot per (thread, region) hash, each slot on a
     *   cache line of its own: the lines a pin writes are the thread's own.
     *   bias       per region: 0 or 1. Set (volatile) by a reader that pinned through the count, when the region's
     *              inhibit time has passed; cleared (volatile) only by a writer, in excludeReaders, which then scans.
     *   Reader, biased (tryStartRead, before step 2): bias (opaque) == 1 -> CAS VISIBLE[slot] 0 -> r's pin id
     *     (volatile; a number, not a reference: no GC barriers on the lease path, and the table keeps no region alive);
     *     then, volatile, bias == 1, and refcnt neither 0 nor flagged, and the step-3 re-check -> PINNED.
     *     Otherwise clear the slot and go on with step 2 (a taken slot: another thread's pin hashed there, or the
     *     same thread pins r twice; the count serves it). endRead clears the slot with release.
     *   Writer, excludeReaders(r): after adding the flag (volatile), load bias (volatile); when 1: store 0
     *     (volatile), scan every slot (volatile loads) and wait, with the count, until each slot found holding r
     *     no longer does. Dekker, in the total order of these volatile accesses: a reader whose slot the scan
     *     missed published after the scan, so after the flag, and sees the flag; a reader whose load of the count
     *     came before the flag published before the scan, or saw bias 0 (a writer that cleared bias after that
     *     reader's bias load scanned after it and waited for the reader's slot). Either the writer waits for the
     *     reader or the reader sees the writer: the pin count's guarantee, without the shared line.
     *   A writer waits only for slots holding r: exactly r's readers, as with the count. Readers that publish r
     *     after the scan back off at the flag, or at the step-3 re-check once the flag is gone (lockSeq == seq).
     *   Cost bound (BRAVO's inhibit): a revoking writer sets the space's biasInhibitUntil = end of scan +
     *     INHIBIT_FACTOR x the scan's duration; readers bias no region of the space before that, so scans cost the
     *     space's writers at most 1 / (INHIBIT_FACTOR + 1) of their time. Per space, not per region as in BRAVO:
     *     most writes replace the regions they change (protect, split, remap), and a successor born with no inhibit
     *     would be biased by its next lease and scanned for by the next write, every time. Regions nobody pins are
     *     never scanned for.
     *
     * Speculation (kernel: mmap_lock_speculate_try_begin / _retry): s = seq with acquire; odd -> not now.
     *   Copy what is needed, then loadLoadFence and compare seq with s. The fence keeps the copy's loads before
     *   the final load of seq; together with the writer's store-store fence a copy that overlapped any write
     *   section sees a different seq.
     *
     * Per-region speculation (beyond the kernel): s = seq with acquire, any parity; look up r; r.lockSeq != s or
     *   fall back; copy; loadLoadFence; r.lockSeq; loadLoadFence; valid iff r.lockSeq != s and seq == s. Seq is
     *   read last: only a later section can overwrite r.lockSeq, so an unchanged seq vouches for the lockSeq read.
     *   With s even this is the classic check (and a reader may skip r's lock word altogether). With s odd, a
     *   section is open: it changes memory only of regions it locked, locks last until the section ends, and
     *   lockSeq is stored before the change; so r unlocked at both ends of the same section was never changed
     *   during the copy. Readers of other regions keep their fast path while a writer works.
     *
     * Range speculation (beyond the kernel): per-region speculation without loading the region, for readers that
     *   found an address range mapped and need no more of its regions (a region object is a cache miss in a large
     *   map); the range may span adjacent regions, each of which the argument below covers on its own. s =
     *   seq with acquire; s even: as above. s odd: copy; loadLoadFence; load logState with acquire: n = its count
     *   if it is section s's, 0 if it is an earlier section's (s has logged nothing), refuse if it is full or a
     *   later section's; entries [0, n); loadLoadFence; valid iff no entry overlaps the range and seq == s, read
     *   last: entries are overwritten only by a later section, so an unchanged seq after reading them says they
     *   were s's. Nothing is checked before the copy: every entry s logged, before or during it, is checked after.
     *   Sound because a writer logs a region (entry, then a volatile store of logState) in writeLock/detach, before it
     *   changes anything, and every change of a region's memory comes after its writeLock; so a copy that overlapped a
     *   change sees the entry at the end, as a per-region reader sees lockSeq. A region born in section s is not logged
     *   until a writeLock: its memory was set up before the map that holds it was published, and a reader of an older
     *   map finds its address unmapped or covered by a logged region it replaced (a merge replaces without changing
     *   memory).
     *
     *
     * Who may wait on what (beyond the kernel, which has no user code holding a VMA lock across calls).
     *   pins      each thread's pins, of every space, are listed in one static ThreadLocal (Pins), added by
     *             tryStartRead and removed by endRead, which must run on the pinning thread. A thread with pins
     *             in this space is refused beginWrite here (the writer would wait for its own pins, or for a pin
     *             whose owner waits for the writer); excludeReaders refuses to wait for a pin of its own thread
     *             (a lease taken inside the section).
     *   readLock by a thread with pins (in any space: a writer of space B may be draining the thread's pin
     *             in space A) never blocks for good: it queues with a timed tryLock (fair: it does not barge past
     *             queued writers, which readers holding pins could otherwise starve), and between turns asks
     *             whether the thread that holds the lock is draining one of its pins (DRAINING, a static map
     *             thread -> region, written by writers before they park); if so it throws.
     *   deadline  a section opened with tryBeginWrite(timeout) drains only until then: excludeReaders removes
     *             its flag again and reports BUSY, and the caller fails the operation before changing anything
     *             (every operation write-locks all it will change before its first system call).
     *   interrupt waitForReaders parks; an interrupt (which makes park return at once) is recorded and cleared
     *             so the wait keeps parking, then restored on the way out.
     *
     * What changes memory a reader can see (every one of them write-locks the regions first; a pin blocks it):
     *   unmap (tombstone), remap shrink (tombstone of the tail), remap move (the old range becomes a tombstone),
     *   protect, advise(DONTNEED) (a PRIVATE mapping's dirty pages revert to the file's bytes), and the space's
     *   close. Replacing regions without changing memory (split, merge, map next to a region, lasting advice,
     *   mlock/munlock) write-locks the replaced regions too: a pin on a replaced region must keep blocking
     *   changes to the memory it covers, so it has to be gone before its successor exists. map into a free
     *   range and growing in place change only addresses no published region covers (readers of an older map
     *   find them unmapped). sync (msync) changes no byte a reader sees.
     *
     * Regions are never recycled (a removed region is garbage, collected when no reader refers to it), so the
     * kernel's SLAB_TYPESAFE_BY_RCU hazard of a freed object reused for another mm cannot arise here.
     */

    /** The writer flag in a region's reference count. */
    static final int WRITER_FLAG = 1 << 30;
    /** What speculateTryBegin returns when a writer is active. */
    public static final long NO_SPECULATION = -1;
    /** How many ranges a section logs before its readers fall back to the per-region check. */
    static final int LOG_CAPACITY = 32;
    private static final int LOG_BITS = 6;
    private static final long LOG_FULL = (1L << LOG_BITS) - 1;

    private static final VarHandle SEQ;
    // The log's state and entries share one array, the state a cache line past its start: away from seq, which
    // every reader loads and which would otherwise be invalidated by every log append as well.
    private static final VarHandle LOG = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int LOG_STATE_AT = 8;
    private static final int LOG_ENTRIES_AT = LOG_STATE_AT + 1;
    private static final VarHandle REFCNT;
    private static final VarHandle LOCK_SEQ;
    private static final VarHandle BIAS;
    private static final VarHandle INHIBIT_UNTIL;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SEQ = lookup.findVarHandle(MmLock.class, "seq", long.class);
            REFCNT = lookup.findVarHandle(RegionLock.class, "refcnt", int.class);
            LOCK_SEQ = lookup.findVarHandle(RegionLock.class, "lockSeq", long.class);
            BIAS = lookup.findVarHandle(RegionLock.class, "bias", int.class);
            INHIBIT_UNTIL = lookup.findVarHandle(MmLock.class, "biasInhibitUntil", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    /** The drain deadline of a section opened by beginWrite: none, it waits as long as readers hold pins. */
    private static final long NO_DEADLINE = Long.MAX_VALUE;
    private static final long SPINS = 64;
    private static final long MAX_PARK_NS = 200_000;
    private static final long MIN_PARK_NS = 1_000;

    /** Which region each draining writer waits for (any space): see readLock. */
    private static final java.util.concurrent.ConcurrentHashMap<Thread, RegionLock> DRAINING =
        new java.util.concurrent.ConcurrentHashMap<>();
    /** Each thread's pins, of every space. */
    private static final ThreadLocal<Pins> PINS = ThreadLocal.withInitial(Pins::new);

    // The visible-readers table (see "Reader bias"): logical slots holding the pin id of a pinned region (0: free),
    // VISIBLE_STRIDE longs apart so that every slot has a 64-byte line of its own. One table for every space:
    // RegionLock.readers() can count a region's readers without its space, and the scan costs a writer the same
    // whatever the number of spaces.
    // 64 per core, at least 256 (BRAVO's global table has 4096 for every lock): collisions only send a pin to the
    // count. -Dregionmm.visibleSlots sets another power of two (the Lincheck run uses 4: its model checker explores
    // every step of a writer's scan).
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static final int VISIBLE_SLOTS = Integer.highestOneBit(Math.max(1, Integer.getInteger(
        "regionmm.visibleSlots", Math.max(256, 64 * Integer.highestOneBit(2 * CORES - 1)))));
    private static final int VISIBLE_STRIDE = 8;
    private static final long[] VISIBLE = new long[VISIBLE_SLOTS * VISIBLE_STRIDE];
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    /** False with -Dregionmm.readerBias=false: no region is ever biased (every pin counts), for A/B measurements. */
    private static final boolean READER_BIAS = !"false".equals(System.getProperty("regionmm.readerBias"));
    /** A revoking writer keeps readers off the bias for this many times the duration of its scan. */
    private static final int INHIBIT_FACTOR = 9;
    private static final java.util.concurrent.atomic.AtomicLong SPACE_IDS =
        new java.util.concurrent.atomic.AtomicLong();
    /** Pin ids, one per region ever made (from 1: 0 marks a free slot); a long never wraps. */
    private static final java.util.concurrent.atomic.AtomicLong PIN_IDS = new java.util.concurrent.atomic.AtomicLong();

    /** Names this space in the threads' pin lists (Pins keeps numbers, not references). */
    private final long spaceId = SPACE_IDS.incrementAndGet();
    private final FairRwLock rw = new FairRwLock();
    @SuppressWarnings("unused") // through SEQ
    private long seq;
    private volatile Thread waitingWriter;
    // Until when (System.nanoTime()) no region of this space may be biased; 0: never revoked. Opaque accesses: a
    // late view only shifts when biasing resumes ("Reader bias", cost bound).
    @SuppressWarnings("unused") // through INHIBIT_UNTIL
    private long biasInhibitUntil;
    // Until when the open section may drain readers (System.nanoTime()); NO_DEADLINE for beginWrite. Written and
    // read only by the section's owner, under rw.
    private long drainDeadline = NO_DEADLINE;
    // log[LOG_STATE_AT] (through LOG): (section seq << LOG_BITS) | entries. Entry i is [log[e + 2i], log[e + 2i + 1])
    // with e = LOG_ENTRIES_AT; plain, as entries below the count are published by the state's store.
    private final long[] log = new long[LOG_ENTRIES_AT + 2 * LOG_CAPACITY];

    // ---------------------------------------------------------------- writers

    /**
     * Takes the mm lock exclusively and opens a write section.
     *
     * @return the section's sequence (odd).
     */
    public long beginWrite()
    {
        refuseWriteFromHere("beginWrite");
        rw.writeLock().lock();
        drainDeadline = NO_DEADLINE;
        return openSection();
    }

    /**
     * Like {@link #beginWrite()}, but gives up after the timeout, and the section's drains
     * ({@link #writeLock}, {@link #detach}) give up at the same deadline: the timeout bounds the whole wait for
     * other threads, for the lock and for their pins.
     *
     * @param timeout how long to wait.
     * @param unit    its unit.
     * @return the section's sequence, or 0 when the lock was not acquired in time.
     * @throws InterruptedException if interrupted while waiting for the lock.
     */
    public long tryBeginWrite(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        refuseWriteFromHere("beginWrite");
        final long deadline = deadlineAfter(unit.toNanos(timeout));
        if (!rw.writeLock().tryLock(timeout, unit))
        {
            return 0;
        }
        drainDeadline = deadline;
        return openSection();
    }

    private static long deadlineAfter(final long nanos)
    {
        final long now = System.nanoTime();
        return nanos >= NO_DEADLINE - now ? NO_DEADLINE : now + Math.max(0, nanos);
    }

    /**
     * A write section cannot be opened by a thread that holds the mm lock (re-entered, a second section would make
     * the sequence even while the first is open: speculation would validate across its changes), nor by one that
     * holds the lock shared (the write lock would wait for that thread forever), nor by one that holds pins (the
     * section may have to wait for them).
     */
    private void refuseWriteFromHere(final String op)
    {
        if (rw.isWriteLockedByCurrentThread())
        {
            throw new IllegalStateException(op + ": write section " + (long)SEQ.get(this) + " is already open on " +
                "this thread; make the change in that section (or close it first)");
        }
        if (rw.getReadHoldCount() > 0)
        {
            throw new IllegalStateException(op + ": this thread holds the mm lock shared (a downgraded section or " +
                "a read under the lock): a write would wait for it forever; release it first");
        }
        final Pins p = PINS.get();
        if (p.countIn(this) > 0)
        {
            throw new IllegalStateException(op + ": this thread holds " + p.describe(this) + "; a writer waits " +
                "for every pin on what it changes, so close the lease first");
        }
    }

    private long openSection()
    {
        final long s = (long)SEQ.get(this) + 1; // we hold rw exclusively: no other writer of seq
        if ((s & 1) == 0)
        {
            rw.writeLock().unlock();
            throw new IllegalStateException("openSection: the sequence was odd (" + (s - 1) + ") with no section open");
        }
        SEQ.setOpaque(this, s);
        // store-store: pairs with the loadLoadFence in speculateRetry and the acquire loads in tryStartRead; no
        // store of this section (map publication, lockSeq, the log) may become visible before the odd seq.
        VarHandle.storeStoreFence();
        // No log reset: the state still names an earlier section, which readers and appendToLog read as "nothing
        // logged by this one yet". One store fewer to a line every speculating reader holds.
        return s;
    }

    /**
     * Ends the write section: every region it write-locked is released at once. Releases the mm lock.
     */
    public void endWrite()
    {
        assertWriteLocked();
        closeSection();
        rw.writeLock().unlock();
    }

    /**
     * Ends the write section like {@link #endWrite()}, but leaves the caller holding the mm lock shared; release it
     * with {@link #readUnlock()}.
     */
    public void downgrade()
    {
        assertWriteLocked();
        rw.readLock().lock(); // a ReentrantReadWriteLock lets the write holder take the read lock
        closeSection();
        rw.writeLock().unlock();
    }

    private void closeSection()
    {
        assert ((long)SEQ.get(this) & 1) == 1 : "closing a section with an even sequence " + (long)SEQ.get(this);
        drainDeadline = NO_DEADLINE;
        // release: pairs with the acquire loads of seq in speculateTryBegin and tryStartRead; everything the
        // section did (mappings, map publication) is visible to whoever sees the even value.
        SEQ.setRelease(this, (long)SEQ.get(this) + 1);
    }

    /**
     * @return true when the calling thread holds the mm lock exclusively.
     */
    public boolean isWriteLockedByCurrentThread()
    {
        return rw.isWriteLockedByCurrentThread();
    }

    /**
     * @return true when some thread holds the mm lock exclusively (a write section is open).
     */
    public boolean isWriteLocked()
    {
        return rw.isWriteLocked();
    }

    /**
     * @throws IllegalStateException when the caller does not hold the mm lock exclusively.
     */
    public void assertWriteLocked()
    {
        if (!rw.isWriteLockedByCurrentThread())
        {
            throw new IllegalStateException("the mm write lock is not held by " + Thread.currentThread().getName());
        }
    }

    /**
     * Write-locks a region for the current section: waits until its readers have drained; new pins are refused
     * until the section ends. Free when the region is already locked in this section. Caller holds the write lock.
     *
     * @param r the region.
     * @return true, or false when the section's deadline passed before the readers drained (then r is as before,
     *         apart from its entry in the lock log, which only makes readers of r check more carefully).
     * @throws IllegalStateException when the calling thread itself pins r.
     */
    public boolean writeLock(final RegionLock r)
    {
        assertWriteLocked();
        final long s = (long)SEQ.get(this); // owner's read of its own store
        appendToLog(r); // also when locked already: a region born in this section is locked but not yet logged
        if ((long)LOCK_SEQ.getOpaque(r) == s)
        {
            return true;
        }
        if (!excludeReaders(r, drainDeadline))
        {
            return false;
        }
        // Plain-order store is enough: the release below publishes it (pairs with the reader's acquire CAS).
        LOCK_SEQ.setOpaque(r, s);
        REFCNT.getAndAddRelease(r, -WRITER_FLAG);
        // store-store: the caller's change of r's memory comes next, and a release orders only what precedes it;
        // a speculating reader must see lockSeq (or the log entry) before any byte of the change (pairs with the
        // loadLoadFence of speculateRetry(r, s)). Invisible on x86; found by reading against aarch64's model.
        VarHandle.storeStoreFence();
        return true;
    }

    /**
     * Marks a region detached: it has left the map and can never be pinned again. Waits for its readers like
     * {@link #writeLock}, without a deadline: callers write-lock what they detach first (within the deadline,
     * before changing anything), after which only a reader's momentary count, dropped at once, can be seen here.
     * Caller holds the write lock.
     *
     * @param r the region.
     * @throws IllegalStateException when the calling thread itself pins r.
     */
    public void detach(final RegionLock r)
    {
        assertWriteLocked();
        appendToLog(r);
        excludeReaders(r, NO_DEADLINE);
        LOCK_SEQ.setOpaque(r, (long)SEQ.get(this));
        // release: a reader that sees 0 sees everything the section did before it.
        REFCNT.setRelease(r, 0);
        VarHandle.storeStoreFence(); // as in writeLock: the changes that follow stay behind lockSeq
    }

    /** Appends r's range to the section's log, before the writer changes anything of r. */
    private void appendToLog(final RegionLock r)
    {
        final long s = (long)SEQ.get(this); // owner's read of its own store
        final long state = (long)LOG.get(log, LOG_STATE_AT); // likewise
        final int n = loggedBy(state, s);
        if (n == LOG_FULL)
        {
            return;
        }
        final long start = r.start();
        final long end = r.end();
        if (n > 0 && log[LOG_ENTRIES_AT + 2 * n - 2] == start && log[LOG_ENTRIES_AT + 2 * n - 1] == end)
        {
            return; // the same region again (locked, then detached)
        }
        if (n == LOG_CAPACITY)
        {
            LOG.setVolatile(log, LOG_STATE_AT, s << LOG_BITS | LOG_FULL); // its readers use lockSeq from now on
            return;
        }
        log[LOG_ENTRIES_AT + 2 * n] = start;
        log[LOG_ENTRIES_AT + 2 * n + 1] = end;
        // volatile, not just release: besides publishing the entry to a reader that counts it (pairs with the
        // acquire in speculateRetry), nothing the writer does next (the region's count, the system
        // call that changes its memory) may be ordered before this store.
        LOG.setVolatile(log, LOG_STATE_AT, s << LOG_BITS | (n + 1));
        // A volatile store does not keep later plain stores behind it, and for a region born in this section
        // writeLock returns right after this: the change must not overtake the entry (pairs with the loadLoadFence
        // of speculateRangeRetry(start, end, s)).
        VarHandle.storeStoreFence();
    }

    /** Sets the writer flag and waits for r's readers; false (flag removed again) when the deadline passed. */
    private boolean excludeReaders(final RegionLock r, final long deadline)
    {
        if (PINS.get().holds(r))
        {
            throw new IllegalStateException("write section " + (long)SEQ.get(this) + " must change " + r +
                ", which this thread pins (a lease taken inside the section?); close that lease first");
        }
        final long began = System.nanoTime();
        final int before = (int)REFCNT.getAndAdd(r, WRITER_FLAG);
        if (before == 0 || (before & WRITER_FLAG) != 0)
        {
            REFCNT.getAndAdd(r, -WRITER_FLAG);
            throw new IllegalStateException("region is " + (before == 0 ? "detached" : "already being locked"));
        }
        RacePoint.WRITER_WAITING_FOR_READERS.reach();
        final int[] visible = revokeBias(r, began);
        if (!drained(r, visible) && !waitForReaders(r, visible, deadline))
        {
            if (visible != null)
            {
                // Bias back on (volatile) before the flag goes: the slot pins this drain found are still held (so is
                // one whose reader loaded bias 1 before our clear and loads the count after our flag is gone), and the
                // next writer finds them only by scanning, which it does only when it sees bias 1. Left at 0, that
                // writer went ahead under a lease (BiasFindingsTest: an unmap, a protect, a close under a lease).
                BIAS.setVolatile(r, 1);
            }
            REFCNT.getAndAdd(r, -WRITER_FLAG); // the region is as before: readers may pin it again
            return false;
        }
        return true;
    }

    /**
     * The writer's half of the reader bias (class comment, "Reader bias"), after the flag: when r is biased, clears the
     * bias and finds the slots of the visible-readers table that hold r.
     *
     * @param began when the writer began to exclude readers (System.nanoTime(), taken before its flag, so nothing
     *              slow separates the flag from the scan: the window in which a reader's publication can be missed
     *              stays as narrow as the hardware makes it, which is also what the jcstress test needs to reach).
     * @return the indexes of those slots, ended by -1; null when r was not biased (no slot can hold a pin of r).
     */
    private int[] revokeBias(final RegionLock r, final long began)
    {
        // volatile: this load follows our flag in the total order of volatile accesses (the Dekker of the comment).
        if ((int)BIAS.getVolatile(r) == 0)
        {
            return null;
        }
        BIAS.setVolatile(r, 0);
        int[] found = new int[] {-1};
        int n = 0;
        for (int i = 0; i < VISIBLE.length; i += VISIBLE_STRIDE)
        {
            if ((long)SLOT.getVolatile(VISIBLE, i) == r.pinId)
            {
                if (n + 1 == found.length)
                {
                    found = java.util.Arrays.copyOf(found, found.length * 2);
                }
                found[n++] = i;
                found[n] = -1;
            }
        }
        final long scanned = System.nanoTime();
        INHIBIT_UNTIL.setOpaque(this, scanned + INHIBIT_FACTOR * (scanned - began));
        return found;
    }

    /** True when r's pins are gone: the count holds only the flag and the attached 1, and no slot found holds r. */
    private static boolean drained(final RegionLock r, final int[] visible)
    {
        // acquire: pairs with endRead's release (count or slot), so every access a reader made through its pin
        // happens before whatever this writer does to the mapping next.
        if ((int)REFCNT.getAcquire(r) != WRITER_FLAG + 1)
        {
            return false;
        }
        if (visible != null)
        {
            for (int i = 0; visible[i] >= 0; i++)
            {
                if ((long)SLOT.getAcquire(VISIBLE, visible[i]) == r.pinId)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Waits until only the writer flag and the attached count are left and the slots found hold r no more: spins a
     * little, then parks (endRead unparks us when it drops the last counted pin, or a slot; a missed unpark costs at
     * most one park period).
     */
    private boolean waitForReaders(final RegionLock r, final int[] visible, final long deadline)
    {
        final Thread me = Thread.currentThread();
        DRAINING.put(me, r); // before we park: a pin holder that cannot get the lock looks here
        waitingWriter = me;
        boolean interrupted = false;
        try
        {
            long parkNs = MIN_PARK_NS;
            for (long i = 0; !drained(r, visible); i++)
            {
                if (i < SPINS)
                {
                    Thread.onSpinWait();
                    continue;
                }
                final long left = deadline == NO_DEADLINE ? MAX_PARK_NS : deadline - System.nanoTime();
                if (left <= 0)
                {
                    return false;
                }
                LockSupport.parkNanos(this, Math.min(parkNs, left));
                parkNs = Math.min(parkNs * 2, MAX_PARK_NS);
                // An interrupt makes every later park return at once: clear it so we keep parking (the drain is not
                // interruptible: the section would be left half done), and give it back to the caller below.
                interrupted |= Thread.interrupted();
            }
            return true;
        }
        finally
        {
            waitingWriter = null;
            DRAINING.remove(me);
            if (interrupted)
            {
                me.interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- per-region readers

    /**
     * Tries to pin a region found by a lock-free lookup. Never waits.
     *
     * @param r the region.
     * @return {@link StartRead#PINNED} (then call {@link #endRead(RegionLock)}), or why not.
     */
    public StartRead tryStartRead(final RegionLock r)
    {
        // Early check, opaque: nothing relies on it (a stale value only makes us try the CAS, or fall back early).
        if ((long)LOCK_SEQ.getOpaque(r) == (long)SEQ.getOpaque(this))
        {
            return StartRead.WRITE_LOCKED;
        }
        RacePoint.READER_BEFORE_INCREMENT.reach();
        if ((int)BIAS.getOpaque(r) != 0 && tryStartBiased(r))
        {
            return StartRead.PINNED;
        }
        return tryStartCounted(r);
    }

    /** Steps 2 and 3, through the count: a region not (yet) biased, a slot taken, or a writer in the way. */
    private StartRead tryStartCounted(final RegionLock r)
    {
        int c;
        do
        {
            c = (int)REFCNT.getOpaque(r);
            if (c == 0)
            {
                return StartRead.DETACHED;
            }
            if ((c & WRITER_FLAG) != 0 || c == WRITER_FLAG - 1)
            {
                return StartRead.WRITE_LOCKED; // writer excluding readers (or the count would overflow into the flag)
            }
        }
        // acquire: the re-check below must not be reordered before the increment (seed 004), and pairs with the
        // writer's release when it removes the flag after storing lockSeq.
        while (!REFCNT.weakCompareAndSetAcquire(r, c, c + 1));
        RacePoint.READER_AFTER_INCREMENT.reach();
        if ((long)LOCK_SEQ.getAcquire(r) == (long)SEQ.getAcquire(this))
        {
            dropCount(r);
            return StartRead.WRITE_LOCKED;
        }
        PINS.get().add(this, r, COUNTED);
        if ((int)BIAS.getOpaque(r) == 0)
        {
            mayBias(r);
        }
        return StartRead.PINNED;
    }

    /**
     * The reader's half of the reader bias (class comment): publishes r in this thread's slot for it and checks,
     * after the publication, that no writer can have missed it.
     *
     * @return true when r is pinned (through its slot); false when the slot was taken or a writer has r (then the
     *         slot is as before and the count path decides).
     */
    private boolean tryStartBiased(final RegionLock r)
    {
        final int slot = slotOf(r);
        // volatile (a CAS): the publication precedes the loads below in the total order of volatile accesses, which
        // also holds excludeReaders' flag, bias load and scan. A release store would let the loads pass it (x86's
        // store buffer does exactly that), and a writer scanning meanwhile would miss a reader that missed its flag.
        if (!SLOT.compareAndSet(VISIBLE, slot, 0L, r.pinId))
        {
            return false; // taken: another pin hashed here (or this thread pins r already)
        }
        RacePoint.READER_AFTER_INCREMENT.reach();
        if ((int)BIAS.getVolatile(r) != 0)
        {
            final int c = (int)REFCNT.getVolatile(r);
            // The step-3 re-check: a section that locked r and removed its flag left lockSeq == seq (the acquire
            // load of the count above pairs with the flag's release removal, so lockSeq is that section's).
            if (c != 0 && (c & WRITER_FLAG) == 0 && (long)LOCK_SEQ.getAcquire(r) != (long)SEQ.getAcquire(this))
            {
                PINS.get().add(this, r, slot);
                return true;
            }
        }
        clearSlot(slot);
        return false;
    }

    /** Called after a counted pin of an unbiased region: biases it when no revocation inhibits that (BRAVO). */
    private void mayBias(final RegionLock r)
    {
        final long until = (long)INHIBIT_UNTIL.getOpaque(this);
        if (READER_BIAS && (until == 0 || System.nanoTime() - until >= 0))
        {
            // volatile: a writer's load of bias after its flag must see this, or this store comes after that load
            // and every biased reader that follows it sees the writer's flag (class comment).
            BIAS.setVolatile(r, 1);
        }
    }

    /**
     * The slot of (this thread, r): a full mix of both, since threads and regions are numbered in a row. (Rows of
     * adjacent slots per thread, for locality, measured worse: two JMH threads' rows met, LeaseScalingBenchmark.)
     */
    private static int slotOf(final RegionLock r)
    {
        long h = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L + r.pinId;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return ((int)h & (VISIBLE_SLOTS - 1)) * VISIBLE_STRIDE;
    }

    private void clearSlot(final int slot)
    {
        // release: pairs with drained's acquire, so the reader's accesses through the pin happen before the writer's
        // change. The load of waitingWriter may pass this store (release, not volatile): a missed unpark costs one
        // park period, and a volatile store here would cost every lease a second locked instruction.
        SLOT.setRelease(VISIBLE, slot, 0L);
        final Thread w = waitingWriter;
        if (w != null)
        {
            LockSupport.unpark(w);
        }
    }

    /**
     * Drops a pin taken by {@link #tryStartRead}, on the thread that took it.
     *
     * @param r the region.
     * @throws IllegalStateException when this thread holds no pin on r (then nothing changes).
     */
    public void endRead(final RegionLock r)
    {
        final int slot = PINS.get().remove(r);
        if (slot == NOT_HELD)
        {
            throw new IllegalStateException("endRead: " + Thread.currentThread().getName() + " holds no pin on " + r);
        }
        if (slot == COUNTED)
        {
            dropCount(r);
        }
        else
        {
            clearSlot(slot);
        }
    }

    private void dropCount(final RegionLock r)
    {
        // release: pairs with the acquire in excludeReaders; the reader's accesses happen before the writer's change.
        final int before = (int)REFCNT.getAndAddRelease(r, -1);
        if (before == WRITER_FLAG + 2)
        {
            final Thread w = waitingWriter; // last reader out while a writer waits: wake it (spurious wakeups are fine)
            if (w != null)
            {
                LockSupport.unpark(w);
            }
        }
    }

    // ---------------------------------------------------------------- slow readers

    /**
     * Takes the mm lock shared (the slow path): no write section can be open until {@link #readUnlock()}. A thread that
     * holds pins does not queue (see the class comment): it waits only for a writer that is not waiting for it.
     *
     * @throws IllegalStateException when the calling thread holds a pin that the writer holding the lock waits for.
     */
    public void readLock()
    {
        final Pins p = PINS.get();
        if (p.count() == 0)
        {
            rw.readLock().lock();
            return;
        }
        long turnNs = MIN_PARK_NS;
        boolean interrupted = false;
        try
        {
            while (true)
            {
                try
                {
                    // Timed, so it queues fairly (an untimed tryLock barges past queued writers, and pin holders
                    // reading in a loop starved them) and still comes back to look at the lock's owner.
                    if (rw.readLock().tryLock(turnNs, TimeUnit.NANOSECONDS))
                    {
                        return;
                    }
                }
                catch (final InterruptedException ex)
                {
                    interrupted = true; // keep waiting (as lock() would), restore below
                    continue;
                }
                final Thread owner = rw.owner();
                final RegionLock w = owner == null ? null : DRAINING.get(owner);
                if (w != null && p.holds(w))
                {
                    throw new IllegalStateException("a read under the mm lock would wait for write section " +
                        (long)SEQ.getOpaque(this) + " of thread " + owner.getName() + ", which waits for this " +
                        "thread's pin on " + w + " (" + p.describeAll() + "); close the lease first, or read with " +
                        "readNoWait");
                }
                turnNs = Math.min(turnNs * 2, MAX_PARK_NS);
            }
        }
        finally
        {
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Releases the shared mm lock.
     */
    public void readUnlock()
    {
        rw.readLock().unlock();
    }

    /**
     * @return true when some thread waits to take the mm lock (for tests and diagnostics).
     */
    public boolean hasQueuedThreads()
    {
        return rw.hasQueuedThreads();
    }

    // ---------------------------------------------------------------- speculation

    /**
     * Begins a speculative read.
     *
     * @return a sequence to pass to {@link #speculateRetry}, or {@link #NO_SPECULATION} while a writer is active.
     */
    public long speculateTryBegin()
    {
        // acquire: pairs with closeSection's release; the map we load next is at least as new as this value.
        final long s = (long)SEQ.getAcquire(this);
        return (s & 1) != 0 ? NO_SPECULATION : s;
    }

    /**
     * Ends a speculative read.
     *
     * @param s the value from {@link #speculateTryBegin()}, or an even value from {@link #speculateBegin()}.
     * @return true when the data read since may be inconsistent and must be discarded.
     */
    public boolean speculateRetry(final long s)
    {
        RacePoint.SPECULATION_BEFORE_VALIDATE.reach();
        // load-load: every load of the copy completes before this load of seq (pairs with openSection's fence).
        VarHandle.loadLoadFence();
        return (long)SEQ.getOpaque(this) != s;
    }

    /**
     * Begins a speculative read of one region (beyond the kernel: it also works while a write section is open, for
     * every region that section has not locked). Call before looking the region up.
     *
     * @return the mm sequence, any parity, for {@link #speculateRegion} and {@link #speculateRetry(RegionLock, long)}.
     */
    public long speculateBegin()
    {
        // acquire: pairs with closeSection's release and with the map's release store; the map and regions we
        // load next are at least as new as this value.
        return (long)SEQ.getAcquire(this);
    }

    /**
     * @param r a region found after {@link #speculateBegin()}.
     * @param s its value.
     * @return true when r may be read speculatively now: the section numbered s (if any) has not locked it.
     */
    public boolean speculateRegion(final RegionLock r, final long s)
    {
        // acquire: pairs with the release that published r (map) and with writeLock/detach's stores of lockSeq.
        return (long)LOCK_SEQ.getAcquire(r) != s;
    }

    /**
     * Ends a speculative read of one region. The copy is valid when no section began or ended meanwhile and the
     * open one (if any) did not lock the region: a writer changes a region's memory only after locking it, and a
     * lock lasts until its section ends, so a region unlocked at both ends of the same section was unlocked
     * throughout.
     *
     * @param r the region read.
     * @param s the value from {@link #speculateBegin()}.
     * @return true when the copy must be discarded.
     */
    public boolean speculateRetry(final RegionLock r, final long s)
    {
        RacePoint.SPECULATION_BEFORE_VALIDATE.reach();
        // load-load: the copy's loads complete before these two (pairs with openSection's store-store fence and
        // with the writer's lockSeq store, which precedes every change it makes to the region's memory).
        VarHandle.loadLoadFence();
        final boolean locked = (long)LOCK_SEQ.getOpaque(r) == s;
        RacePoint.SPECULATION_MID_VALIDATION.reach();
        // load-load: seq is read after lockSeq. A later section stores its own number into lockSeq only after
        // section s has ended; seq still s here means the lockSeq read was not such a store. (Read the other way
        // round, seq could be s and lockSeq already overwritten by the next section that locks r, hiding that s
        // locked it: possible for a region that stays in the map while its memory changes, e.g. DONTNEED.)
        VarHandle.loadLoadFence();
        return (long)SEQ.getOpaque(this) != s || locked;
    }

    /**
     * Ends a range speculation: a copy of [start, end) made after {@link #speculateBegin()} and a lookup that found
     * the range mapped (by one region or several adjacent ones), without loading the regions. While a section is
     * open the copy is checked against every range the section has logged; nothing is looked at before the copy (an
     * early look at the log would slow every read while a section is open, to help only the rare reader of a region
     * being changed, which finds out after its copy instead; measured in examples/benchmarks/RESULTS.md).
     *
     * @param start first address.
     * @param end   end of the range.
     * @param s     the value from {@link #speculateBegin()}.
     * @return true when the copy must be discarded (then use the per-region path).
     */
    public boolean speculateRangeRetry(final long start, final long end, final long s)
    {
        RacePoint.SPECULATION_BEFORE_VALIDATE.reach();
        // load-load: the copy's loads complete before these (pairs with openSection's store-store fence and with
        // log's release, which precedes every change the writer makes to a logged region's memory).
        VarHandle.loadLoadFence();
        if ((s & 1) == 0)
        {
            return (long)SEQ.getOpaque(this) != s;
        }
        final int n = loggedBy((long)LOG.getAcquire(log, LOG_STATE_AT), s);
        RacePoint.SPECULATION_MID_VALIDATION.reach();
        final boolean locked = n == LOG_FULL || logOverlaps(start, end, n);
        // load-load: seq is read after the entries. A later section writes its entries over these only after
        // section s has ended; seq still s here means the entries read were s's. (Read before them, as it once
        // was, seq could be s while a later section overwrote an entry between the state and the entry loads.)
        VarHandle.loadLoadFence();
        return (long)SEQ.getOpaque(this) != s || locked;
    }

    /**
     * @return how many entries section s has logged according to {@code state}: its count when the state is s's,
     *         0 when it is an earlier section's (s has logged nothing yet), LOG_FULL when s can no longer be
     *         judged from the log (it gave up logging, or a later section has taken the log over).
     */
    private static int loggedBy(final long state, final long s)
    {
        final long owner = state >>> LOG_BITS;
        return owner == s ? (int)(state & LOG_FULL) : owner < s ? 0 : (int)LOG_FULL;
    }

    private boolean logOverlaps(final long start, final long end, final int n)
    {
        final long[] entries = log;
        for (int i = LOG_ENTRIES_AT; i < LOG_ENTRIES_AT + 2 * n; i += 2)
        {
            if (entries[i] < end && start < entries[i + 1])
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @return the current mm sequence (acquire); odd while a writer is active.
     */
    public long sequence()
    {
        return (long)SEQ.getAcquire(this);
    }

    /**
     * @return a description of the pins the calling thread holds on this space's regions, or null when none.
     */
    public String pinsOfCurrentThread()
    {
        final Pins p = PINS.get();
        return p.countIn(this) == 0 ? null : p.describe(this);
    }

    /**
     * @param start first address.
     * @param end   end of the range.
     * @return true when regions of this space that the calling thread pins cover [start, end) without a gap: their
     *         memory cannot change until the thread drops them, so the thread may read it without validation.
     */
    public boolean pinsCover(final long start, final long end)
    {
        final Pins p = PINS.get();
        long at = start;
        long next;
        while (at < end && (next = p.coverEnd(this, at)) > at)
        {
            at = next;
        }
        return at >= end;
    }

    /** The mm lock proper, fair, with its owner visible (a pin holder asks whether the owner drains its pin). */
    private static final class FairRwLock extends ReentrantReadWriteLock
    {
        private static final long serialVersionUID = 1L;

        FairRwLock()
        {
            super(true);
        }

        Thread owner()
        {
            return getOwner();
        }
    }

    /** A pin taken through the count (Pins.slots), rather than a slot of the visible-readers table. */
    private static final int COUNTED = -1;
    /** What Pins.remove returns for a region the thread does not pin. */
    private static final int NOT_HELD = -2;

    /**
     * One thread's pins, of every space (a few at most, searched from the end): for each, the region's pin id, the
     * space's id, the region's range and how it was taken (its slot in the visible-readers table, or COUNTED).
     *
     * <p>Numbers only, no references: a reference store into an array costs the collector's write barrier, and the
     * two this list used to make on every lease (region, space) doubled the compiled size of the pin path, which then
     * grew past what C2 inlines into a caller, and every lease allocated its Lease object (measured with
     * -XX:CompileCommand=print and -prof gc; RESULTS.md, "Reader-biased leases"). Messages name pins by range.
     *
     * <p>Every lease writes this array, so no other object may share its lines: the garbage collector packs the
     * objects it copies side by side, and after a young collection two threads' pin lists sat on one line, which then
     * bounced between the cores on every lease (two threads leasing went from 22 to 61-65 ns in some forks,
     * LeaseScalingBenchmark). Hence PAD unused longs on each side of what is written, the count among them.
     */
    private static final class Pins
    {
        private static final int PAD = 8; // 64 bytes on each side
        private static final int COUNT_AT = PAD;
        private static final int FIRST = PAD + 1;
        private static final int FIELDS = 5; // pin id, space id, start, end, slot
        private long[] a = new long[FIRST + 4 * FIELDS + PAD];

        int count()
        {
            return (int)a[COUNT_AT];
        }

        private static int at(final int i)
        {
            return FIRST + i * FIELDS;
        }

        void add(final MmLock space, final RegionLock r, final int slot)
        {
            final int count = (int)a[COUNT_AT];
            final int e = at(count);
            if (e + FIELDS > a.length - PAD)
            {
                grow(count);
            }
            final long[] b = a;
            b[e] = r.pinId;
            b[e + 1] = space.spaceId;
            b[e + 2] = r.start();
            b[e + 3] = r.end();
            b[e + 4] = slot;
            b[COUNT_AT] = count + 1;
        }

        /** Out of line, as the rare moves in remove: the common path stays small. */
        private void grow(final int count)
        {
            a = java.util.Arrays.copyOf(a, at(2 * count) + PAD);
        }

        /** @return the removed pin's slot (or COUNTED); NOT_HELD when the thread pins no r. */
        int remove(final RegionLock r)
        {
            final long[] b = a;
            final int count = (int)b[COUNT_AT];
            if (count > 0 && b[at(count - 1)] == r.pinId) // pins are mostly dropped in reverse order
            {
                b[COUNT_AT] = count - 1;
                return (int)b[at(count - 1) + 4];
            }
            return removeInside(r, count);
        }

        private int removeInside(final RegionLock r, final int count)
        {
            final long[] b = a;
            for (int i = count - 2; i >= 0; i--)
            {
                if (b[at(i)] == r.pinId)
                {
                    final int slot = (int)b[at(i) + 4];
                    System.arraycopy(b, at(i + 1), b, at(i), (count - i - 1) * FIELDS);
                    b[COUNT_AT] = count - 1;
                    return slot;
                }
            }
            return NOT_HELD;
        }

        boolean holds(final RegionLock r)
        {
            for (int i = 0; i < count(); i++)
            {
                if (a[at(i)] == r.pinId)
                {
                    return true;
                }
            }
            return false;
        }

        int countIn(final MmLock space)
        {
            int n = 0;
            for (int i = 0; i < count(); i++)
            {
                n += a[at(i) + 1] == space.spaceId ? 1 : 0;
            }
            return n;
        }

        /** @return the end of a pin of this space that covers address {@code at}, or {@code at} when none does. */
        long coverEnd(final MmLock space, final long at)
        {
            for (int i = 0; i < count(); i++)
            {
                final int e = at(i);
                if (a[e + 1] == space.spaceId && a[e + 2] <= at && at < a[e + 3])
                {
                    return a[e + 3];
                }
            }
            return at;
        }

        String describe(final MmLock space)
        {
            final StringBuilder b = new StringBuilder();
            int n = 0;
            for (int i = 0; i < count(); i++)
            {
                final int e = at(i);
                if (space == null || a[e + 1] == space.spaceId)
                {
                    b.append(n++ == 0 ? "" : ", ").append("region 0x").append(Long.toHexString(a[e + 2]))
                        .append("-0x").append(Long.toHexString(a[e + 3]));
                }
            }
            return n + (n == 1 ? " pin (" : " pins (") + b + ")";
        }

        String describeAll()
        {
            return describe(null);
        }
    }

    // ---------------------------------------------------------------- for RegionLock

    static void initRegion(final RegionLock r, final long creatorSeq)
    {
        REFCNT.set(r, 1);
        LOCK_SEQ.set(r, creatorSeq); // published with the map that holds r (release store)
    }

    static int refcntAcquire(final RegionLock r)
    {
        return (int)REFCNT.getAcquire(r);
    }

    static long nextPinId()
    {
        return PIN_IDS.incrementAndGet();
    }

    /** @return how many slots of the visible-readers table hold r now (racy: a scan, for diagnostics). */
    static int visibleReaders(final RegionLock r)
    {
        int n = 0;
        for (int i = 0; i < VISIBLE.length; i += VISIBLE_STRIDE)
        {
            n += (long)SLOT.getAcquire(VISIBLE, i) == r.pinId ? 1 : 0;
        }
        return n;
    }

    /**
     * @param r a region.
     * @return true while r's pins go through the visible-readers table (tests and diagnostics).
     */
    public static boolean isReaderBiased(final RegionLock r)
    {
        return (int)BIAS.getVolatile(r) != 0;
    }
}
