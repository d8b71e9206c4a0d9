package io.tandem.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * A CHAP name and secret. For initiator authentication the initiator must present this name
 * (CHAP_N) and prove the secret; for mutual authentication the target presents them.
 *
 * <p>The secret is copied in and out so nobody can change it behind the negotiator's back, and
 * {@link #toString()} never shows it. Minimum secret length is a policy of {@link LoginConfig}.
 */
public record ChapCredentials(String user, byte[] secret) {
    public ChapCredentials {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(secret, "secret");
        if (user.isEmpty() || user.getBytes(StandardCharsets.UTF_8).length > TextParameters.MAX_VALUE_LENGTH) {
            throw new IllegalArgumentException("CHAP user must be 1.." + TextParameters.MAX_VALUE_LENGTH + " bytes");
        }
        if (secret.length == 0 || secret.length > 255) {
            throw new IllegalArgumentException("CHAP secret must be 1..255 bytes");
        }
        secret = secret.clone();
    }

    /** Credentials whose secret is the UTF-8 bytes of {@code secret}, the usual configuration form. */
    public static ChapCredentials of(String user, String secret) {
        return new ChapCredentials(user, secret.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public byte[] secret() {
        return secret.clone();
    }

    /** Compares secrets without leaking timing. */
    boolean sameSecretAs(ChapCredentials other) {
        return MessageDigest.isEqual(secret, other.secret);
    }

    byte[] secretUnsafe() {
        return secret;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChapCredentials other && user.equals(other.user)
                && MessageDigest.isEqual(secret, other.secret);
    }

    @Override
    public int hashCode() {
        return 31 * user.hashCode() + Arrays.hashCode(secret);
    }

    @Override
    public String toString() {
        return "ChapCredentials[user=" + user + ", secret=(" + secret.length + " bytes)]";
    }
}
