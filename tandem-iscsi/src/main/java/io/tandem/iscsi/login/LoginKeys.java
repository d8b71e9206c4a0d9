package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.KeyDefinition.Sender.BOTH;
import static io.tandem.iscsi.login.KeyDefinition.Sender.INITIATOR;
import static io.tandem.iscsi.login.KeyDefinition.Sender.TARGET;
import static io.tandem.iscsi.login.KeyDefinition.Use.ANY;
import static io.tandem.iscsi.login.KeyDefinition.Use.FULL_FEATURE;
import static io.tandem.iscsi.login.KeyDefinition.Use.LOGIN_START;
import static io.tandem.iscsi.login.KeyDefinition.Use.OPERATIONAL;
import static io.tandem.iscsi.login.KeyDefinition.Use.SECURITY;
import static io.tandem.iscsi.login.NegotiationType.BOOLEAN_AND;
import static io.tandem.iscsi.login.NegotiationType.BOOLEAN_OR;
import static io.tandem.iscsi.login.NegotiationType.DECLARATIVE;
import static io.tandem.iscsi.login.NegotiationType.LIST;
import static io.tandem.iscsi.login.NegotiationType.NUMERIC_MAX;
import static io.tandem.iscsi.login.NegotiationType.NUMERIC_MIN;
import static io.tandem.iscsi.login.NegotiationType.OBSOLETE;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The key table: every text key of RFC 7143 section 13 (and section 12 for security) with its
 * negotiation type, sender, stage, discovery relevance, range, default and the target's value.
 * Negotiation code reads rows of this table; adding a key means adding a row.
 */
public final class LoginKeys {
    public static final String HEADER_DIGEST = "HeaderDigest";
    public static final String DATA_DIGEST = "DataDigest";
    public static final String MAX_CONNECTIONS = "MaxConnections";
    public static final String SEND_TARGETS = "SendTargets";
    public static final String TARGET_NAME = "TargetName";
    public static final String INITIATOR_NAME = "InitiatorName";
    public static final String TARGET_ALIAS = "TargetAlias";
    public static final String INITIATOR_ALIAS = "InitiatorAlias";
    public static final String TARGET_ADDRESS = "TargetAddress";
    public static final String TARGET_PORTAL_GROUP_TAG = "TargetPortalGroupTag";
    public static final String INITIAL_R2T = "InitialR2T";
    public static final String IMMEDIATE_DATA = "ImmediateData";
    public static final String MAX_RECV_DATA_SEGMENT_LENGTH = "MaxRecvDataSegmentLength";
    public static final String MAX_BURST_LENGTH = "MaxBurstLength";
    public static final String FIRST_BURST_LENGTH = "FirstBurstLength";
    public static final String DEFAULT_TIME2WAIT = "DefaultTime2Wait";
    public static final String DEFAULT_TIME2RETAIN = "DefaultTime2Retain";
    public static final String MAX_OUTSTANDING_R2T = "MaxOutstandingR2T";
    public static final String DATA_PDU_IN_ORDER = "DataPDUInOrder";
    public static final String DATA_SEQUENCE_IN_ORDER = "DataSequenceInOrder";
    public static final String ERROR_RECOVERY_LEVEL = "ErrorRecoveryLevel";
    public static final String SESSION_TYPE = "SessionType";
    public static final String TASK_REPORTING = "TaskReporting";
    public static final String IF_MARKER = "IFMarker";
    public static final String OF_MARKER = "OFMarker";
    public static final String IF_MARK_INT = "IFMarkInt";
    public static final String OF_MARK_INT = "OFMarkInt";
    public static final String AUTH_METHOD = "AuthMethod";
    public static final String CHAP_A = "CHAP_A";
    public static final String CHAP_I = "CHAP_I";
    public static final String CHAP_C = "CHAP_C";
    public static final String CHAP_N = "CHAP_N";
    public static final String CHAP_R = "CHAP_R";

    /** The RFC 7143 section 13.12 range shared by segment and burst lengths. */
    private static final long LEN_MIN = TargetPreferences.MIN_LENGTH;
    private static final long LEN_MAX = TargetPreferences.MAX_LENGTH;
    private static final int V = TextParameters.MAX_VALUE_LENGTH;
    private static final int LARGE = TextParameters.MAX_LARGE_VALUE_LENGTH;

