package io.tandem.scsi.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A logical unit's names, derived only from the target name and the LU's configured name, so every
 * node of a cluster (and every restart) reports the same identity without coordinating.
 *
 * @param naa    16-byte NAA IEEE Registered Extended designator (NAA 6h)
 * @param serial unit serial number (VPD 80h), 32 hex digits
 */
public record LuIdentity(byte[] naa, String serial) {

    /**
     * Default IEEE company identifier put in NAA designators. It is a placeholder from the
     * locally administered CID space; deployments that own an OUI/CID configure their own.
     */
    public static final int DEFAULT_COMPANY_ID = 0x7A4E00;

    public static LuIdentity derive(String targetName, String lunName, int companyId) {
        byte[] h = sha256(targetName + "\u0000" + lunName);
        byte[] naa = new byte[16];
        // NAA 6 | 24-bit company id | 36-bit vendor specific id | 64-bit vendor specific extension
        naa[0] = (byte) (0x60 | ((companyId >>> 20) & 0x0F));
        naa[1] = (byte) (companyId >>> 12);
        naa[2] = (byte) (companyId >>> 4);
        naa[3] = (byte) (((companyId & 0x0F) << 4) | (h[0] & 0x0F));
        System.arraycopy(h, 1, naa, 4, 12);
        String serial = HexFormat.of().formatHex(h, 16, 32);
        return new LuIdentity(naa, serial);
    }

    @Override
    public byte[] naa() {
        return naa.clone();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
