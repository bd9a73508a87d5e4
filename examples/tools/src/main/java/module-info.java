/**
 * Programs built on regionmm: the regions tool and the logstore.
 */
module io.regionmm.examples {
    requires transitive io.regionmm.region;
    // the shell's `index` command: a Lucene index read through a RegionDirectory in the shell's space
    requires io.regionmm.lucene;
    requires info.picocli;
    requires org.slf4j;
    requires HdrHistogram;

    exports io.regionmm.examples.logstore;

    opens io.regionmm.examples.regions to info.picocli;
    opens io.regionmm.examples.logstore to info.picocli;
}
