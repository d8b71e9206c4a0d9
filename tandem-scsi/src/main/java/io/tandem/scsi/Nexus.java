package io.tandem.scsi;

import java.util.Objects;

/**
 * An I_T nexus, identified cluster-wide: the initiator port (iSCSI name + ISID, in SPC-4's
 * iSCSI TransportID form {@code iqn...,i,0x<isid>}) and the target port it logged in through.
 */
public record Nexus(String initiatorName, long isid, TargetPort targetPort) {

    public Nexus {
        Objects.requireNonNull(initiatorName, "initiatorName");
        Objects.requireNonNull(targetPort, "targetPort");
        if ((isid >>> 48) != 0) {
            throw new IllegalArgumentException("ISID is 48 bits, got 0x" + Long.toHexString(isid));
        }
    }

    /** The initiator port name as SPC-4 writes it for iSCSI: {@code <name>,i,0x<12 hex digits>}. */
    public String initiatorPortName() {
        return initiatorName + ",i,0x" + String.format("%012x", isid);
    }
}
