package io.regionmm.examples.regions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DemoTest
{
    @Test
    void theDemoAgreesWithTheKernelAtEveryStepAndItsReadersSeeNoWrongPage() throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final int rc = new Demo(new PrintStream(bytes, true, StandardCharsets.UTF_8), 2, 7).run();
        final String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        assertEquals(9, out.split("agrees with the kernel", -1).length - 1, out);
        assertTrue(out.contains("stamp mismatches: 0, reader errors: 0"), out);
    }
}
