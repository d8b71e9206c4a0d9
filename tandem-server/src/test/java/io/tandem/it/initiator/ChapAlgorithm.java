package io.tandem.it.initiator;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** CHAP_A values (RFC 7143 section 12.1.3; IANA "PPP Authentication Algorithms" registry). */
public enum ChapAlgorithm {
    MD5(5, "MD5"),
    SHA1(6, "SHA-1"),
    SHA256(7, "SHA-256"),
    SHA3_256(8, "SHA3-256");

    private final int code;
    private final String jcaName;

    ChapAlgorithm(int code, String jcaName) {
        this.code = code;
        this.jcaName = jcaName;
    }

    public int code() { return code; }

    public int digestLength() {
        return newDigest().getDigestLength();
    }

    public static ChapAlgorithm ofCode(int code) {
        for (ChapAlgorithm a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        throw new ProtocolViolationException("unknown CHAP_A " + code);
    }

    /** CHAP response: H(identifier octet || secret || challenge), RFC 1994 section 4.1. */
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
            throw new IllegalStateException(e);
        }
    }
}