    private static final Map<String, KeyDefinition> TABLE = new LinkedHashMap<>();
    private static final Predicate<TargetPreferences> NEVER = p -> false;

    static {
        // name, type, sender, use, irrelevant in discovery, min, max, RFC default, max value bytes,
        // handled by the login state machine, target value, offer when the initiator is silent.
        row(HEADER_DIGEST, LIST, BOTH, OPERATIONAL, false, -1, -1, "None", V, false,
                p -> String.join(",", p.headerDigest().accepted()),
                p -> p.headerDigest() == DigestPolicy.REQUIRE_CRC32C);
        row(DATA_DIGEST, LIST, BOTH, OPERATIONAL, false, -1, -1, "None", V, false,
                p -> String.join(",", p.dataDigest().accepted()),
                p -> p.dataDigest() == DigestPolicy.REQUIRE_CRC32C);
        row(MAX_CONNECTIONS, NUMERIC_MIN, BOTH, OPERATIONAL, true, 1, 65535, "1", V, false,
                p -> Integer.toString(p.maxConnections()), null);
        row(SEND_TARGETS, DECLARATIVE, INITIATOR, FULL_FEATURE, false, -1, -1, null, V, true, null, NEVER);
        row(TARGET_NAME, DECLARATIVE, BOTH, LOGIN_START, false, -1, -1, null, TargetInfo.MAX_NAME_LENGTH, true,
                null, NEVER);
        row(INITIATOR_NAME, DECLARATIVE, INITIATOR, LOGIN_START, false, -1, -1, null, TargetInfo.MAX_NAME_LENGTH,
                true, null, NEVER);
        row(TARGET_ALIAS, DECLARATIVE, TARGET, ANY, false, -1, -1, null, V, true, null, NEVER);
        row(INITIATOR_ALIAS, DECLARATIVE, INITIATOR, ANY, false, -1, -1, null, V, true, null, NEVER);
        row(TARGET_ADDRESS, DECLARATIVE, TARGET, ANY, false, -1, -1, null, V, true, null, NEVER);
        row(TARGET_PORTAL_GROUP_TAG, DECLARATIVE, TARGET, LOGIN_START, false, 0, 65535, null, V, true, null, NEVER);
        row(INITIAL_R2T, BOOLEAN_OR, BOTH, OPERATIONAL, true, -1, -1, "Yes", V, false,
                p -> TextValues.formatBoolean(p.initialR2T()), null);
        row(IMMEDIATE_DATA, BOOLEAN_AND, BOTH, OPERATIONAL, true, -1, -1, "Yes", V, false,
                p -> TextValues.formatBoolean(p.immediateData()), null);
        row(MAX_RECV_DATA_SEGMENT_LENGTH, DECLARATIVE, BOTH, ANY, false, LEN_MIN, LEN_MAX, "8192", V, false,
                p -> Integer.toString(p.maxRecvDataSegmentLength()), NEVER);
        row(MAX_BURST_LENGTH, NUMERIC_MIN, BOTH, OPERATIONAL, true, LEN_MIN, LEN_MAX, "262144", V, false,
                p -> Integer.toString(p.maxBurstLength()), null);
        row(FIRST_BURST_LENGTH, NUMERIC_MIN, BOTH, OPERATIONAL, true, LEN_MIN, LEN_MAX, "65536", V, false,
                p -> Integer.toString(p.firstBurstLength()), null);
        // Recovery timers: worth answering, not worth an extra round trip to offer.
        row(DEFAULT_TIME2WAIT, NUMERIC_MAX, BOTH, OPERATIONAL, false, 0, 3600, "2", V, false,
                p -> Integer.toString(p.defaultTime2Wait()), NEVER);
        row(DEFAULT_TIME2RETAIN, NUMERIC_MIN, BOTH, OPERATIONAL, false, 0, 3600, "20", V, false,
                p -> Integer.toString(p.defaultTime2Retain()), NEVER);
        row(MAX_OUTSTANDING_R2T, NUMERIC_MIN, BOTH, OPERATIONAL, true, 1, 65535, "1", V, false,
                p -> Integer.toString(p.maxOutstandingR2T()), null);
        // RFC 7143 sections 13.19 and 13.20: the result function of both is OR.
        row(DATA_PDU_IN_ORDER, BOOLEAN_OR, BOTH, OPERATIONAL, true, -1, -1, "Yes", V, false,
                p -> TextValues.formatBoolean(p.dataPDUInOrder()), null);
        row(DATA_SEQUENCE_IN_ORDER, BOOLEAN_OR, BOTH, OPERATIONAL, true, -1, -1, "Yes", V, false,
                p -> TextValues.formatBoolean(p.dataSequenceInOrder()), null);
        row(ERROR_RECOVERY_LEVEL, NUMERIC_MIN, BOTH, OPERATIONAL, false, 0, 2, "0", V, false,
                p -> Integer.toString(p.errorRecoveryLevel()), null);
        row(SESSION_TYPE, DECLARATIVE, INITIATOR, LOGIN_START, false, -1, -1, "Normal", V, true, null, NEVER);
        row(TASK_REPORTING, LIST, BOTH, OPERATIONAL, true, -1, -1, "RFC3720", V, false, p -> "RFC3720", null);
        // Markers left iSCSI with RFC 7143 (section 13.26); answering No keeps RFC 3720
        // initiators such as libiscsi and open-iscsi, which still offer IFMarker=No, content.
        row(IF_MARKER, BOOLEAN_AND, BOTH, OPERATIONAL, false, -1, -1, "No", V, false, p -> "No", NEVER);
        row(OF_MARKER, BOOLEAN_AND, BOTH, OPERATIONAL, false, -1, -1, "No", V, false, p -> "No", NEVER);
        row(IF_MARK_INT, OBSOLETE, BOTH, OPERATIONAL, false, -1, -1, null, V, false, null, NEVER);
        row(OF_MARK_INT, OBSOLETE, BOTH, OPERATIONAL, false, -1, -1, null, V, false, null, NEVER);
        row(AUTH_METHOD, LIST, BOTH, SECURITY, false, -1, -1, "None", V, true, null, NEVER);
        row(CHAP_A, LIST, BOTH, SECURITY, false, -1, -1, null, V, true, null, NEVER);
        row(CHAP_I, DECLARATIVE, BOTH, SECURITY, false, 0, 255, null, V, true, null, NEVER);
        row(CHAP_C, DECLARATIVE, BOTH, SECURITY, false, -1, -1, null, LARGE, true, null, NEVER);
        row(CHAP_N, DECLARATIVE, BOTH, SECURITY, false, -1, -1, null, V, true, null, NEVER);
        row(CHAP_R, DECLARATIVE, BOTH, SECURITY, false, -1, -1, null, LARGE, true, null, NEVER);
    }

