package io.tandem.scsi.core;

/** Big-endian field access for CDBs and parameter data (SCSI is big-endian throughout). */
public final class Bytes {

    private Bytes() {
    }

    public static int u8(byte[] b, int at) {
        return b[at] & 0xFF;
    }

    public static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    public static int u24(byte[] b, int at) {
        return ((b[at] & 0xFF) << 16) | ((b[at + 1] & 0xFF) << 8) | (b[at + 2] & 0xFF);
    }

    public static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8)
                | (b[at + 3] & 0xFF);
    }

    /** All 64 bits; callers treat the result as unsigned (negative means >= 2^63). */
    public static long u64(byte[] b, int at) {
        return (u32(b, at) << 32) | u32(b, at + 4);
    }

    public static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    public static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    public static void putInt(byte[] b, int at, long v) {
        putInt(b, at, (int) v);
    }

    public static void putLong(byte[] b, int at, long v) {
        putInt(b, at, (int) (v >>> 32));
        putInt(b, at + 4, (int) v);
    }

    /** Writes {@code text} as ASCII into {@code width} bytes, space padded and truncated. */
    public static void putAscii(byte[] b, int at, int width, String text) {
        for (int i = 0; i < width; i++) {
            char c = i < text.length() ? text.charAt(i) : ' ';
            b[at + i] = (byte) (c >= 0x20 && c <= 0x7E ? c : '?');
        }
    }
}
