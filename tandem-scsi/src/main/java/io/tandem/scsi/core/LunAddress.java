package io.tandem.scsi.core;

/**
 * SAM-5 single-level LUN addressing: peripheral device (00b, LUN 0..255) and flat space
 * (01b, LUN 0..16383) in the first two bytes of the 8-byte LUN field, the other six bytes zero.
 */
public final class LunAddress {

    /** Returned for any LUN field this target cannot address (multi-level, extended, W-LUNs). */
    public static final int UNADDRESSABLE = -1;

    private LunAddress() {
    }

    /** Decodes the 8-byte LUN field (as a big-endian long) to a LUN number, or {@link #UNADDRESSABLE}. */
    public static int decode(long field) {
        if ((field & 0x0000_FFFF_FFFF_FFFFL) != 0) {
            return UNADDRESSABLE;
        }
        int first = (int) (field >>> 56) & 0xFF;
        int second = (int) (field >>> 48) & 0xFF;
        return switch (first >>> 6) {
            case 0b00 -> (first & 0x3F) == 0 ? second : UNADDRESSABLE; // bus identifier must be 0
            case 0b01 -> ((first & 0x3F) << 8) | second;
            default -> UNADDRESSABLE;
        };
    }

    /** Encodes a LUN number the way REPORT LUNS lists it: peripheral below 256, flat above. */
    public static long encode(int lun) {
        if (lun < 0 || lun > 0x3FFF) {
            throw new IllegalArgumentException("LUN out of single-level range: " + lun);
        }
        long firstTwo = lun < 256 ? lun : (0x4000 | lun);
        return firstTwo << 48;
    }
}
