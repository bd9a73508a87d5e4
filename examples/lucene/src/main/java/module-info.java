/**
 * A Lucene {@code Directory} over regionmm: index files read as regions of an address space.
 */
module io.regionmm.lucene {
    requires transitive org.apache.lucene.core;
    requires transitive io.regionmm.region;
    requires org.slf4j;

    exports io.regionmm.lucene;
    exports io.regionmm.lucene.corpus;
}