    private LoginKeys() {
    }

    /**
     * Adds a row. A null {@code offerWhenAbsent} means: offer when the target's value differs
     * from the RFC default, since otherwise the default would silently override the target's
     * preference.
     */
    private static void row(String name, NegotiationType type, KeyDefinition.Sender sender, KeyDefinition.Use use,
                            boolean irrelevantInDiscovery, long min, long max, String rfcDefault,
                            int maxValueLength, boolean handledByLogin,
                            Function<TargetPreferences, String> targetValue,
                            Predicate<TargetPreferences> offerWhenAbsent) {
        Predicate<TargetPreferences> offer = offerWhenAbsent != null ? offerWhenAbsent
                : p -> !targetValue.apply(p).equals(rfcDefault);
        TABLE.put(name, new KeyDefinition(name, type, sender, use, irrelevantInDiscovery, min, max, rfcDefault,
                maxValueLength, handledByLogin, targetValue, offer));
    }

    /** The row for {@code key}, or null for keys this target does not understand. */
    public static KeyDefinition lookup(String key) {
        return TABLE.get(key);
    }

    /** Every row, in table order. */
    public static Collection<KeyDefinition> all() {
        return Collections.unmodifiableCollection(TABLE.values());
    }

    /**
     * The longest value accepted for {@code key}. Unknown keys get the large limit: they are
     * answered NotUnderstood, which is kinder than failing the whole login over a vendor key.
     */
    public static int maxValueLength(String key) {
        KeyDefinition def = TABLE.get(key);
        return def == null ? LARGE : def.maxValueLength();
    }
}
