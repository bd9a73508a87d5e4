/**
 * Every system call regionmm makes, through FFM downcalls.
 */
module io.regionmm.kernel {
    requires org.slf4j;

    exports io.regionmm.kernel;
    exports io.regionmm.kernel.maps;
    exports io.regionmm.kernel.fault;
}
