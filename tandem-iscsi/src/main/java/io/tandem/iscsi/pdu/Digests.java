package io.tandem.iscsi.pdu;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** iSCSI CRC32C digests (RFC 7143 §13.1). The 32-bit value travels least significant byte first. */
public final class Digests {
    private Digests() {
    }

    public static final int LENGTH = 4;

    /** CRC32C over {@code length} bytes of {@code buffer} from {@code offset}, then {@code pad} zero bytes. */
    public static int crc32c(ByteBuffer buffer, int offset, int length, int pad) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(offset, length));
        if (pad > 0) {
            crc.update(ZERO_PAD, 0, pad);
        }
        return (int) crc.getValue();
    }

    /** Reads a digest from the wire at the buffer's position order-independently. */
    public static int readWire(ByteBuffer fourBytes) {
        return (fourBytes.get(0) & 0xff) | (fourBytes.get(1) & 0xff) << 8
                | (fourBytes.get(2) & 0xff) << 16 | (fourBytes.get(3) & 0xff) << 24;
    }

    public static void writeWire(ByteBuffer into, int offset, int digest) {
        into.put(offset, (byte) digest);
        into.put(offset + 1, (byte) (digest >>> 8));
        into.put(offset + 2, (byte) (digest >>> 16));
        into.put(offset + 3, (byte) (digest >>> 24));
    }

    public static int padding(int length) {
        return (4 - (length & 3)) & 3;
    }

    private static final byte[] ZERO_PAD = new byte[4];
}
