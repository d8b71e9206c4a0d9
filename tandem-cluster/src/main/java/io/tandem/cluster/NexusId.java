package io.tandem.cluster;

import java.util.Objects;

/**
 * An I_T nexus as the cluster stores it: the initiator port (for iSCSI the TransportID text
 * {@code iqn...,i,0x<isid>}, or the bare iSCSI name when a registration names the initiator
 * device without an ISID) and the relative target port id, unique cluster-wide.
 *
 * @param initiatorPort        initiator port name, compared exactly by the cluster
 * @param relativeTargetPortId 1..65535, or {@link #ALL_TARGET_PORTS} for a registration made with
 *                             ALL_TG_PT (it then covers the initiator port on every target port)
 */
public record NexusId(String initiatorPort, int relativeTargetPortId) {

    public static final int ALL_TARGET_PORTS = 0;

    public NexusId {
        Objects.requireNonNull(initiatorPort, "initiatorPort");
        if (initiatorPort.isEmpty()) {
            throw new IllegalArgumentException("initiator port is empty");
        }
        if (relativeTargetPortId < 0 || relativeTargetPortId > 0xffff) {
            throw new IllegalArgumentException("relative target port id is 0..65535: " + relativeTargetPortId);
        }
    }

    public boolean allTargetPorts() {
        return relativeTargetPortId == ALL_TARGET_PORTS;
    }

    @Override
    public String toString() {
        return initiatorPort + (allTargetPorts() ? "@*" : "@" + relativeTargetPortId);
    }
}
