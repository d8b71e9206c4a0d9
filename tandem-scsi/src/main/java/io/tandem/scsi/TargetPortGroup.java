package io.tandem.scsi;

import java.util.List;

/**
 * An ALUA target port group and the relative target port ids of its ports. Each cluster node is
 * one group (its id is the node's), so REPORT TARGET PORT GROUPS lists one group per node and
 * every path gives the same answer.
 */
public record TargetPortGroup(int id, List<Integer> relativeTargetPortIds) {

    public TargetPortGroup {
        if (id < 0 || id > 0xFFFF) {
            throw new IllegalArgumentException("target port group is 16 bits: " + id);
        }
        relativeTargetPortIds = List.copyOf(relativeTargetPortIds);
        if (relativeTargetPortIds.size() > 255) {
            throw new IllegalArgumentException("a group reports at most 255 ports (TARGET PORT COUNT is one byte)");
        }
        for (int port : relativeTargetPortIds) {
            if (port < 1 || port > 0xFFFF) {
                throw new IllegalArgumentException("relative target port id must be 1..65535: " + port);
            }
        }
    }
}
