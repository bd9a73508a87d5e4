package io.regionmm.view;

import io.regionmm.region.Protection;
import io.regionmm.space.Lease;
import io.regionmm.view.chronicle.ChronicleView;
import net.openhft.chronicle.bytes.BytesStore;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The README's example ("Views: Agrona and Chronicle"), line for line, with what it promises checked. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ViewsReadmeExampleTest
{
    @TempDir
    Path dir;

    @Test
    void theViewsExampleDoesWhatItSays() throws Exception
    {
        try (LeasedFile f = LeasedFile.map(dir.resolve("data"), 1 << 20, Protection.READ_WRITE))
        {
            final long address = f.address;
            final DirectBuffer window;
            final BytesStore<?, Void> chronicle;
            // --- the README's example, from here
            try (Lease lease = f.space.lease(address))
            {
                MutableDirectBuffer out = AgronaView.writable(lease);      // index 0 is the region's start
                out.putLong(0, 42);
                DirectBuffer in = AgronaView.readOnly(lease, 4096, 512);   // a window: offset and int length
                BytesStore<?, Void> store = ChronicleView.writable(lease); // io.regionmm.view.chronicle
                long v = ChronicleView.readOnly(lease).readLong(0);
                // --- to here (but for these lines)
                assertEquals(42, v);
                assertEquals(512, in.capacity());
                window = in;
                chronicle = store;
            } // every view of the lease dies here
            assertThrows(IllegalStateException.class, () -> window.getLong(0));
            assertThrows(IllegalStateException.class, () -> chronicle.writeLong(0, 1));
            assertEquals(42, f.fileLong(0));
        }
    }
}
