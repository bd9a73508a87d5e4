package io.regionmm.lucene;

import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.store.RandomAccessInput;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads after a file was unmapped raise {@link AlreadyClosedException} and never return bytes of another file that a
 * later map placed at the same address: through the master, clones, slices and random-access slices; after the
 * master's close, another writer's unmap of the range, and the directory's close.
 */
@Timeout(60)
class UseAfterCloseTest
{
    private static final int PAGES = 3;
    private static final int LENGTH = PAGES * 4096 - 100; // not a page multiple: the last page is partly the file's
    private static final long A_BYTES = 0xAAAAAAAAAAAAAAAAL;
    private static final long B_BYTES = 0xBBBBBBBBBBBBBBBBL;

    @TempDir
    Path path;
    private RegionDirectory dir;

    @BeforeEach
    void open() throws IOException
    {
        dir = new RegionDirectory(path);
        write("a", (byte) 0xAA);
        write("b", (byte) 0xBB);
    }

    @AfterEach
    void close() throws IOException
    {
        dir.close();
    }

    private void write(final String name, final byte b) throws IOException
    {
        try (IndexOutput out = dir.createOutput(name, IOContext.DEFAULT))
        {
            for (int i = 0; i < LENGTH; i++)
            {
                out.writeByte(b);
            }
        }
    }

    private static long start(final IndexInput in)
    {
        return ((RegionIndexInput) in).mappedFile().start();
    }

    @Test
    void readsThroughClonesAndSlicesOfAClosedInputThrowEvenWhenAnotherFileIsMappedAtItsAddress() throws IOException
    {
        final IndexInput a = dir.openInput("a", IOContext.DEFAULT);
        final IndexInput clone = a.clone();
        final IndexInput slice = a.slice("s", 8, LENGTH - 16);
        final RandomAccessInput random = a.randomAccessSlice(0, LENGTH);
        clone.seek(16);
        assertEquals(A_BYTES, clone.readLong());
        assertEquals(A_BYTES, random.readLong(LENGTH - 8));
        final long addressOfA = start(a);
        a.close();
        assertEquals(0, dir.mappedFiles());

        try (IndexInput b = dir.openInput("b", IOContext.DEFAULT))
        {
            // The space places a map in the lowest gap that fits: b lands where a was, so a stale read of a's address
            // reads b's bytes. The reads must throw instead.
            assertEquals(addressOfA, start(b), "b reuses a's address (the case this test is about)");
            assertEquals(B_BYTES, b.readLong());

            assertThrows(AlreadyClosedException.class, clone::readLong);
            assertThrows(AlreadyClosedException.class, clone::readByte);
            assertThrows(AlreadyClosedException.class, () -> clone.readBytes(new byte[64], 0, 64));
            assertThrows(AlreadyClosedException.class, () -> clone.readLongs(new long[8], 0, 8));
            assertThrows(AlreadyClosedException.class, () -> clone.readInts(new int[8], 0, 8));
            assertThrows(AlreadyClosedException.class, () -> clone.readFloats(new float[8], 0, 8));
            assertThrows(AlreadyClosedException.class, () -> clone.seek(0));
            assertThrows(AlreadyClosedException.class, clone::clone);
            assertThrows(AlreadyClosedException.class, slice::readInt);
            assertThrows(AlreadyClosedException.class, () -> slice.slice("t", 0, 8));
            assertThrows(AlreadyClosedException.class, () -> random.readLong(0));
            assertThrows(AlreadyClosedException.class, () -> random.readByte(LENGTH - 1));
            assertThrows(AlreadyClosedException.class, () -> random.readBytes(0, new byte[8], 0, 8));
            assertThrows(AlreadyClosedException.class, a::readShort);
            assertThrows(AlreadyClosedException.class, () -> clone.prefetch(0, 4096));
            a.close(); // idempotent
            assertEquals(B_BYTES, b.readLong(), "b is untouched by a's readers");
        }
    }

    @Test
    void aConcurrentReaderNeverReturnsAnotherFilesBytes() throws Exception
    {
        final long[] buffer = new long[16];
        for (int r = 0; r < 100; r++)
        {
            final int round = r;
            final IndexInput a = dir.openInput("a", IOContext.DEFAULT);
            final IndexInput clone = a.clone();
            final CountDownLatch reading = new CountDownLatch(1);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicLong reads = new AtomicLong();
            final Thread reader = new Thread(() ->
            {
                try
                {
                    while (true)
                    {
                        clone.seek(0);
                        clone.readLongs(buffer, 0, buffer.length);
                        for (final long v : buffer)
                        {
                            if (v != A_BYTES)
                            {
                                throw new AssertionError("read 0x" + Long.toHexString(v) + ", not a's bytes");
                            }
                        }
                        reads.incrementAndGet();
                        reading.countDown();
                    }
                }
                catch (final AlreadyClosedException expected)
                {
                    reading.countDown(); // the one way out
                }
                catch (final IOException | RuntimeException | AssertionError ex)
                {
                    failure.set(ex);
                    reading.countDown();
                }
            }, "reader-" + r);
            reader.start();
            assertTrue(reading.await(30, TimeUnit.SECONDS));
            a.close();
            try (IndexInput b = dir.openInput("b", IOContext.DEFAULT))
            {
                assertEquals(B_BYTES, b.readLong());
                reader.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertTrue(!reader.isAlive(), "the reader saw the close");
            assertNull(failure.get(), () -> "round " + round + ": " + failure.get());
            assertTrue(reads.get() > 0);
        }
    }

    @Test
    void anotherWritersUnmapOfTheRangeClosesTheInputBeforeTheBytesChange() throws IOException
    {
        try (IndexInput a = dir.openInput("a", IOContext.DEFAULT))
        {
            final IndexInput clone = a.clone();
            assertEquals(A_BYTES, clone.readLong());
            dir.space().unmap(start(a), PAGES * 4096L); // e.g. the regions tool: the subscription tells the input
            assertThrows(AlreadyClosedException.class, clone::readLong);
            assertThrows(AlreadyClosedException.class, a::readLong);
        }
        assertEquals(0, dir.mappedFiles());
        dir.space().verify();
    }

    @Test
    void closingTheDirectoryClosesItsInputs() throws IOException
    {
        final IndexInput a = dir.openInput("a", IOContext.DEFAULT);
        final IndexInput slice = a.slice("s", 0, 64);
        dir.close();
        assertThrows(AlreadyClosedException.class, slice::readLong);
        assertThrows(AlreadyClosedException.class, () -> ((RandomAccessInput) a).readLong(0));
        a.close();
    }

    @Test
    void aDeletedFileStaysReadableUntilItsInputCloses() throws IOException
    {
        try (IndexInput a = dir.openInput("a", IOContext.DEFAULT))
        {
            dir.deleteFile("a");
            final byte[] bytes = new byte[LENGTH];
            a.readBytes(bytes, 0, LENGTH);
            final byte[] expected = new byte[LENGTH];
            Arrays.fill(expected, (byte) 0xAA);
            assertArrayEquals(expected, bytes);
        }
    }

    @Test
    void closingACloneUnmapsNothing() throws IOException
    {
        try (IndexInput a = dir.openInput("a", IOContext.DEFAULT))
        {
            final IndexInput clone = a.clone();
            clone.close();
            assertThrows(AlreadyClosedException.class, clone::readByte);
            assertEquals(A_BYTES, a.readLong());
            assertEquals(1, dir.mappedFiles());
        }
    }
}
