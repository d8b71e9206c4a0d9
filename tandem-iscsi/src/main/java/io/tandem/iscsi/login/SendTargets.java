package io.tandem.iscsi.login;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes SendTargets answers (RFC 7143 appendix C): for each target a TargetName pair followed
 * by its TargetAddress pairs. TargetName repeats within one answer, which is why this does not
 * go through {@link TextParameters}.
 */
public final class SendTargets {
    private SendTargets() {
    }

    /**
     * A TargetAddress value: "host:port,tpgt", with an IPv6 literal in brackets.
     *
     * @param host a DNS name, IPv4 literal or IPv6 literal (bracketed or not)
     */
    public static String address(String host, int port, int portalGroupTag) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535");
        }
        if (portalGroupTag < 0 || portalGroupTag > 65535) {
            throw new IllegalArgumentException("portal group tag must be 0..65535");
        }
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return h + ":" + port + "," + portalGroupTag;
    }

    /** The answer's data segment. */
    public static byte[] encode(List<SendTargetsEntry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * Math.max(1, entries.size()));
        for (SendTargetsEntry entry : entries) {
            pair(out, LoginKeys.TARGET_NAME, entry.targetName());
            for (String address : entry.addresses()) {
                pair(out, LoginKeys.TARGET_ADDRESS, address);
            }
        }
        return out.toByteArray();
    }

    private static void pair(ByteArrayOutputStream out, String key, String value) {
        out.writeBytes(key.getBytes(StandardCharsets.US_ASCII));
        out.write('=');
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    /**
     * Cuts a response data segment into pieces of at most {@code maxSegmentLength} bytes, the
     * initiator's MaxRecvDataSegmentLength. Every piece but the last goes out with the C bit set.
     */
    public static List<byte[]> split(byte[] data, int maxSegmentLength) {
        if (maxSegmentLength <= 0) {
            throw new IllegalArgumentException("maxSegmentLength must be positive");
        }
        List<byte[]> pieces = new ArrayList<>();
        for (int off = 0; off < data.length; off += maxSegmentLength) {
            int len = Math.min(maxSegmentLength, data.length - off);
            byte[] piece = new byte[len];
            System.arraycopy(data, off, piece, 0, len);
            pieces.add(piece);
        }
        if (pieces.isEmpty()) {
            pieces.add(new byte[0]);
        }
        return pieces;
    }
}
