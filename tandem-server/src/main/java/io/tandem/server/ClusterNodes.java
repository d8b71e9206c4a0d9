package io.tandem.server;

import io.tandem.cluster.ConfigEntry;
import io.tandem.cluster.Member;
import io.tandem.iscsi.AdvertisedPortal;
import io.tandem.scsi.TargetPortGroup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The cluster's nodes as SCSI sees them. Live members come from the coordinator's membership; but
 * REPORT TARGET PORT GROUPS must also list a node that is down (its group reads Unavailable), so
 * every node also records its target port group and relative target port ids, persistently, in the
 * cluster's configuration store under {@code node.<id>}. A node removed for good is forgotten by
 * deleting its entry.
 */
final class ClusterNodes {

    static final String KEY_PREFIX = "node.";
    private static final String MAGIC = "tandem-node 1";

    private ClusterNodes() {
    }

    static String key(int nodeId) {
        return KEY_PREFIX + nodeId;
    }

    /** The registry entry of a node: its group and ports. */
    static byte[] render(TargetPortGroup group) {
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        b.append("target-port-group ").append(group.id()).append('\n');
        for (int port : group.relativeTargetPortIds()) {
            b.append("relative-target-port ").append(port).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses a registry entry; null if it is not one (a newer format, or garbage: ignored, logged by the caller). */
    static TargetPortGroup parse(byte[] value) {
        String text = new String(value, StandardCharsets.UTF_8);
        if (!text.startsWith(MAGIC + "\n")) {
            return null;
        }
        int group = -1;
        List<Integer> ports = new ArrayList<>();
        try {
            for (String line : text.substring(MAGIC.length() + 1).split("\n")) {
                if (line.startsWith("target-port-group ")) {
                    group = Integer.parseInt(line.substring("target-port-group ".length()).trim());
                } else if (line.startsWith("relative-target-port ")) {
                    ports.add(Integer.parseInt(line.substring("relative-target-port ".length()).trim()));
                }
            }
            return group < 1 ? null : new TargetPortGroup(group, ports);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Every group the cluster knows: recorded in the registry, or published by a live member; by id. */
    static List<TargetPortGroup> knownGroups(Map<String, ConfigEntry> config, Collection<Member> members) {
        Map<Integer, TargetPortGroup> groups = new TreeMap<>();
        config.forEach((key, entry) -> {
            if (key.startsWith(KEY_PREFIX)) {
                TargetPortGroup g = parse(entry.value());
                if (g != null) {
                    groups.put(g.id(), g);
                }
            }
        });
        for (Member m : members) {
            if (m.targetPortGroupId() > 0) {
                groups.put(m.targetPortGroupId(), new TargetPortGroup(m.targetPortGroupId(), m.relativeTargetPortIds()));
            }
        }
        return List.copyOf(groups.values());
    }

    /**
     * The target port groups of the live members. A member that has not published yet (it is a
     * member from its coordinator's start, and announces once its portals are bound) is live all
     * the same: its group is its node id, as every Tandem node's is.
     */
    static Set<Integer> liveGroups(Collection<Member> members) {
        Set<Integer> live = new TreeSet<>();
        for (Member m : members) {
            if (m.targetPortGroupId() > 0) {
                live.add(m.targetPortGroupId());
            } else if (m.nodeId().matches("[1-9][0-9]{0,4}") && Integer.parseInt(m.nodeId()) <= NodeConfig.MAX_NODE_ID) {
                live.add(Integer.parseInt(m.nodeId()));
            }
        }
        return live;
    }

    /** What SendTargets lists: every live member's portals with its portal group tag, ordered by tag. */
    static List<AdvertisedPortal> portals(Collection<Member> members, List<AdvertisedPortal> own, int ownTag) {
        List<AdvertisedPortal> all = new ArrayList<>(own);
        for (Member m : members) {
            if (m.portalGroupTag() == ownTag) {
                continue; // our own, with our view of them (a wildcard listener is resolved per connection)
            }
            for (Member.Portal p : m.portals()) {
                all.add(new AdvertisedPortal(p.host(), p.port(), m.portalGroupTag()));
            }
        }
        all.sort(java.util.Comparator.comparingInt(AdvertisedPortal::portalGroupTag));
        return all;
    }
}
