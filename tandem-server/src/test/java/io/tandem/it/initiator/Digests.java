package io.tandem.it.initiator;

import java.util.zip.CRC32C;

/**
 * iSCSI header and data digests: CRC32C (RFC 7143 section 13.1), transmitted least significant byte
 * first (the example in RFC 3720 appendix B.4: 32 zero bytes give the wire bytes aa 36 91 8a).
 */
public final class Digests {
    private Digests() {}

    public static int crc32c(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    /** Writes the digest of {@code bytes[offset, offset+length)} into {@code out} at {@code at}, wire order. */
    public static void put(byte[] bytes, int offset, int length, byte[] out, int at) {
        int v = crc32c(bytes, offset, length);
        out[at] = (byte) v;
        out[at + 1] = (byte) (v >>> 8);
        out[at + 2] = (byte) (v >>> 16);
        out[at + 3] = (byte) (v >>> 24);
    }

    /** Reads a digest in wire order. */
    public static int read(byte[] in, int at) {
        return (in[at] & 0xff) | (in[at + 1] & 0xff) << 8 | (in[at + 2] & 0xff) << 16 | (in[at + 3] & 0xff) << 24;
    }

    public static int padded(int length) {
        return (length + 3) & ~3;
    }
}
