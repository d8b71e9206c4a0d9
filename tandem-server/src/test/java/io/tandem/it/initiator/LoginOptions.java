package io.tandem.it.initiator;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the initiator proposes at login. Every operational key is nullable: null means "do not send
 * the key" so the RFC 7143 default applies. Mutable and fluent; {@link #copy()} before reuse.
 */
public final class LoginOptions {
    public static final String DEFAULT_INITIATOR_NAME = "iqn.2025-01.io.tandem:it-initiator";

    String initiatorName = DEFAULT_INITIATOR_NAME;
    byte[] isid = randomIsid();
    int tsih;
    int cid;
    String targetName;
    boolean discovery;
    ChapCredentials chap;
    String authMethodOffer;
    boolean skipSecurityStage;
    String headerDigest = "None";
    String dataDigest = "None";
    Integer maxRecvDataSegmentLength = 65536;
    Integer maxBurstLength = 262144;
    Integer firstBurstLength = 65536;
    Boolean initialR2T = Boolean.TRUE;
    Boolean immediateData = Boolean.TRUE;
    Integer maxOutstandingR2T = 1;
    Integer maxConnections = 1;
    Integer errorRecoveryLevel = 0;
    Boolean dataPduInOrder = Boolean.TRUE;
    Boolean dataSequenceInOrder = Boolean.TRUE;
    Integer defaultTime2Wait = 2;
    Integer defaultTime2Retain = 0;
    Map<String, String> extraOperationalKeys = new LinkedHashMap<>();
    int initialCmdSn = 1;
    Duration timeout = Duration.ofSeconds(10);

    public static LoginOptions normal(String targetName) {
        LoginOptions o = new LoginOptions();
        o.targetName = targetName;
        return o;
    }

    public static LoginOptions discovery() {
        LoginOptions o = new LoginOptions();
        o.discovery = true;
        return o;
    }

    /** ISID in the "random" format (RFC 7143 section 11.12.5: T=10b, then 3 random octets, qualifier). */
    public static byte[] randomIsid() {
        byte[] isid = new byte[6];
        ThreadLocalRandom.current().nextBytes(isid);
        isid[0] = (byte) 0x80;
        return isid;
    }

    public LoginOptions copy() {
        LoginOptions o = new LoginOptions();
        o.initiatorName = initiatorName;
        o.isid = isid.clone();
        o.tsih = tsih;
        o.cid = cid;
        o.targetName = targetName;
        o.discovery = discovery;
        o.chap = chap;
        o.authMethodOffer = authMethodOffer;
        o.skipSecurityStage = skipSecurityStage;
        o.headerDigest = headerDigest;
        o.dataDigest = dataDigest;
        o.maxRecvDataSegmentLength = maxRecvDataSegmentLength;
        o.maxBurstLength = maxBurstLength;
        o.firstBurstLength = firstBurstLength;
        o.initialR2T = initialR2T;
        o.immediateData = immediateData;
        o.maxOutstandingR2T = maxOutstandingR2T;
        o.maxConnections = maxConnections;
        o.errorRecoveryLevel = errorRecoveryLevel;
        o.dataPduInOrder = dataPduInOrder;
        o.dataSequenceInOrder = dataSequenceInOrder;
        o.defaultTime2Wait = defaultTime2Wait;
        o.defaultTime2Retain = defaultTime2Retain;
        o.extraOperationalKeys = new LinkedHashMap<>(extraOperationalKeys);
        o.initialCmdSn = initialCmdSn;
        o.timeout = timeout;
        return o;
    }

    public LoginOptions initiatorName(String v) { initiatorName = v; return this; }
    public LoginOptions isid(byte[] v) {
        if (v.length != 6) {
            throw new IllegalArgumentException("ISID is 6 bytes");
        }
        isid = v.clone();
        return this;
    }
    public LoginOptions tsih(int v) { tsih = v; return this; }
    public LoginOptions cid(int v) { cid = v; return this; }
    public LoginOptions targetName(String v) { targetName = v; return this; }
    public LoginOptions chap(ChapCredentials v) { chap = v; return this; }
    /** Overrides the AuthMethod value sent (e.g. "CHAP,None"); default derives from {@link #chap}. */
    public LoginOptions authMethodOffer(String v) { authMethodOffer = v; return this; }
    /** Starts login directly in the operational stage (allowed when the target needs no auth). */
    public LoginOptions skipSecurityStage(boolean v) { skipSecurityStage = v; return this; }
    /** HeaderDigest offer, e.g. "CRC32C", "None", "CRC32C,None"; null to not send the key. */
    public LoginOptions headerDigest(String v) { headerDigest = v; return this; }
    public LoginOptions dataDigest(String v) { dataDigest = v; return this; }
    public LoginOptions maxRecvDataSegmentLength(Integer v) { maxRecvDataSegmentLength = v; return this; }
    public LoginOptions maxBurstLength(Integer v) { maxBurstLength = v; return this; }
    public LoginOptions firstBurstLength(Integer v) { firstBurstLength = v; return this; }
    public LoginOptions initialR2T(Boolean v) { initialR2T = v; return this; }
    public LoginOptions immediateData(Boolean v) { immediateData = v; return this; }
    public LoginOptions maxOutstandingR2T(Integer v) { maxOutstandingR2T = v; return this; }
    public LoginOptions maxConnections(Integer v) { maxConnections = v; return this; }
    public LoginOptions errorRecoveryLevel(Integer v) { errorRecoveryLevel = v; return this; }
    public LoginOptions dataPduInOrder(Boolean v) { dataPduInOrder = v; return this; }
    public LoginOptions dataSequenceInOrder(Boolean v) { dataSequenceInOrder = v; return this; }
    public LoginOptions defaultTime2Wait(Integer v) { defaultTime2Wait = v; return this; }
    public LoginOptions defaultTime2Retain(Integer v) { defaultTime2Retain = v; return this; }
    public LoginOptions extraOperationalKey(String key, String value) { extraOperationalKeys.put(key, value); return this; }
    public LoginOptions initialCmdSn(int v) { initialCmdSn = v; return this; }
    public LoginOptions timeout(Duration v) { timeout = v; return this; }

    public String initiatorName() { return initiatorName; }
    public byte[] isid() { return isid.clone(); }
    public String targetName() { return targetName; }
    public boolean isDiscovery() { return discovery; }
    public Duration timeout() { return timeout; }
}
