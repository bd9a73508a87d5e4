package io.regionmm.kernel.maps;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Mman;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcMapsTest
{
    @Test
    void parsesFileAnonymousAndPseudoEntries()
    {
        final List<MapsEntry> entries = ProcMaps.parse("""
            7f1c2a000000-7f1c2a004000 rw-s 00003000 fd:01 1234567                    /tmp/a dir/file name.dat
            7f1c2a004000-7f1c2a005000 r--p 00000000 00:00 0\s
            55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]
            7f1c2b000000-7f1c2b001000 r-xp 00000000 103:02 42 /usr/lib/x (deleted)
            """);
        assertEquals(4, entries.size());
        final MapsEntry file = entries.get(0);
        assertEquals(0x7f1c2a000000L, file.start());
        assertEquals(0x4000, file.length());
        assertTrue(file.read() && file.write() && !file.execute() && file.shared());
        assertEquals(0x3000, file.offset());
        assertEquals(0xfd, file.devMajor());
        assertEquals(1, file.devMinor());
        assertEquals(1234567, file.inode());
        assertEquals("/tmp/a dir/file name.dat", file.path());
        assertTrue(entries.get(1).anonymous());
        assertEquals("", entries.get(1).path());
        assertEquals("r--p", entries.get(1).permissions());
        assertEquals("[heap]", entries.get(2).path());
        assertEquals(0x103, entries.get(3).devMajor());
        assertEquals("/usr/lib/x (deleted)", entries.get(3).path());
    }

    @Test
    void rejectsMalformedLinesNamingThem()
    {
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> ProcMaps.parse("ok\n7f-80 rw 0 0:0 0\n"));
        assertTrue(ex.getMessage().contains("line 1"), ex.getMessage());
    }

    @Test
    void seesAMappingThisProcessMakesAndClipsToAWindow() throws Exception
    {
        final Kernel k = Kernel.system();
        final long page = k.pageSize();
        final long addr = k.mmap(0, 4 * page, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        try
        {
            k.mprotect(addr + page, page, Mman.PROT_READ | Mman.PROT_WRITE);
            final List<MapsEntry> window = ProcMaps.readWindow(addr + page, addr + 3 * page);
            assertEquals(2, window.size(), window.toString());
            assertEquals(addr + page, window.get(0).start());
            assertEquals("rw-p", window.get(0).permissions());
            assertEquals(addr + 2 * page, window.get(1).start());
            assertEquals(addr + 3 * page, window.get(1).end());
            assertFalse(window.get(1).write());
        }
        finally
        {
            k.munmap(addr, 4 * page);
        }
    }
}
