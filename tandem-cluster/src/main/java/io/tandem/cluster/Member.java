package io.tandem.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a node publishes about itself while it is a live member of the cluster: enough for any node
 * to answer SendTargets (every live node's portals with their portal group tag) and REPORT TARGET
 * PORT GROUPS (every node is one target port group with its own relative target port ids).
 *
 * @param nodeId                the node's id, unique in the cluster and stable across restarts
 * @param portals               the iSCSI portals the node listens on
 * @param portalGroupTag        the iSCSI target portal group tag of those portals
 * @param targetPortGroupId     the node's ALUA target port group id (1..65535)
 * @param relativeTargetPortIds the node's relative target port ids (1..65535, unique cluster-wide)
 * @param fenceTargets          what a survivor must fence before the cluster goes on without this node,
 *                              each {@code <kind> <address>}, e.g. {@code rados 127.0.0.1:0/3141592}
 *                              (the Ceph clients its LUNs write through); handed to the {@link Fencer}
 */
public record Member(String nodeId, List<Portal> portals, int portalGroupTag, int targetPortGroupId,
                     List<Integer> relativeTargetPortIds, List<String> fenceTargets) {

    /** Fence target kind: a Ceph RADOS client address, fenced by blocklisting it. */
    public static final String RADOS = "rados";

    /** A member with nothing to fence. */
    public Member(String nodeId, List<Portal> portals, int portalGroupTag, int targetPortGroupId,
                  List<Integer> relativeTargetPortIds) {
        this(nodeId, portals, portalGroupTag, targetPortGroupId, relativeTargetPortIds, List.of());
    }

    /** This record with other fence targets. */
    public Member withFenceTargets(List<String> targets) {
        return new Member(nodeId, portals, portalGroupTag, targetPortGroupId, relativeTargetPortIds, targets);
    }

    /** One iSCSI portal: host (name or literal address, IPv6 without brackets) and TCP port. */
    public record Portal(String host, int port) {

        public Portal {
            Objects.requireNonNull(host, "host");
            if (host.isEmpty() || host.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("bad portal host '" + host + "'");
            }
            if (port < 1 || port > 0xffff) {
                throw new IllegalArgumentException("portal port is 1..65535: " + port);
            }
        }

        /** Parses {@code host:port} or {@code [v6-address]:port}. */
        public static Portal parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("portal is host:port, not '" + text + "'");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                return new Portal(host, Integer.parseInt(text.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("portal is host:port, not '" + text + "'", e);
            }
        }

        /** {@code host:port}, with brackets around an IPv6 literal (the SendTargets TargetAddress form). */
        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public Member {
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.isEmpty() || nodeId.length() > 128 || !nodeId.chars().allMatch(Member::nodeIdChar)) {
            throw new IllegalArgumentException("node id is 1..128 of [A-Za-z0-9._-]: '" + nodeId + "'");
        }
        portals = List.copyOf(portals);
        relativeTargetPortIds = List.copyOf(relativeTargetPortIds);
        fenceTargets = List.copyOf(fenceTargets);
        for (String t : fenceTargets) {
            if (t.isBlank() || t.indexOf('\n') >= 0 || t.indexOf(' ') <= 0) {
                throw new IllegalArgumentException("a fence target is '<kind> <address>' on one line: '" + t + "'");
            }
        }
        if (portalGroupTag < 0 || portalGroupTag > 0xffff) {
            throw new IllegalArgumentException("portal group tag is 0..65535: " + portalGroupTag);
        }
        if (targetPortGroupId < 0 || targetPortGroupId > 0xffff) {
            throw new IllegalArgumentException("target port group id is 0..65535: " + targetPortGroupId);
        }
        for (int id : relativeTargetPortIds) {
            if (id < 1 || id > 0xffff) {
                throw new IllegalArgumentException("relative target port id is 1..65535: " + id);
            }
        }
    }

    /** A member that has published nothing but its id yet (portals unknown until the listener binds). */
    public static Member bare(String nodeId) {
        return new Member(nodeId, List.of(), 0, 0, List.of());
    }

    private static boolean nodeIdChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }

    // ---------------------------------------------------------------- text form (stored in ZooKeeper)

    static final String MAGIC = "tandem-member 1";

    /**
     * The record as UTF-8 text lines, as a member znode holds it:
     * <pre>
     * tandem-member 1
     * node n1
     * portal-group-tag 1
     * target-port-group 1
     * relative-target-port 1
     * portal 127.0.0.1:3260
 * fence rados 127.0.0.1:0/3141592
     * </pre>
     */
    String render() {
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        b.append("node ").append(nodeId).append('\n');
        b.append("portal-group-tag ").append(portalGroupTag).append('\n');
        b.append("target-port-group ").append(targetPortGroupId).append('\n');
        for (int id : relativeTargetPortIds) {
            b.append("relative-target-port ").append(id).append('\n');
        }
        for (Portal p : portals) {
            b.append("portal ").append(p).append('\n');
        }
        for (String t : fenceTargets) {
            b.append("fence ").append(t).append('\n');
        }
        return b.toString();
    }

    static Member parse(String text) {
        if (!text.startsWith(MAGIC + "\n")) {
            throw new IllegalArgumentException("not a member record");
        }
        String node = null;
        int tag = 0;
        int group = 0;
        List<Integer> ports = new ArrayList<>();
        List<Portal> portals = new ArrayList<>();
        List<String> fence = new ArrayList<>();
        for (String line : text.substring(MAGIC.length() + 1).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int sp = line.indexOf(' ');
            String key = sp < 0 ? line : line.substring(0, sp);
            String value = sp < 0 ? "" : line.substring(sp + 1);
            switch (key) {
                case "node" -> node = value;
                case "portal-group-tag" -> tag = Integer.parseInt(value);
                case "target-port-group" -> group = Integer.parseInt(value);
                case "relative-target-port" -> ports.add(Integer.parseInt(value));
                case "portal" -> portals.add(Portal.parse(value));
                case "fence" -> fence.add(value);
                default -> { } // a newer writer's field: ignored, so members of mixed versions can coexist
            }
        }
        if (node == null) {
            throw new IllegalArgumentException("member record without node id");
        }
        return new Member(node, portals, tag, group, ports, fence);
    }
}
