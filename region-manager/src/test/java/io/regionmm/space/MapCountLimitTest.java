package io.regionmm.space;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * At vm.max_map_count, in a child JVM filled with unmergeable regions: the library refuses, with a typed error that
 * names the sysctl and its real value, before the kernel does; the process stays alive; the map equals the kernel's;
 * mapping works again after unmapping some. And with the library's reserve switched off, the kernel's own ENOMEM
 * arrives as an exception, not as a JVM abort (the error paths were warmed up when the space was created).
 */
class MapCountLimitTest
{
    private static final long BOUND_SECONDS = 120;
    private static final long DEFAULT_LIMIT = 65_530;

    @TempDir
    Path dir;

    @Test
    void aWriteNearTheLimitIsRefusedByTheLibraryAndTheProcessLives() throws Exception
    {
        // On a machine whose limit is far above the default (65 530), a larger reserve keeps the fill as short as
        // on the default: the same code path, a bounded run.
        final long limit = MapCount.readLimit();
        final long reserve = Math.max(MapCount.RESERVE, limit - DEFAULT_LIMIT + MapCount.RESERVE);
        final List<String> out = runChild(List.of("-Dregionmm.mapCountReserve=" + reserve));
        final String refused = line(out, "REFUSED ");
        assertTrue(refused.startsWith("REFUSED MapCountException errno=null :: map: "), refused);
        assertTrue(refused.contains("vm.max_map_count = " + limit), refused);
        assertTrue(refused.contains("within the reserve of " + reserve), refused);
        final long mapped = Long.parseLong(line(out, "MAPPED ").split(" ")[1]);
        assertTrue(mapped > limit - reserve - 10_000, "mapped only " + mapped);
        assertEquals(mapped, Long.parseLong(line(out, "REGIONS ").split(" ")[1]));
        assertTrue(out.contains("VERIFIED") && out.contains("MAPPED AGAIN") && out.contains("CLOSED"), out::toString);
    }

    @Test
    void theKernelsOwnEnomemIsAnExceptionNotAnAbort() throws Exception
    {
        // Only where the kernel's limit can be reached in a bounded run (the default is 65 530; a machine set to
        // millions would take minutes to fill, interpreted).
        assumeTrue(MapCount.readLimit() <= 4 * DEFAULT_LIMIT, "vm.max_map_count too large to fill here");
        // A reserve far below zero: the library never refuses, the kernel does (ENOMEM at the limit). At that
        // moment the JVM cannot map anything either, so the child gives it nothing else to map: no JIT compiler
        // (its arenas grow by mmap), a heap committed and touched up front.
        final List<String> out = runChild(List.of("-Dregionmm.mapCountReserve=-1000000", "-Xint", "-Xms64m",
            "-XX:+AlwaysPreTouch"));
        final String refused = line(out, "REFUSED ");
        assertTrue(refused.startsWith("REFUSED MappingException errno=ENOMEM :: map: mmap("), refused);
        assertTrue(refused.contains("vm.max_map_count (now " + MapCount.readLimit()), refused);
        assertTrue(out.contains("VERIFIED") && out.contains("MAPPED AGAIN") && out.contains("CLOSED"), out::toString);
    }

    private List<String> runChild(final List<String> properties) throws Exception
    {
        final List<String> options = new ArrayList<>(List.of("-Xmx64m", "-XX:+UseSerialGC",
            "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), "-XX:ReplayDataFile=" + dir.resolve("replay_%p.log")));
        options.addAll(properties);
        return ChildJvm.run(ChildJvm.command(MapCountChild.class, options, dir.toString()), BOUND_SECONDS);
    }

    private static String line(final List<String> out, final String prefix)
    {
        return ChildJvm.line(out, prefix);
    }
}
