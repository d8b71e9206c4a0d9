package io.tandem.it.initiator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives one login (RFC 7143 sections 6.1-6.3, 11.12, 11.13, 12) over a fresh {@link PduChannel}:
 * security stage (None or CHAP, optionally mutual), operational stage, transition to full feature.
 * Every answer of the target is checked against what was offered, so a negotiation bug in the
 * target surfaces as a {@link ProtocolViolationException} instead of silent misbehaviour later.
 */
public final class LoginNegotiator {
    private static final int STAGE_SECURITY = 0;
    private static final int STAGE_OPERATIONAL = 1;
    private static final int STAGE_FULL_FEATURE = 3;
    private static final int FLAG_TRANSIT = 0x80;
    private static final int FLAG_CONTINUE = 0x40;
    private static final int MAX_ROUNDS = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** How the target may answer a key we offered (RFC 7143 section 13). */
    private enum Rule { LIST, NUMERIC_MIN, NUMERIC_MAX, BOOLEAN_AND, BOOLEAN_OR, DECLARATIVE }

    private static final Map<String, Rule> RULES = Map.ofEntries(
            Map.entry("HeaderDigest", Rule.LIST),
            Map.entry("DataDigest", Rule.LIST),
            Map.entry("MaxConnections", Rule.NUMERIC_MIN),
            Map.entry("InitialR2T", Rule.BOOLEAN_OR),
            Map.entry("ImmediateData", Rule.BOOLEAN_AND),
            Map.entry("MaxRecvDataSegmentLength", Rule.DECLARATIVE),
            Map.entry("MaxBurstLength", Rule.NUMERIC_MIN),
            Map.entry("FirstBurstLength", Rule.NUMERIC_MIN),
            Map.entry("DefaultTime2Wait", Rule.NUMERIC_MAX),
            Map.entry("DefaultTime2Retain", Rule.NUMERIC_MIN),
            Map.entry("MaxOutstandingR2T", Rule.NUMERIC_MIN),
            Map.entry("DataPDUInOrder", Rule.BOOLEAN_OR),
            Map.entry("DataSequenceInOrder", Rule.BOOLEAN_OR),
            Map.entry("ErrorRecoveryLevel", Rule.NUMERIC_MIN));

    private final PduChannel channel;
    private final LoginOptions options;
    private final int itt = 0x10000000 | RANDOM.nextInt(0x0fffffff);
    private int expStatSn;
    private int tsih;
    private int expCmdSn;
    private int maxCmdSn;
    private boolean firstResponse = true;
    /** Every key the target sent during this login, last value wins. */
    private final Map<String, String> targetKeys = new LinkedHashMap<>();
    /** Keys we offered in the operational stage and the values offered. */
    private final Map<String, String> offered = new LinkedHashMap<>();
    /** Final negotiated value per key (answers to our offers and our answers to target offers). */
    private final Map<String, String> agreed = new HashMap<>();

    private LoginNegotiator(PduChannel channel, LoginOptions options) {
        this.channel = channel;
        this.options = options;
    }

    /**
     * Performs the whole login. On success the channel has digests switched on as negotiated.
     *
     * @throws LoginException the target answered with a non-success status
     */
    public static LoginResult login(PduChannel channel, LoginOptions options) throws IOException {
        return new LoginNegotiator(channel, options).run();
    }

    private LoginResult run() throws IOException {
        int stage = options.skipSecurityStage ? STAGE_OPERATIONAL : STAGE_SECURITY;
        if (stage == STAGE_SECURITY) {
            securityStage();
        }
        operationalStage(options.skipSecurityStage);
        NegotiatedParameters negotiated = negotiated();
        channel.digests(negotiated.headerDigest(), negotiated.dataDigest());
        int tpgt = parseNumber("TargetPortalGroupTag", targetKeys.getOrDefault("TargetPortalGroupTag", "0"));
        return new LoginResult(negotiated, tsih, options.initialCmdSn, expStatSn, expCmdSn, maxCmdSn, tpgt);
    }

    private TextParameters initialKeys() {
        TextParameters keys = new TextParameters();
        keys.add("InitiatorName", options.initiatorName);
        keys.add("SessionType", options.discovery ? "Discovery" : "Normal");
        if (!options.discovery && options.targetName != null) {
            keys.add("TargetName", options.targetName);
        }
        return keys;
    }

