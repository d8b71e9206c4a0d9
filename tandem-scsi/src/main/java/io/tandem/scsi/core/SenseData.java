package io.tandem.scsi.core;

/**
 * The one sense builder. Writes SPC-4 fixed format (response code 70h) or descriptor format (72h),
 * chosen by the logical unit's D_SENSE bit, with the INFORMATION field and the sense-key-specific
 * field pointer when the error carries them.
 */
public final class SenseData {

    private static final int FIXED_LENGTH = 18;
    private static final int INFORMATION_DESCRIPTOR = 0x00;
    private static final int SENSE_KEY_SPECIFIC_DESCRIPTOR = 0x02;

    private SenseData() {
    }

    public static byte[] build(SenseReason reason, boolean descriptorFormat) {
        return build(ScsiException.of(reason), descriptorFormat);
    }

    public static byte[] build(ScsiException error, boolean descriptorFormat) {
        return descriptorFormat ? descriptor(error) : fixed(error);
    }

    private static byte[] fixed(ScsiException e) {
        byte[] s = new byte[FIXED_LENGTH];
        SenseReason r = e.reason();
        s[0] = (byte) (0x70 | (e.informationValid() ? 0x80 : 0));
        s[2] = (byte) r.senseKey();
        if (e.informationValid()) {
            // Fixed format has 4 INFORMATION bytes; larger values do not fit and are clipped.
            long info = e.information();
            int value = info > 0xFFFFFFFFL ? 0xFFFFFFFF : (int) info;
            Bytes.putInt(s, 3, value);
        }
        s[7] = (byte) (FIXED_LENGTH - 8);
        s[12] = (byte) r.asc();
        s[13] = (byte) r.ascq();
        if (e.hasFieldPointer()) {
            writeFieldPointer(s, 15, e);
        } else if (e.hasProgress()) {
            writeProgress(s, 15, e);
        }
        return s;
    }

    private static byte[] descriptor(ScsiException e) {
        boolean senseKeySpecific = e.hasFieldPointer() || e.hasProgress();
        int length = 8 + (e.informationValid() ? 12 : 0) + (senseKeySpecific ? 8 : 0);
        byte[] s = new byte[length];
        SenseReason r = e.reason();
        s[0] = 0x72;
        s[1] = (byte) r.senseKey();
        s[2] = (byte) r.asc();
        s[3] = (byte) r.ascq();
        s[7] = (byte) (length - 8);
        int p = 8;
        if (e.informationValid()) {
            s[p] = INFORMATION_DESCRIPTOR;
            s[p + 1] = 0x0A;
            s[p + 2] = (byte) 0x80; // VALID
            Bytes.putLong(s, p + 4, e.information());
            p += 12;
        }
        if (senseKeySpecific) {
            s[p] = SENSE_KEY_SPECIFIC_DESCRIPTOR;
            s[p + 1] = 0x06;
            if (e.hasFieldPointer()) {
                writeFieldPointer(s, p + 4, e);
            } else {
                writeProgress(s, p + 4, e);
            }
        }
        return s;
    }

    /** SKSV=1, then the two-byte PROGRESS INDICATION. */
    private static void writeProgress(byte[] s, int at, ScsiException e) {
        s[at] = (byte) 0x80;
        Bytes.putShort(s, at + 1, e.progress());
    }

    /** SKSV=1, C/D, BPV + BIT POINTER, then the two-byte FIELD POINTER. */
    private static void writeFieldPointer(byte[] s, int at, ScsiException e) {
        int b = 0x80;
        if (e.fieldInCdb()) {
            b |= 0x40;
        }
        if (e.fieldBit() >= 0) {
            b |= 0x08 | (e.fieldBit() & 0x07);
        }
        s[at] = (byte) b;
        Bytes.putShort(s, at + 1, e.fieldByte());
    }
}
