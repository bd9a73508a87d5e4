package io.regionmm.examples.regions;

import io.regionmm.kernel.Kernel;
import io.regionmm.space.AddressSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ShellTest
{
    @TempDir
    Path dir;

    @Test
    void theTourScriptRunsAndEveryVerifyAgreesWithTheKernel() throws Exception
    {
        final String script = Files.readString(Path.of("scripts/tour.regions"))
            .replace("/tmp/regions-tour.dat", dir.resolve("tour.dat").toString())
            .replace("/tmp/regions-tour.svg", dir.resolve("tour.svg").toString());
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Session session = new Session(AddressSpace.create(Kernel.system(), 1L << 30),
            new PrintStream(bytes, true, StandardCharsets.UTF_8)))
        {
            final int failed = new Shell(session).run(new BufferedReader(new StringReader(script)), true, false);
            final String out = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(0, failed, out);
            assertEquals(2, out.split("agrees with the kernel", -1).length - 1, out);
            assertTrue(out.contains("remapped") && out.contains("in place"), out);
            assertEquals(2, session.space.regions().size(), out);
        }
        assertTrue(Files.readString(dir.resolve("tour.svg")).startsWith("<svg"));
    }

    @Test
    void aBadCommandOrArgumentPrintsOneLineAndTheShellGoesOn() throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final Path file = dir.resolve("f.dat");
        try (Session session = new Session(AddressSpace.create(Kernel.system(), 1L << 30),
            new PrintStream(bytes, true, StandardCharsets.UTF_8)))
        {
            final String script = String.join("\n",
                "frobnicate 1 2",
                "map " + file + " --length 2X --grow",
                "map " + file + " --length 8K --rw --grow",
                "protect #0 4K rwx",
                "split #7",
                "unmap 0x1000 4K",
                "split #0+4K",
                "show");
            final int failed = new Shell(session).run(new BufferedReader(new StringReader(script)), false, false);
            final String out = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(5, failed, out);
            assertEquals(5, out.lines().filter(l -> l.startsWith("error: ")).count(), out);
            assertTrue(out.contains("'2X' is not a size"), out);
            assertTrue(out.contains("protection 'rwx' is not r or rw"), out);
            assertTrue(out.contains("no region #7"), out);
            assertTrue(out.contains("unknown command 'frobnicate'"), out);
            assertTrue(out.contains("outside the window"), out);
            assertEquals(2, session.space.regions().size(), "the good commands ran");
        }
    }
}
