/**
 * CI's consumer of regionmm: needs only the core module (which brings io.regionmm.kernel transitively).
 */
module io.regionmm.consumer {
    requires io.regionmm.region;
}
