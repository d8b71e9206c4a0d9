package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginKeys.CHAP_A;
import static io.tandem.iscsi.login.LoginKeys.CHAP_C;
import static io.tandem.iscsi.login.LoginKeys.CHAP_I;
import static io.tandem.iscsi.login.LoginKeys.CHAP_N;
import static io.tandem.iscsi.login.LoginKeys.CHAP_R;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * The target side of one CHAP exchange in the security stage (RFC 7143 section 12.1.3, RFC 1994):
 *
 * <ol>
 *   <li>initiator: CHAP_A=&lt;A1,A2,...&gt;; target: CHAP_A=&lt;A&gt;, CHAP_I, CHAP_C</li>
 *   <li>initiator: CHAP_N, CHAP_R and, for mutual authentication, CHAP_I and CHAP_C;
 *       target: nothing, or CHAP_N and CHAP_R proving its own secret</li>
 * </ol>
 *
 * Every failure is an authentication failure (0x0201), except keys arriving after the exchange
 * ended, which are a protocol error.
 */
final class ChapAuthenticator {
    private enum Phase { AWAIT_ALGORITHM, AWAIT_RESPONSE, DONE }

    private final ChapCredentials expected;
    private final ChapCredentials mutual;
    private final List<ChapAlgorithm> allowed;
    private final SecureRandom random;

    private Phase phase = Phase.AWAIT_ALGORITHM;
    private ChapAlgorithm algorithm;
    private int identifier;
    private byte[] challenge;

    /**
     * @param expected the name and secret the initiator must prove
     * @param mutual the name and secret the target proves if asked, or null to refuse mutual CHAP
     * @param allowed algorithms the target accepts
     */
    ChapAuthenticator(ChapCredentials expected, ChapCredentials mutual, List<ChapAlgorithm> allowed,
                      SecureRandom random) {
        this.expected = expected;
        this.mutual = mutual;
        this.allowed = allowed;
        this.random = random;
    }

    static boolean isChapKey(String key) {
        return key.startsWith("CHAP_");
    }

    boolean succeeded() {
        return phase == Phase.DONE;
    }

    ChapAlgorithm algorithm() {
        return algorithm;
    }

    /** Feeds the CHAP keys of one request; adds the target's CHAP keys to {@code reply}. */
    void process(TextParameters request, TextParameters.Builder reply) throws LoginException {
        switch (phase) {
            case AWAIT_ALGORITHM -> chooseAlgorithm(request, reply);
            case AWAIT_RESPONSE -> verifyResponse(request, reply);
            case DONE -> {
                for (TextParameters.KeyValue kv : request.entries()) {
                    if (isChapKey(kv.key())) {
                        throw new LoginException(LoginStatus.INITIATOR_ERROR, kv.key() + " after CHAP completed");
                    }
                }
            }
        }
    }

    private void chooseAlgorithm(TextParameters request, TextParameters.Builder reply) throws LoginException {
        String offered = request.get(CHAP_A);
        if (offered == null) {
            if (request.contains(CHAP_N) || request.contains(CHAP_R) || request.contains(CHAP_I)
                    || request.contains(CHAP_C)) {
                throw fail("CHAP response before CHAP_A was negotiated");
            }
            return;
        }
        for (String token : NegotiationType.split(offered)) {
            ChapAlgorithm candidate = ChapAlgorithm.fromCode(TextValues.parseNumber(token));
            if (candidate != null && allowed.contains(candidate)) {
                algorithm = candidate;
                break;
            }
        }
        if (algorithm == null) {
            throw fail("no acceptable CHAP algorithm in CHAP_A=" + offered);
        }
        identifier = random.nextInt(256);
        challenge = new byte[algorithm.challengeLength()];
        random.nextBytes(challenge);
        reply.add(CHAP_A, Integer.toString(algorithm.code()));
        reply.add(CHAP_I, Integer.toString(identifier));
        reply.add(CHAP_C, TextValues.formatBinary(challenge));
        phase = Phase.AWAIT_RESPONSE;
    }

    private void verifyResponse(TextParameters request, TextParameters.Builder reply) throws LoginException {
        if (request.contains(CHAP_A)) {
            throw fail("CHAP_A sent twice");
        }
        String name = request.get(CHAP_N);
        String responseText = request.get(CHAP_R);
        if (name == null || responseText == null) {
            throw fail("CHAP_N and CHAP_R expected");
        }
        byte[] response = TextValues.parseBinary(responseText);
        if (response == null || response.length != algorithm.digestLength()) {
            throw fail("malformed CHAP_R");
        }
        byte[] wanted = algorithm.response(identifier, expected.secretUnsafe(), challenge);
        // Evaluate both checks before deciding, so timing reveals nothing about which one failed.
        boolean nameMatches = name.equals(expected.user());
        boolean responseMatches = MessageDigest.isEqual(response, wanted);
        if (!(nameMatches & responseMatches)) {
            throw fail("CHAP credentials do not match");
        }
        if (mutual != null
                && MessageDigest.isEqual(response, algorithm.response(identifier, mutual.secretUnsafe(), challenge))) {
            // RFC 7143 section 12.1.3: a response the receiver itself would have produced means
            // one secret serves both directions.
            throw fail("CHAP response computed with the target's own secret");
        }

        String mutualId = request.get(CHAP_I);
        String mutualChallengeText = request.get(CHAP_C);
        if (mutualId != null || mutualChallengeText != null) {
            answerMutualChallenge(mutualId, mutualChallengeText, reply);
        }
        phase = Phase.DONE;
    }

    private void answerMutualChallenge(String idText, String challengeText, TextParameters.Builder reply)
            throws LoginException {
        if (idText == null || challengeText == null) {
            throw fail("mutual CHAP needs both CHAP_I and CHAP_C");
        }
        if (mutual == null) {
            throw fail("initiator asks the target to authenticate but no target credentials are configured");
        }
        long id = TextValues.parseNumber(idText);
        if (id < 0 || id > 255) {
            throw fail("CHAP_I out of range");
        }
        byte[] initiatorChallenge = TextValues.parseBinary(challengeText);
        if (initiatorChallenge == null || initiatorChallenge.length == 0
                || initiatorChallenge.length > ChapAlgorithm.MAX_CHALLENGE_LENGTH) {
            throw fail("malformed CHAP_C");
        }
        if (MessageDigest.isEqual(initiatorChallenge, challenge)) {
            // Answering our own challenge would hand an attacker the response it needs (reflection).
            throw fail("initiator reflected the target's CHAP challenge");
        }
        byte[] answer = algorithm.response((int) id, mutual.secretUnsafe(), initiatorChallenge);
        reply.add(CHAP_N, mutual.user());
        reply.add(CHAP_R, TextValues.formatBinary(answer));
    }

    private static LoginException fail(String reason) {
        return new LoginException(LoginStatus.AUTHENTICATION_FAILURE, reason);
    }
}
