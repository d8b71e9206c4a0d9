package io.tandem.iscsi.login;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * CHAP hash algorithms by their number in the IANA "PPP Authentication Algorithms" registry, the
 * values of the CHAP_A key (RFC 7143 section 12.1.3). MD5 is the one RFC 7143 requires; the
 * SHA variants are what current open-iscsi and libiscsi also offer.
 */
public enum ChapAlgorithm {
    MD5(5, "MD5", 16),
    SHA1(6, "SHA-1", 20),
    SHA256(7, "SHA-256", 32),
    SHA3_256(8, "SHA3-256", 32);

    /** RFC 7143 section 12.1.3 bounds a CHAP challenge at 1024 bytes. */
    public static final int MAX_CHALLENGE_LENGTH = 1024;

    private final int code;
    private final String jcaName;
    private final int digestLength;

    ChapAlgorithm(int code, String jcaName, int digestLength) {
        this.code = code;
        this.jcaName = jcaName;
        this.digestLength = digestLength;
    }

    /** The CHAP_A value. */
    public int code() {
        return code;
    }

    /** Length of a CHAP_R value in bytes. */
    public int digestLength() {
        return digestLength;
    }

    /**
     * Length of the challenges this target sends: at least 16 bytes, and as long as the digest
     * so the challenge carries as much entropy as the hash can use.
     */
    public int challengeLength() {
        return Math.max(16, digestLength);
    }

    /** The algorithm with CHAP_A value {@code code}, or null if this target knows none. */
    public static ChapAlgorithm fromCode(long code) {
        for (ChapAlgorithm a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        return null;
    }

    /** The CHAP response: hash(identifier byte || secret || challenge) (RFC 1994 section 4.1). */
    public byte[] response(int identifier, byte[] secret, byte[] challenge) {
        MessageDigest md = newDigest();
        md.update((byte) identifier);
        md.update(secret);
        md.update(challenge);
        return md.digest();
    }

    private MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            // Every one of these is a mandatory JDK algorithm.
            throw new IllegalStateException(jcaName + " missing from the JDK", e);
        }
    }
}
