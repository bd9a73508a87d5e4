package io.regionmm.space;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * At vm.max_map_count, in a child JVM filled with unmergeable regions: the library refuses, with a typed error that
 * names the sysctl and its real value, before the kernel does; the process stays alive; the map equals the kernel's;
 * mapping works again after unmapping some. And with the library's reserve switched off, the kernel's own ENOMEM
 * arrives as an exception, not as a JVM abort (the error paths were warmed up when the space was created).
 */
class MapCountLimitTest
{
    private static final long BOUND_SECONDS = 120;

    @TempDir
    Path dir;

    @Test
    void aWriteNearTheLimitIsRefusedByTheLibraryAndTheProcessLives() throws Exception
    {
        final List<String> out = runChild(List.of());
        final String refused = line(out, "REFUSED ");
        assertTrue(refused.startsWith("REFUSED MapCountException errno=null :: map: "), refused);
        final String limit = MapCount.readLimit() + "";
        assertTrue(refused.contains("vm.max_map_count = " + limit), refused);
        assertTrue(refused.contains("within the reserve of " + MapCount.RESERVE), refused);
        final long mapped = Long.parseLong(line(out, "MAPPED ").split(" ")[1]);
        assertTrue(mapped > MapCount.readLimit() - 2 * MapCount.RESERVE - 10_000, "mapped only " + mapped);
        assertEquals(mapped, Long.parseLong(line(out, "REGIONS ").split(" ")[1]));
        assertTrue(out.contains("VERIFIED") && out.contains("MAPPED AGAIN") && out.contains("CLOSED"), out::toString);
    }

    @Test
    void theKernelsOwnEnomemIsAnExceptionNotAnAbort() throws Exception
    {
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
