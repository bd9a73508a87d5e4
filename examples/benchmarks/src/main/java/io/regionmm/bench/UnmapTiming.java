package io.regionmm.bench;

import io.regionmm.kernel.Kernel;
import io.regionmm.kernel.Mman;
import io.regionmm.region.Protection;
import io.regionmm.region.Sharing;
import io.regionmm.space.MapOptions;

/**
 * Unmap timed one call at a time, outside JMH, against the one system call it makes on a mirror of the same layout
 * (see {@link UnmapBenchmark}), both in the same loop: {@code mvn -q -B process-classes -Pbench
 * -Dbench.main=io.regionmm.bench.UnmapTiming -Dbench.args="REGIONS reader|none"}. JMH's per-invocation setup
 * (which maps the region back right before each timed unmap) adds its own effects at this scale; this loop shows
 * the cost without them. Prints one line per round of 100 000 unmaps.
 */
public final class UnmapTiming
{
    private static volatile boolean stop;

    private UnmapTiming()
    {
    }

    /**
     * @param args the number of regions (default 64), and "reader" to read the other regions on another thread.
     * @throws Exception when the fixture cannot be set up.
     */
    public static void main(final String[] args) throws Exception
    {
        final int n = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        final boolean withReader = args.length > 1 && args[1].equals("reader");
        final long page = Fixture.PAGE;
        try (Fixture fx = new Fixture(n))
        {
            final Kernel k = Kernel.system();
            final long mirror = k.mmap(0, Math.max(1L << 30, 4 * n * page), Mman.PROT_READ,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
            for (int i = 0; i < n; i++)
            {
                final int prot = i % 2 == 0 ? Mman.PROT_READ : Mman.PROT_READ | Mman.PROT_WRITE; // as the fixture's
                k.mmap(mirror + i * page, page, prot, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd, i * page);
            }
            final int last = n - 1;
            final Protection lastProtection = last % 2 == 0 ? Protection.READ : Protection.READ_WRITE;
            final int lastProt = last % 2 == 0 ? Mman.PROT_READ : Mman.PROT_READ | Mman.PROT_WRITE;
            final long at = fx.base + last * page;
            final long mirrorAt = mirror + last * page;
            final Thread reader = new Thread(() -> {
                long sum = 0;
                int i = 0;
                while (!stop)
                {
                    // Regions 0 .. n-2: never the one unmapped.
                    sum += fx.space.readLong(fx.base + ((i++ & 0x7fff_ffff) * 7919L % last) * page);
                }
                if (sum == 42)
                {
                    System.out.println(); // keeps the loop's reads
                }
            }, "reader");
            reader.setDaemon(true);
            if (withReader)
            {
                reader.start();
            }
            final int calls = 100_000;
            for (int round = 0; round < 10; round++)
            {
                long ours = 0;
                long bare = 0;
                for (int i = 0; i < calls; i++)
                {
                    final long t0 = System.nanoTime();
                    fx.space.unmap(at, page);
                    final long t1 = System.nanoTime();
                    fx.space.map(fx.file, last * page, page, lastProtection, Sharing.SHARED,
                        MapOptions.DEFAULT.at(at));
                    final long t2 = System.nanoTime();
                    Fixture.tombstone(mirrorAt);
                    final long t3 = System.nanoTime();
                    k.mmap(mirrorAt, page, lastProt, Mman.MAP_SHARED | Mman.MAP_FIXED, fx.fd, last * page);
                    ours += t1 - t0;
                    bare += t3 - t2;
                }
                System.out.printf("%d regions%s: regionmm unmap %.2f us, the same tombstone call on the mirror %.2f" +
                    " us: %.2fx%n", n, withReader ? ", reader" : "", ours / 1e3 / calls, bare / 1e3 / calls,
                    (double)ours / bare);
            }
            stop = true;
            reader.join();
            k.munmap(mirror, Math.max(1L << 30, 4 * n * page));
        }
    }
}