    private void securityStage() throws IOException {
        TextParameters first = initialKeys();
        String authOffer = options.authMethodOffer != null ? options.authMethodOffer
                : options.chap != null ? "CHAP" : "None";
        first.add("AuthMethod", authOffer);
        if (options.chap == null) {
            Pdu response = exchange(first, STAGE_SECURITY, true, STAGE_OPERATIONAL);
            String chosen = targetKeys.get("AuthMethod");
            if (chosen != null && !chosen.equals("None")) {
                throw new ProtocolViolationException("target chose AuthMethod=" + chosen + " but only None was offered");
            }
            // a target may need another round before it agrees to leave the security stage
            for (int round = 0; !transits(response, STAGE_OPERATIONAL); round++) {
                if (round == MAX_ROUNDS) {
                    throw new ProtocolViolationException("target never left the security stage");
                }
                response = exchange(new TextParameters(), STAGE_SECURITY, true, STAGE_OPERATIONAL);
            }
            return;
        }
        exchange(first, STAGE_SECURITY, false, 0);
        String chosen = targetKeys.get("AuthMethod");
        if (!"CHAP".equals(chosen)) {
            throw new ProtocolViolationException("expected AuthMethod=CHAP, target said " + chosen);
        }
        ChapCredentials chap = options.chap;
        StringBuilder algorithms = new StringBuilder();
        for (ChapAlgorithm a : chap.algorithms()) {
            algorithms.append(algorithms.isEmpty() ? "" : ",").append(a.code());
        }
        TextParameters chapA = new TextParameters().add("CHAP_A", algorithms.toString());
        exchange(chapA, STAGE_SECURITY, false, 0);
        ChapAlgorithm algorithm = ChapAlgorithm.ofCode(parseNumber("CHAP_A", require("CHAP_A")));
        if (!chap.algorithms().contains(algorithm)) {
            throw new ProtocolViolationException("target chose CHAP_A=" + algorithm.code() + " which was not offered");
        }
        int identifier = parseNumber("CHAP_I", require("CHAP_I"));
        byte[] challenge = decodeBinary(require("CHAP_C"));
        byte[] response = algorithm.response(identifier, chap.secret().getBytes(StandardCharsets.UTF_8), challenge);

        TextParameters answer = new TextParameters()
                .add("CHAP_N", chap.user())
                .add("CHAP_R", "0x" + HexFormat.of().formatHex(response));
        int mutualId = 0;
        byte[] mutualChallenge = null;
        if (chap.isMutual()) {
            mutualId = RANDOM.nextInt(256);
            mutualChallenge = new byte[Math.max(16, algorithm.digestLength())];
            RANDOM.nextBytes(mutualChallenge);
            answer.add("CHAP_I", Integer.toString(mutualId));
            answer.add("CHAP_C", "0x" + HexFormat.of().formatHex(mutualChallenge));
        }
        targetKeys.remove("CHAP_N");
        targetKeys.remove("CHAP_R");
        Pdu last = exchange(answer, STAGE_SECURITY, true, STAGE_OPERATIONAL);
        if (chap.isMutual()) {
            String name = require("CHAP_N");
            if (!name.equals(chap.targetUser())) {
                throw new ProtocolViolationException("mutual CHAP: target named itself " + name);
            }
            byte[] expected = algorithm.response(mutualId, chap.targetSecret().getBytes(StandardCharsets.UTF_8),
                    mutualChallenge);
            if (!Arrays.equals(expected, decodeBinary(require("CHAP_R")))) {
                throw new MutualAuthenticationException("target's CHAP_R does not prove the expected secret");
            }
        }
        for (int round = 0; !transits(last, STAGE_OPERATIONAL); round++) {
            if (round == MAX_ROUNDS) {
                throw new ProtocolViolationException("target never left the security stage after CHAP");
            }
            last = exchange(new TextParameters(), STAGE_SECURITY, true, STAGE_OPERATIONAL);
        }
    }

