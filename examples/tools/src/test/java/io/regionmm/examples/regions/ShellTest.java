package io.regionmm.examples.regions;

import io.regionmm.kernel.Kernel;
import io.regionmm.region.Region;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void anIndexOpenedInTheSpaceShowsItsFilesAsRegionsThatAgreeWithTheKernelUntilItCloses() throws Exception
    {
        final Path index = dir.resolve("index");
        LuceneIndex.create(index, 500, 7);
        final Path real = index.toRealPath();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Session session = new Session(AddressSpace.create(Kernel.system(), 1L << 30),
            new PrintStream(bytes, true, StandardCharsets.UTF_8)))
        {
            final Shell shell = new Shell(session);
            assertEquals(0, shell.execute("index " + index), bytes.toString(StandardCharsets.UTF_8));
            final List<Region> regions = session.index.regions(session.space);
            // every file the reader keeps open is one region of our space, mapping a file of the index
            assertEquals(session.index.directory.mappedFiles(), regions.size());
            assertTrue(regions.size() >= 4, "postings, terms, stored fields: " + regions);
            assertTrue(regions.stream().anyMatch(r -> r.file().path().getFileName().toString().endsWith(".tim")),
                regions.toString());
            for (final Region r : regions)
            {
                assertTrue(Files.isRegularFile(r.file().path()) && r.file().path().startsWith(real), r.toString());
            }
            bytes.reset();
            assertEquals(0, shell.execute("show"));
            String out = bytes.toString(StandardCharsets.UTF_8);
            for (final Region r : regions)
            {
                assertTrue(out.contains(r.file().path().toString()), out);
            }
            assertTrue(out.contains("500 documents"), out);
            bytes.reset();
            assertEquals(0, shell.execute("verify"), bytes.toString(StandardCharsets.UTF_8));
            assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("agrees with the kernel"));

            bytes.reset();
            assertEquals(0, shell.execute("close-index"));
            out = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("unmapped " + regions.size() + " files"), out);
            assertEquals(null, session.index);
            assertTrue(session.space.regions().isEmpty(), session.space.regions().toString());
            bytes.reset();
            assertEquals(0, shell.execute("verify"), bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
            assertEquals(1, shell.execute("close-index"));
            assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("no index is open"));
        }
    }

    @Test
    void theIndexScriptRunsAndEveryVerifyAgreesWithTheKernel() throws Exception
    {
        final String script = Files.readString(Path.of("scripts/index.regions"))
            .replace("/tmp/regions-index.dat", dir.resolve("own.dat").toString())
            .replace("/tmp/regions-index", dir.resolve("index").toString());
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Session session = new Session(AddressSpace.create(Kernel.system(), 1L << 30),
            new PrintStream(bytes, true, StandardCharsets.UTF_8)))
        {
            final int failed = new Shell(session).run(new BufferedReader(new StringReader(script)), true, false);
            final String out = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(0, failed, out);
            assertEquals(2, out.split("agrees with the kernel", -1).length - 1, out);
            assertTrue(out.contains("created index") && out.contains("2000 documents"), out);
            assertEquals(1, session.space.regions().size(), "our own region stays: " + out);
            assertFalse(out.contains("DISAGREES"), out);
        }
    }
}
