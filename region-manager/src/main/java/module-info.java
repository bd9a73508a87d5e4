/**
 * regionmm's core: an address space of mmap'd file regions with the kernel's mm concurrency design.
 */
module io.regionmm.region {
    requires transitive io.regionmm.kernel;
    requires org.slf4j;
    requires org.agrona;

    exports io.regionmm.space;
    exports io.regionmm.region;
    exports io.regionmm.map;
    exports io.regionmm.lock;
}
