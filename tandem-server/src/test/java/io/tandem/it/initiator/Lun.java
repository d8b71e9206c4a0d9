package io.tandem.it.initiator;

/** LUN field encoding (SAM-5 section 4.7): peripheral addressing below 256, flat addressing up to 16383. */
public final class Lun {
    private Lun() {}

    public static long encode(int lun) {
        if (lun < 0 || lun > 0x3fff) {
            throw new IllegalArgumentException("LUN out of single-level range: " + lun);
        }
        if (lun < 256) {
            return (long) lun << 48;
        }
        return ((long) (0x40 | (lun >> 8)) << 56) | ((long) (lun & 0xff) << 48);
    }

    public static int decode(long field) {
        int b0 = (int) (field >>> 56) & 0xff;
        int b1 = (int) (field >>> 48) & 0xff;
        return switch (b0 >> 6) {
            case 0 -> b1;
            case 1 -> ((b0 & 0x3f) << 8) | b1;
            default -> throw new IllegalArgumentException("unsupported LUN address method: " + Long.toHexString(field));
        };
    }
}
