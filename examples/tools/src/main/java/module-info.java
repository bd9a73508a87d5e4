/**
 * Programs built on regionmm: the regions tool.
 */
module io.regionmm.examples {
    requires io.regionmm.region;
    requires info.picocli;
    requires org.slf4j;

    opens io.regionmm.examples.regions to info.picocli;
}
