package io.regionmm.kernel;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ENOMEM hint names vm.max_map_count's real value, not its first digit.
 */
class HintsTest
{
    @Test
    void theMapCountHintReadsTheWholeSysctl() throws IOException
    {
        final String value = Hints.maxMapCount();
        // The kernel's lowest useful setting is far above one digit (default 65530); the old read gave "6".
        assertTrue(Long.parseLong(value) >= 1024, "vm.max_map_count read as " + value);
        // The same value as the file's lines: what `sysctl vm.max_map_count` prints.
        assertEquals(Files.readAllLines(Path.of("/proc/sys/vm/max_map_count")).get(0).trim(), value);
        final String hint = Hints.hintFor(Syscall.MMAP, Errno.ENOMEM.number());
        assertTrue(hint.contains("(now " + value + ","), hint);
    }
}
