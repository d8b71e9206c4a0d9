package io.tandem.scsi.pr;

import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

/**
 * iSCSI TransportIDs (SPC-4 7.6.4.6), the only protocol Tandem serves:
 * <pre>
 *   byte 0      FORMAT CODE (bits 7-6) | PROTOCOL IDENTIFIER (bits 3-0) = 5h
 *   bytes 2-3   ADDITIONAL LENGTH (a multiple of 4, at least 20)
 *   bytes 4-    format 00b: iSCSI NAME, null-terminated, padded       (the initiator device)
 *               format 01b: "name,i,0x" + 12 hex digits of the ISID   (one initiator port)
 * </pre>
 * Parsed into the initiator port text {@link NexusIds} stores.
 */
public final class TransportIds {

    static final int ISCSI = 0x5;
    static final int FORMAT_NAME = 0b00;
    static final int FORMAT_PORT = 0b01;
    private static final int MIN_ADDITIONAL_LENGTH = 20;
    private static final int MAX_NAME = 223;

    /** A parsed TransportID: the initiator port (or device) text and how many bytes it took. */
    record Parsed(String initiatorPort, int length) {
    }

    private TransportIds() {
    }

    /**
     * Parses the TransportID at {@code at} of a parameter list whose TransportIDs end at {@code end}.
     * Errors point into the parameter list.
     */
    static Parsed parse(byte[] data, int at, int end) {
        if (end - at < 4) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        int format = (data[at] >> 6) & 0x3;
        int protocol = data[at] & 0x0F;
        if (protocol != ISCSI || (data[at] & 0x30) != 0) {
            throw ScsiException.invalidParameterField(at, 3);
        }
        if (format != FORMAT_NAME && format != FORMAT_PORT) {
            throw ScsiException.invalidParameterField(at, 7);
        }
        int additional = Bytes.u16(data, at + 2);
        if (additional < MIN_ADDITIONAL_LENGTH || additional % 4 != 0) {
            throw ScsiException.invalidParameterField(at + 2, 7);
        }
        int length = 4 + additional;
        if (at + length > end) {
            throw ScsiException.invalidParameterField(at + 2, 7);
        }
        int nul = -1;
        for (int i = at + 4; i < at + length; i++) {
            if (data[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul <= at + 4) {
            throw ScsiException.invalidParameterField(at + 4, 7);
        }
        String text = new String(data, at + 4, nul - (at + 4), StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
        return new Parsed(format == FORMAT_PORT ? portText(text, at) : nameText(text, at), length);
    }

    private static String nameText(String name, int at) {
        if (name.length() > MAX_NAME || name.contains(",") || !validName(name)) {
            throw ScsiException.invalidParameterField(at + 4, 7);
        }
        return name;
    }

    private static String portText(String text, int at) {
        int sep = text.indexOf(NexusIds.PORT_SEPARATOR);
        if (sep <= 0) {
            throw ScsiException.invalidParameterField(at + 4, 7);
        }
        String name = nameText(text.substring(0, sep), at);
        String isidHex = text.substring(sep + NexusIds.PORT_SEPARATOR.length());
        if (isidHex.isEmpty() || isidHex.length() > 12 || !isidHex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw ScsiException.invalidParameterField(at + 4 + sep, 7);
        }
        return NexusIds.initiatorPort(name, HexFormat.fromHexDigitsToLong(isidHex));
    }

    /** iSCSI names are printable ASCII without spaces (RFC 7143 3.2.6.2). */
    private static boolean validName(String name) {
        return name.chars().allMatch(c -> c > 0x20 && c < 0x7F);
    }

    /** The TransportID of a stored initiator port: format 01b for a port, 00b for a device name. */
    static byte[] render(String initiatorPort) {
        boolean port = initiatorPort.contains(NexusIds.PORT_SEPARATOR);
        byte[] text = initiatorPort.getBytes(StandardCharsets.UTF_8);
        int additional = Math.max(MIN_ADDITIONAL_LENGTH, (text.length + 1 + 3) & ~3); // null-terminated, padded to 4
        byte[] id = new byte[4 + additional];
        id[0] = (byte) (((port ? FORMAT_PORT : FORMAT_NAME) << 6) | ISCSI);
        Bytes.putShort(id, 2, additional);
        System.arraycopy(text, 0, id, 4, text.length);
        return id;
    }
}
