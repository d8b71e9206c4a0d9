package io.tandem.scsi.core;

/**
 * The changeable mode page fields of one logical unit, as one immutable value swapped atomically
 * by MODE SELECT. The pages' byte layouts live in the spc package; the data path reads these bits.
 *
 * @param writeCacheEnabled    Caching page WCE: when clear, every write is forced to stable storage
 * @param descriptorSense      Control page D_SENSE: descriptor- instead of fixed-format sense
 * @param softwareWriteProtect Control page SWP: the medium is write-protected
 */
public record ModeParameters(boolean writeCacheEnabled, boolean descriptorSense, boolean softwareWriteProtect) {

    public static final ModeParameters DEFAULTS = new ModeParameters(true, false, false);
}
