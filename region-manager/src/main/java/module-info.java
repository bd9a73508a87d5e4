/**
 * regionmm's core: an address space of mmap'd file regions with the kernel's mm concurrency design.
 */
module io.regionmm.region {
    requires transitive io.regionmm.kernel;
    requires org.slf4j;
    // Transitive: the Agrona view returns Agrona's buffer types.
    requires transitive org.agrona;
    // Optional (static): only the Chronicle view (io.regionmm.view.chronicle) uses it; who never asks for that view
    // needs neither its jars nor its JVM flags. Not transitive: javac would then demand Chronicle from every module
    // that requires ours; a module that uses the Chronicle view requires chronicle.bytes itself.
    requires static chronicle.bytes;
    requires static chronicle.core;

    // The front door: the space, its value types, leases and exceptions. The protocol (lock) and the map's data
    // structures (map) are internal: nothing outside can change a count, a lock word or a map. The lock package's
    // RacePoint.install is for tests only and stays unexported (it also refuses unless -Dregionmm.racePoints=true).
    exports io.regionmm.space;
    exports io.regionmm.region;
    // The views of a lease's memory: Agrona's buffers, Chronicle's bytes (optional dependency). The guard they
    // check (io.regionmm.guard) is internal.
    exports io.regionmm.view;
    exports io.regionmm.view.chronicle;
}
