#!/usr/bin/env python3
"""Weakens one ordering choice of MmLock at a time and records which tests notice (see MUTATIONS.md).

For each mutation: patch MmLock.java, run the MmLock* tests of region-manager (both Surefire executions: the default
one and the Lincheck one), run this module's two jcstress runs with the CI options, record what failed, restore
MmLock.java from git. Logs go to protocol-ordering/target/mutations/<id>/, one summary line per mutation to
protocol-ordering/target/mutations/summary.tsv.

    protocol-ordering/mutate.py            # every mutation
    protocol-ordering/mutate.py M1 M9      # some of them
    protocol-ordering/mutate.py --list     # what they are (and whether each still applies)
    protocol-ordering/mutate.py --heavy 'Speculation|PinRecheck' M5
        # jcstress only, on the tests the regex selects, with jcstress's default preset (5 one-second iterations,
        # split per-actor compilation: 14 JVM configurations a test): a longer look for a JIT reordering

Run it from a clean tree: it refuses to start with MmLock.java modified, and puts it back after each mutation.
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MMLOCK = "region-manager/src/main/java/io/regionmm/lock/MmLock.java"
OUT = os.path.join(ROOT, "protocol-ordering/target/mutations")
JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java"
# The CI options (root pom: regionmm.jcstress.args) and the two runs of protocol-ordering/pom.xml.
JCSTRESS_ARGS = ["-m", "quick", "-iters", "1", "-f", "1", "-sc", "false"]
RUNS = {
    "ordering": ["-t", "^io.regionmm.ordering.[A-Z]"],
    "window": ["-jvmArgs", "-Dregionmm.racePoints=true", "-t", "^io.regionmm.ordering.window."],
}
REGION_MANAGER_TESTS = ["mvn", "-B", "test", "-pl", "region-manager", "-am", "-Dtest=MmLock*",
                        "-Dsurefire.failIfNoSpecifiedTests=false", "-Dmaven.test.failure.ignore=true"]

# id, what is weakened, [(exact text in MmLock.java, replacement)]; each text must occur exactly once.
RECHECK = "if ((long)LOCK_SEQ.getAcquire(r) == (long)SEQ.getAcquire(this))"
CAS = "while (!REFCNT.weakCompareAndSetAcquire(r, c, c + 1));"
RETRY_FENCE = ("// load-load: every load of the copy completes before this load of seq (pairs with openSection's fence).\n"
               "        VarHandle.loadLoadFence();\n")
REGION_FENCE_1 = ("// with the writer's lockSeq store, which precedes every change it makes to the region's memory).\n"
                  "        VarHandle.loadLoadFence();\n")
REGION_FENCE_2 = ("// locked it: possible for a region that stays in the map while its memory changes, e.g. DONTNEED.)\n"
                  "        VarHandle.loadLoadFence();\n")
RANGE_FENCE_1 = ("// log's release, which precedes every change the writer makes to a logged region's memory).\n"
                 "        VarHandle.loadLoadFence();\n")
RANGE_FENCE_2 = ("// was, seq could be s while a later section overwrote an entry between the state and the entry loads.)\n"
                 "        VarHandle.loadLoadFence();\n")
CLOSE = "SEQ.setRelease(this, (long)SEQ.get(this) + 1);"
END_READ = "final int before = (int)REFCNT.getAndAddRelease(r, -1);"
EXCLUDE_CHECK = "if ((int)REFCNT.getAcquire(r) != WRITER_FLAG + 1)"
EXCLUDE_LOOP = "while ((int)REFCNT.getAcquire(r) != WRITER_FLAG + 1)"
LOG_STATE = "LOG.setVolatile(log, LOG_STATE_AT, s << LOG_BITS | (n + 1));"
LOG_FULL_STATE = "LOG.setVolatile(log, LOG_STATE_AT, s << LOG_BITS | LOG_FULL);"
REGION_ORDER_1 = ("final boolean locked = (long)LOCK_SEQ.getOpaque(r) == s;\n"
                  "        RacePoint.SPECULATION_MID_VALIDATION.reach();")
REGION_ORDER_2 = ("        VarHandle.loadLoadFence();\n"
                  "        return (long)SEQ.getOpaque(this) != s || locked;\n"
                  "    }\n\n    /**\n     * Ends a range speculation")
RANGE_ORDER_1 = "        final int n = loggedBy((long)LOG.getAcquire(log, LOG_STATE_AT), s);\n"
RANGE_ORDER_2 = ("        VarHandle.loadLoadFence();\n"
                 "        return (long)SEQ.getOpaque(this) != s || locked;\n"
                 "    }\n\n    /**\n     * @return how many entries")
TRY_BEGIN = ("// acquire: pairs with closeSection's release; the map we load next is at least as new as this value.\n"
             "        final long s = (long)SEQ.getAcquire(this);")
BEGIN = ("// load next are at least as new as this value.\n"
         "        return (long)SEQ.getAcquire(this);")

MUTATIONS = [
    ("M1", "tryStartRead: pin CAS weakCompareAndSetAcquire -> weakCompareAndSetPlain",
     [(CAS, CAS.replace("Acquire", "Plain"))]),
    ("M2", "tryStartRead: re-check loads of lockSeq and seq getAcquire -> plain get",
     [(RECHECK, RECHECK.replace("getAcquire", "get"))]),
    ("M2o", "tryStartRead: re-check loads getAcquire -> getOpaque",
     [(RECHECK, RECHECK.replace("getAcquire", "getOpaque"))]),
    ("M12", "tryStartRead: M1 and M2 together (plain CAS, plain re-check: the seed-004 code)",
     [(CAS, CAS.replace("Acquire", "Plain")), (RECHECK, RECHECK.replace("getAcquire", "get"))]),
    ("M3", "openSection: storeStoreFence removed",
     [("        VarHandle.storeStoreFence();\n", "")]),
    ("M4a", "speculateRetry(s): loadLoadFence removed",
     [(RETRY_FENCE, RETRY_FENCE.replace("        VarHandle.loadLoadFence();\n", ""))]),
    ("M4b", "speculateRetry(r, s): first loadLoadFence (copy | lockSeq) removed",
     [(REGION_FENCE_1, REGION_FENCE_1.replace("        VarHandle.loadLoadFence();\n", ""))]),
    ("M4c", "speculateRetry(r, s): second loadLoadFence (lockSeq | seq) removed",
     [(REGION_FENCE_2, REGION_FENCE_2.replace("        VarHandle.loadLoadFence();\n", ""))]),
    ("M4d", "speculateRetry(start, end, s): first loadLoadFence (copy | log) removed",
     [(RANGE_FENCE_1, RANGE_FENCE_1.replace("        VarHandle.loadLoadFence();\n", ""))]),
    ("M4e", "speculateRetry(start, end, s): second loadLoadFence (entries | seq) removed",
     [(RANGE_FENCE_2, RANGE_FENCE_2.replace("        VarHandle.loadLoadFence();\n", ""))]),
    ("M5", "closeSection: setRelease -> plain set",
     [(CLOSE, CLOSE.replace("setRelease", "set"))]),
    ("M5o", "closeSection: setRelease -> setOpaque",
     [(CLOSE, CLOSE.replace("setRelease", "setOpaque"))]),
    ("M6", "endRead: getAndAddRelease -> getAndAddAcquire (atomic, no release)",
     [(END_READ, END_READ.replace("getAndAddRelease", "getAndAddAcquire"))]),
    ("M6p", "endRead: getAndAddRelease -> a weakCompareAndSetPlain loop (atomic, no order at all)",
     [(END_READ, "int before;\n        do\n        {\n            before = (int)REFCNT.get(r);\n        }\n"
                 "        while (!REFCNT.weakCompareAndSetPlain(r, before, before - 1));")]),
    ("M7", "excludeReaders/waitForReaders: getAcquire of the count -> plain get",
     [(EXCLUDE_CHECK, EXCLUDE_CHECK.replace("getAcquire", "get")),
      (EXCLUDE_LOOP, EXCLUDE_LOOP.replace("getAcquire", "get"))]),
    ("M7o", "excludeReaders/waitForReaders: getAcquire of the count -> getOpaque",
     [(EXCLUDE_CHECK, EXCLUDE_CHECK.replace("getAcquire", "getOpaque")),
      (EXCLUDE_LOOP, EXCLUDE_LOOP.replace("getAcquire", "getOpaque"))]),
    ("M8", "appendToLog: setVolatile of the log state -> plain set",
     [(LOG_STATE, LOG_STATE.replace("setVolatile", "set")),
      (LOG_FULL_STATE, LOG_FULL_STATE.replace("setVolatile", "set"))]),
    ("M8r", "appendToLog: setVolatile of the log state -> setRelease",
     [(LOG_STATE, LOG_STATE.replace("setVolatile", "setRelease")),
      (LOG_FULL_STATE, LOG_FULL_STATE.replace("setVolatile", "setRelease"))]),
    ("M9", "speculateRetry(r, s): seq read before lockSeq (the hold point between them)",
     [(REGION_ORDER_1, "final boolean moved = (long)SEQ.getOpaque(this) != s;\n"
                       "        RacePoint.SPECULATION_MID_VALIDATION.reach();"),
      (REGION_ORDER_2, REGION_ORDER_2.replace("return (long)SEQ.getOpaque(this) != s || locked;",
                                              "return moved || (long)LOCK_SEQ.getOpaque(r) == s;"))]),
    ("X1", "speculateRetry(start, end, s): seq read before the log state (the order it once had)",
     [(RANGE_ORDER_1, "        final boolean moved = (long)SEQ.getOpaque(this) != s;\n" + RANGE_ORDER_1),
      (RANGE_ORDER_2, RANGE_ORDER_2.replace("return (long)SEQ.getOpaque(this) != s || locked;",
                                            "return moved || locked;"))]),
    ("X2", "speculateRetry(start, end, s): getAcquire of the log state -> plain get",
     [(RANGE_ORDER_1, RANGE_ORDER_1.replace("LOG.getAcquire", "LOG.get"))]),
    ("X3", "speculateTryBegin and speculateBegin: getAcquire of seq -> plain get",
     [(TRY_BEGIN, TRY_BEGIN.replace("SEQ.getAcquire", "SEQ.get")), (BEGIN, BEGIN.replace("SEQ.getAcquire", "SEQ.get"))]),
    ("C1", "control, not an ordering: tryStartRead without its re-check",
     [(RECHECK, "if (false)")]),
    ("C2", "control, not an ordering: writeLock/detach do not wait for pins",
     [("            waitForReaders(r);\n", "")]),
    ("C3", "control, not an ordering: writeLock does not log the region",
     [("        appendToLog(r); // also when locked already", "        // appendToLog(r); // also when locked already")]),
]


def sh(cmd, log, cwd=ROOT, timeout=1800):
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            f.write("\nTIMEOUT after %d s\n" % timeout)
            return -1


def classpath():
    cp_file = os.path.join(OUT, "classpath.txt")
    rc = sh(["mvn", "-q", "-B", "-pl", "protocol-ordering", "-am", "test-compile", "dependency:build-classpath",
             "-Dmdep.outputFile=" + cp_file, "-Dmdep.includeScope=test"], os.path.join(OUT, "classpath.log"))
    if rc != 0:
        sys.exit("could not build the class path: see " + os.path.join(OUT, "classpath.log"))
    with open(cp_file) as f:
        return os.path.join(ROOT, "protocol-ordering/target/test-classes") + ":" + f.read().strip()


def region_manager_failures(log):
    """Failed MmLock* test methods, by Surefire execution, or a note when the build itself broke."""
    failures, execution = [], "?"
    with open(log) as f:
        for line in f:
            m = re.search(r"maven-surefire-plugin:[^:]+:test \(([^)]+)\) @ region-manager", line)
            if m:
                execution = m.group(1)
            m = re.search(r"\[ERROR\] (\S+) -- Time elapsed.*<<< (FAILURE|ERROR)!", line)
            if m:
                failures.append("%s:%s" % (execution, m.group(1).replace("io.regionmm.lock.", "")))
    text = open(log).read()
    if "BUILD SUCCESS" not in text:
        failures.append("BUILD BROKE (see log)")
    return failures


def gate_failures(log):
    """FORBIDDEN outcomes and errors the gate listed, one entry per test and kind, with the summed count."""
    found = {}
    with open(log) as f:
        for line in f:
            m = re.match(r"  - (\S+): FORBIDDEN \[([^\]]+)\] x(\d+)", line)
            if m:
                key = "%s FORBIDDEN [%s]" % (m.group(1).replace("io.regionmm.ordering.", ""), m.group(2))
                found[key] = found.get(key, 0) + int(m.group(3))
                continue
            m = re.match(r"  - (\S+): (\w+_ERROR|did not run)", line)
            if m:
                key = "%s %s" % (m.group(1).replace("io.regionmm.ordering.", ""), m.group(2))
                found[key] = found.get(key, 0) + 1
    text = open(log).read()
    if not found and "jcstress gate: passed" not in text:
        found["gate did not finish (see log)"] = 1
    return ["%s x%d" % (k, v) for k, v in sorted(found.items())]


def apply(mutation, source):
    ident, _, edits = mutation
    for old, new in edits:
        if source.count(old) != 1:
            sys.exit("%s: expected the text exactly once, found it %d times:\n%s" % (ident, source.count(old), old))
        source = source.replace(old, new)
    return source


def run(mutation, cp, heavy=None):
    ident, title, _ = mutation
    src_path = os.path.join(ROOT, MMLOCK)
    mutated = apply(mutation, open(src_path).read())
    d = os.path.join(OUT, ident)
    os.makedirs(d, exist_ok=True)
    started = time.time()
    try:
        with open(src_path, "w") as f:
            f.write(mutated)
        subprocess.run(["git", "diff", "--", MMLOCK], cwd=ROOT, stdout=open(os.path.join(d, "mutation.diff"), "w"))
        if heavy is None:
            rm_log = os.path.join(d, "region-manager.log")
            sh(REGION_MANAGER_TESTS, rm_log)
            rm = region_manager_failures(rm_log)
            runs, args = RUNS, JCSTRESS_ARGS
        else:
            rm = ["not run"]
            runs, args = {"heavy": ["-t", heavy]}, ["-m", "default"]
        results = {"ordering": [], "window": []}
        for name, filt in runs.items():
            work = os.path.join(d, name)
            os.makedirs(work, exist_ok=True)
            log = os.path.join(d, name + ".log")
            sh([JAVA, "-Xmx256m", "-cp", cp, "io.regionmm.ordering.JcstressGate"] + args + filt, log, cwd=work)
            results["ordering" if name == "heavy" else name] = gate_failures(log)
    finally:
        subprocess.run(["git", "checkout", "--", MMLOCK], cwd=ROOT, check=True)
    if heavy is not None:
        ident, title = ident + " (heavy: " + heavy + ")", title
    row = [ident, title, "; ".join(rm) or "none", "; ".join(results["ordering"]) or "none",
           "; ".join(results["window"]) or ("-" if heavy else "none"), "%d s" % (time.time() - started)]
    with open(os.path.join(OUT, "summary.tsv"), "a") as f:
        f.write("\t".join(row) + "\n")
    print("\t".join(row), flush=True)


def main(argv):
    if "--list" in argv:
        source = open(os.path.join(ROOT, MMLOCK)).read()
        for mutation in MUTATIONS:
            apply(mutation, source)
            print(mutation[0], mutation[1])
        return
    dirty = subprocess.run(["git", "status", "--porcelain", "--", MMLOCK], cwd=ROOT, capture_output=True, text=True)
    if dirty.stdout.strip():
        sys.exit(MMLOCK + " has local changes: commit or stash them first")
    heavy = None
    if argv and argv[0] == "--heavy":
        heavy, argv = argv[1], argv[2:]
    chosen = [m for m in MUTATIONS if not argv or m[0] in argv]
    source = open(os.path.join(ROOT, MMLOCK)).read()
    for mutation in chosen:
        apply(mutation, source)  # every text still found, before anything runs
    os.makedirs(OUT, exist_ok=True)
    cp = classpath()
    for mutation in chosen:
        run(mutation, cp, heavy)


if __name__ == "__main__":
    main(sys.argv[1:])
