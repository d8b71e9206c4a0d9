package io.tandem.it.initiator;

import java.util.List;
import java.util.Objects;

/**
 * CHAP settings for one login: the initiator's name and secret, the algorithms offered (in order of
 * preference), and optionally the credentials the target must prove for mutual CHAP.
 */
public record ChapCredentials(
        String user,
        String secret,
        List<ChapAlgorithm> algorithms,
        String targetUser,
        String targetSecret) {

    public ChapCredentials {
        Objects.requireNonNull(user);
        Objects.requireNonNull(secret);
        algorithms = List.copyOf(algorithms);
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("offer at least one CHAP algorithm");
        }
        if ((targetUser == null) != (targetSecret == null)) {
            throw new IllegalArgumentException("mutual CHAP needs both target user and secret");
        }
    }

    public static ChapCredentials oneWay(String user, String secret, ChapAlgorithm... algorithms) {
        return new ChapCredentials(user, secret, List.of(algorithms), null, null);
    }

    public static ChapCredentials mutual(String user, String secret, String targetUser, String targetSecret,
                                         ChapAlgorithm... algorithms) {
        return new ChapCredentials(user, secret, List.of(algorithms), targetUser, targetSecret);
    }

    public boolean isMutual() {
        return targetUser != null;
    }
}