    private void operationalStage(boolean firstPdu) throws IOException {
        TextParameters keys = firstPdu ? initialKeys() : new TextParameters();
        putOffer(keys, "HeaderDigest", options.headerDigest);
        putOffer(keys, "DataDigest", options.dataDigest);
        if (!options.discovery) {
            putOffer(keys, "InitialR2T", yesNo(options.initialR2T));
            putOffer(keys, "ImmediateData", yesNo(options.immediateData));
            putOffer(keys, "MaxBurstLength", str(options.maxBurstLength));
            putOffer(keys, "FirstBurstLength", str(options.firstBurstLength));
            putOffer(keys, "MaxOutstandingR2T", str(options.maxOutstandingR2T));
            putOffer(keys, "MaxConnections", str(options.maxConnections));
            putOffer(keys, "DataPDUInOrder", yesNo(options.dataPduInOrder));
            putOffer(keys, "DataSequenceInOrder", yesNo(options.dataSequenceInOrder));
        }
        putOffer(keys, "MaxRecvDataSegmentLength", str(options.maxRecvDataSegmentLength));
        putOffer(keys, "ErrorRecoveryLevel", str(options.errorRecoveryLevel));
        putOffer(keys, "DefaultTime2Wait", str(options.defaultTime2Wait));
        putOffer(keys, "DefaultTime2Retain", str(options.defaultTime2Retain));
        options.extraOperationalKeys.forEach((k, v) -> putOffer(keys, k, v));

        TextParameters toSend = keys;
        for (int round = 0; ; round++) {
            if (round == MAX_ROUNDS) {
                throw new ProtocolViolationException("operational negotiation did not converge");
            }
            Pdu response = exchange(toSend, STAGE_OPERATIONAL, true, STAGE_FULL_FEATURE);
            TextParameters answered = TextParameters.decode(response.data());
            toSend = new TextParameters();
            for (Map.Entry<String, String> e : answered.pairs()) {
                String key = e.getKey();
                String value = e.getValue();
                if (offered.containsKey(key) && !agreed.containsKey(key)) {
                    checkAnswer(key, offered.get(key), value);
                    agreed.put(key, value);
                } else if (!offered.containsKey(key) && RULES.containsKey(key) && RULES.get(key) != Rule.DECLARATIVE
                        && !agreed.containsKey(key)) {
                    // the target opened negotiation of a key we did not offer: accept its value
                    agreed.put(key, value);
                    toSend.add(key, value);
                }
            }
            if (transits(response, STAGE_FULL_FEATURE)) {
                return;
            }
        }
    }

    private void putOffer(TextParameters keys, String key, String value) {
        if (value != null) {
            keys.add(key, value);
            offered.put(key, value);
        }
    }

    /** Sends one Login Request and returns the (successful) Login Response. */
    private Pdu exchange(TextParameters keys, int csg, boolean transit, int nsg) throws IOException {
        Pdu request = Pdu.create(Opcode.LOGIN_REQUEST).immediate(true);
        request.flags((transit ? FLAG_TRANSIT : 0) | (csg << 2) | (transit ? nsg : 0));
        request.byte2(0).byte3(0); // Version-max, Version-min
        request.putBytes(Pdu.OFF_ISID, options.isid);
        request.putShort(Pdu.OFF_TSIH, options.tsih);
        request.itt(itt);
        request.putShort(Pdu.OFF_WORD20, options.cid);
        request.cmdSn(options.initialCmdSn);
        request.expStatSn(expStatSn);
        request.data(keys.encode());
        channel.send(request);

        Pdu response = channel.receive(options.timeout);
        if (response.opcode() == Opcode.REJECT) {
            throw new ProtocolViolationException("Reject during login (reason 0x"
                    + Integer.toHexString(response.byte2()) + "); RFC 7143 wants a Login Response");
        }
        if (response.opcode() != Opcode.LOGIN_RESPONSE) {
            throw new ProtocolViolationException("expected Login Response, got " + response);
        }
        int statusClass = response.bhs()[Pdu.OFF_WORD36] & 0xff;
        int statusDetail = response.bhs()[Pdu.OFF_WORD36 + 1] & 0xff;
        if (statusClass != 0) {
            throw new LoginException(statusClass, statusDetail, "login refused");
        }
        if (response.itt() != itt) {
            throw new ProtocolViolationException("Login Response ITT " + response.itt() + " != " + itt);
        }
        if ((response.flags() & FLAG_CONTINUE) != 0) {
            throw new ProtocolViolationException("Login Response with C bit: multi-PDU text not supported here");
        }
        if (response.byte3() != 0) {
            throw new ProtocolViolationException("Version-active " + response.byte3() + " != 0");
        }
        int respCsg = (response.flags() >> 2) & 3;
        if (respCsg != csg) {
            throw new ProtocolViolationException("Login Response CSG " + respCsg + " != " + csg);
        }
        int statSn = response.statSn();
        if (!firstResponse && statSn != expStatSn) {
            throw new ProtocolViolationException("Login Response StatSN " + statSn + " != expected " + expStatSn);
        }
        firstResponse = false;
        expStatSn = statSn + 1;
        expCmdSn = response.expCmdSn();
        maxCmdSn = response.maxCmdSn();
        tsih = response.getShort(Pdu.OFF_TSIH);
        TextParameters.decode(response.data()).pairs().forEach(e -> targetKeys.put(e.getKey(), e.getValue()));
        if (!transit && (response.flags() & FLAG_TRANSIT) != 0) {
            throw new ProtocolViolationException("target set T bit although the initiator did not");
        }
        return response;
    }

