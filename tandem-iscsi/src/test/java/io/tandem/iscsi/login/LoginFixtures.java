package io.tandem.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/** Targets, credentials and an independent CHAP calculator shared by the login tests. */
final class LoginFixtures {
    static final String INITIATOR = "iqn.2004-10.com.ubuntu:client";
    static final String OPEN_TARGET = "iqn.2024-01.io.tandem:open";
    static final String CHAP_TARGET = "iqn.2024-01.io.tandem:chap";
    static final String MUTUAL_TARGET = "iqn.2024-01.io.tandem:mutual";
    static final String ACL_TARGET = "iqn.2024-01.io.tandem:acl";
    static final String WEAK_TARGET = "iqn.2024-01.io.tandem:weak";

    static final ChapCredentials INITIATOR_CHAP = ChapCredentials.of("client-user", "client-secret-0123");
    static final ChapCredentials TARGET_CHAP = ChapCredentials.of("target-user", "target-secret-4567");

    static final Map<String, TargetInfo> TARGETS = Map.of(
            OPEN_TARGET, new TargetInfo(OPEN_TARGET, "open disk", null, 1),
            CHAP_TARGET, new TargetInfo(CHAP_TARGET, null, INITIATOR_CHAP, 2),
            MUTUAL_TARGET, new TargetInfo(MUTUAL_TARGET, null, INITIATOR_CHAP, TARGET_CHAP, 3),
            ACL_TARGET, new TargetInfo(ACL_TARGET, null, null, null, 4, Set.of("IQN.2004-10.com.ubuntu:CLIENT")),
            WEAK_TARGET, new TargetInfo(WEAK_TARGET, null, ChapCredentials.of("u", "short"), 5));

    private LoginFixtures() {
    }

    static LoginConfig.Builder configBuilder() {
        return LoginConfig.builder(TARGETS::get);
    }

    static LoginConfig config() {
        return configBuilder().build();
    }

    static LoginConfig config(TargetPreferences preferences) {
        return configBuilder().preferences(preferences).build();
    }

    /** CHAP response computed here with MessageDigest, independent of {@link ChapAlgorithm}. */
    static String chapResponse(String jcaAlgorithm, int identifier, ChapCredentials credentials, byte[] challenge) {
        try {
            MessageDigest md = MessageDigest.getInstance(jcaAlgorithm);
            md.update((byte) identifier);
            md.update(credentials.secret());
            md.update(challenge);
            return "0x" + HexFormat.of().withUpperCase().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] hexValue(String value) {
        if (!value.startsWith("0x")) {
            throw new AssertionError("target should send hex: " + value);
        }
        return HexFormat.of().parseHex(value.substring(2));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
