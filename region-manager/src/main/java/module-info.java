/**
 * regionmm's core: an address space of mmap'd file regions with the kernel's mm concurrency design.
 */
module io.regionmm.region {
    requires transitive io.regionmm.kernel;
    requires org.slf4j;
    requires org.agrona;

    // The front door: the space, its value types, leases and exceptions. The protocol (lock) and the map's data
    // structures (map) are internal: nothing outside can change a count, a lock word or a map. The lock package's
    // RacePoint.install is for tests only and stays unexported (it also refuses unless -Dregionmm.racePoints=true).
    exports io.regionmm.space;
    exports io.regionmm.region;
}