    private static boolean transits(Pdu response, int nsg) {
        return (response.flags() & FLAG_TRANSIT) != 0 && (response.flags() & 3) == nsg;
    }

    private String require(String key) {
        String v = targetKeys.get(key);
        if (v == null) {
            throw new ProtocolViolationException("target did not send " + key);
        }
        return v;
    }

    private static void checkAnswer(String key, String offer, String answer) {
        if (answer.equals("Reject") || answer.equals("NotUnderstood") || answer.equals("Irrelevant")) {
            return;
        }
        Rule rule = RULES.get(key);
        if (rule == null) {
            return;
        }
        boolean ok = switch (rule) {
            case LIST -> List.of(offer.split(",")).contains(answer);
            case NUMERIC_MIN -> parseNumber(key, answer) <= parseNumber(key, offer);
            case NUMERIC_MAX -> parseNumber(key, answer) >= parseNumber(key, offer);
            case BOOLEAN_AND -> offer.equals("Yes") || answer.equals("No");
            case BOOLEAN_OR -> offer.equals("No") || answer.equals("Yes");
            case DECLARATIVE -> true;
        };
        if (!ok || (rule == Rule.BOOLEAN_AND || rule == Rule.BOOLEAN_OR) && !answer.matches("Yes|No")) {
            throw new ProtocolViolationException("illegal answer " + key + "=" + answer + " to offer " + offer);
        }
    }

    private NegotiatedParameters negotiated() {
        int tMrdsl = targetKeys.containsKey("MaxRecvDataSegmentLength")
                ? parseNumber("MaxRecvDataSegmentLength", targetKeys.get("MaxRecvDataSegmentLength")) : 8192;
        int iMrdsl = options.maxRecvDataSegmentLength != null ? options.maxRecvDataSegmentLength : 8192;
        int maxBurst = number("MaxBurstLength", 262144);
        int firstBurst = number("FirstBurstLength", 65536);
        if (firstBurst > maxBurst) {
            throw new ProtocolViolationException("FirstBurstLength " + firstBurst + " > MaxBurstLength " + maxBurst);
        }
        return new NegotiatedParameters(
                "CRC32C".equals(agreed.get("HeaderDigest")),
                "CRC32C".equals(agreed.get("DataDigest")),
                iMrdsl, tMrdsl, maxBurst, firstBurst,
                bool("InitialR2T", true), bool("ImmediateData", true),
                number("MaxOutstandingR2T", 1), number("MaxConnections", 1),
                number("ErrorRecoveryLevel", 0),
                bool("DataPDUInOrder", true), bool("DataSequenceInOrder", true),
                number("DefaultTime2Wait", 2), number("DefaultTime2Retain", 20),
                targetKeys);
    }

    private int number(String key, int defaultValue) {
        String v = agreed.get(key);
        return v == null || !Character.isDigit(v.charAt(0)) ? defaultValue : parseNumber(key, v);
    }

    private boolean bool(String key, boolean defaultValue) {
        String v = agreed.get(key);
        return v == null || !v.matches("Yes|No") ? defaultValue : v.equals("Yes");
    }

    static int parseNumber(String key, String value) {
        try {
            if (value.startsWith("0x") || value.startsWith("0X")) {
                return Integer.parseUnsignedInt(value.substring(2), 16);
            }
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new ProtocolViolationException("bad numeric value " + key + "=" + value);
        }
    }

    /** Binary values are hex ("0x") or base64 ("0b"), RFC 7143 section 6.1. */
    static byte[] decodeBinary(String value) {
        if (value.startsWith("0x") || value.startsWith("0X")) {
            String hex = value.substring(2);
            if (hex.length() % 2 == 1) {
                hex = "0" + hex;
            }
            return HexFormat.of().parseHex(hex);
        }
        if (value.startsWith("0b") || value.startsWith("0B")) {
            return Base64.getDecoder().decode(value.substring(2));
        }
        throw new ProtocolViolationException("binary value without 0x/0b prefix: " + value);
    }

    private static String yesNo(Boolean b) {
        return b == null ? null : b ? "Yes" : "No";
    }

    private static String str(Integer i) {
        return i == null ? null : i.toString();
    }

    /** Mutual CHAP failed: the target could not prove its secret. */
    public static final class MutualAuthenticationException extends IOException {
        public MutualAuthenticationException(String message) {
            super(message);
        }
    }
}
