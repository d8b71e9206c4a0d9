package io.tandem.scsi;

import java.util.Objects;

/**
 * A SCSI target port: in iSCSI, the target name plus target portal group tag. The relative target
 * port id is unique cluster-wide (one range per node); each node is one target port group.
 */
public record TargetPort(String targetName, int portalGroupTag, int relativeTargetPortId, int targetPortGroup) {

    public TargetPort {
        Objects.requireNonNull(targetName, "targetName");
        if (portalGroupTag < 0 || portalGroupTag > 0xffff) {
            throw new IllegalArgumentException("portal group tag is 16 bits: " + portalGroupTag);
        }
        if (relativeTargetPortId < 1 || relativeTargetPortId > 0xffff) {
            throw new IllegalArgumentException("relative target port id must be 1..65535: " + relativeTargetPortId);
        }
        if (targetPortGroup < 0 || targetPortGroup > 0xffff) {
            throw new IllegalArgumentException("target port group is 16 bits: " + targetPortGroup);
        }
    }

    /** The target port name as SPC-4 writes it for iSCSI: {@code <name>,t,0x<4 hex digits>}. */
    public String portName() {
        return targetName + ",t,0x" + String.format("%04x", portalGroupTag);
    }
}
