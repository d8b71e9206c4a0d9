package io.tandem.iscsi.login;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Plays the initiator side against a {@link LoginNegotiator}: one call per Login Request. */
final class LoginDriver {
    static final long ISID = 0x23d000000001L;

    final LoginNegotiator negotiator;
    LoginStep last;

    LoginDriver(LoginConfig config) {
        this.negotiator = new LoginNegotiator(config);
    }

    /** A request with T=1 towards {@code nsg}. */
    LoginStep transit(int csg, int nsg, String... pairs) {
        return send(csg, nsg, true, false, pairs);
    }

    /** A request with T=0. */
    LoginStep stay(int csg, String... pairs) {
        return send(csg, 0, false, false, pairs);
    }

    LoginStep send(int csg, int nsg, boolean transit, boolean cont, String... pairs) {
        return raw(csg, nsg, transit, cont, 0, 0, ISID, 0, text(pairs));
    }

    LoginStep raw(int csg, int nsg, boolean transit, boolean cont, int vMax, int vMin, long isid, int tsih,
                  byte[] data) {
        last = negotiator.onLoginRequest(csg, nsg, transit, cont, vMax, vMin, isid, tsih, data);
        return last;
    }

    /** "Key=Value" strings joined with NULs. */
    static byte[] text(String... pairs) {
        StringBuilder sb = new StringBuilder();
        for (String p : pairs) {
            sb.append(p).append('\0');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The response's keys in order. */
    static Map<String, String> keys(LoginStep step) {
        Map<String, String> m = new LinkedHashMap<>();
        for (TextParameters.KeyValue kv : step.responseParameters().entries()) {
            m.put(kv.key(), kv.value());
        }
        return m;
    }

    /** What libiscsi 1.19+ sends in its single operational PDU (lib/login.c, no iSER). */
    static String[] libiscsiOperationalKeys() {
        return new String[] {
            "HeaderDigest=None,CRC32C", "DataDigest=None", "InitialR2T=No", "ImmediateData=Yes",
            "MaxBurstLength=262144", "FirstBurstLength=262144", "DefaultTime2Wait=2", "DefaultTime2Retain=0",
            "MaxOutstandingR2T=1", "ErrorRecoveryLevel=0", "IFMarker=No", "OFMarker=No", "MaxConnections=1",
            "MaxRecvDataSegmentLength=262144", "DataPDUInOrder=Yes", "DataSequenceInOrder=Yes",
        };
    }

    static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
