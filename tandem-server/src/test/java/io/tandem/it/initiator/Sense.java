package io.tandem.it.initiator;

import java.util.HexFormat;

/**
 * Decoded sense data (SPC-4 section 4.4): fixed format (response codes 70h/71h) or descriptor format
 * (72h/73h). Only the fields tests assert on are decoded; {@code raw} keeps the rest.
 */
public record Sense(int responseCode, int key, int asc, int ascq, boolean descriptorFormat, byte[] raw) {
    public static final int NO_SENSE = 0x0;
    public static final int NOT_READY = 0x2;
    public static final int MEDIUM_ERROR = 0x3;
    public static final int ILLEGAL_REQUEST = 0x5;
    public static final int UNIT_ATTENTION = 0x6;
    public static final int DATA_PROTECT = 0x7;
    public static final int ABORTED_COMMAND = 0xb;
    public static final int MISCOMPARE = 0xe;

    /** Returns null for an empty buffer; throws on an unknown response code. */
    public static Sense decode(byte[] sense) {
        if (sense == null || sense.length == 0) {
            return null;
        }
        int code = sense[0] & 0x7f;
        return switch (code) {
            case 0x70, 0x71 -> new Sense(code, at(sense, 2) & 0x0f, at(sense, 12), at(sense, 13), false, sense);
            case 0x72, 0x73 -> new Sense(code, at(sense, 1) & 0x0f, at(sense, 2), at(sense, 3), true, sense);
            default -> throw new ProtocolViolationException("unknown sense response code 0x"
                    + Integer.toHexString(code) + ": " + HexFormat.of().formatHex(sense));
        };
    }

    private static int at(byte[] b, int i) {
        return i < b.length ? b[i] & 0xff : 0;
    }

    public boolean is(int key, int asc, int ascq) {
        return this.key == key && this.asc == asc && this.ascq == ascq;
    }

    @Override
    public String toString() {
        return String.format("Sense{key=%xh, asc=%02xh, ascq=%02xh, %s}", key, asc, ascq,
                descriptorFormat ? "descriptor" : "fixed");
    }
}
