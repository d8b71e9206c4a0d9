package io.tandem.server;

import io.tandem.iscsi.login.ChapCredentials;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything one Tandem node needs to start. Build with {@link #builder()}.
 *
 * <p>A node has its own part (node id, portals, data directory, timers, how it reaches the
 * cluster) and a part every node of a cluster shares (target name, alias and initiators, CHAP, the
 * LUNs with their ACLs and ALUA modes). Standing alone ({@link #cluster()} null) both come from the
 * node's own flags and file; in a cluster the shared part is the cluster's configuration, and
 * whatever the node's file says about it only seeds a cluster that has none yet.
 *
 * @param initiators the iSCSI names allowed to log in; empty means any initiator (each LUN may
 *     further restrict who sees it, see {@link LunConfig#initiators()})
 * @param nodeId    this node's id in its cluster, 1..65535: it is also the node's ALUA target port
 *     group, target portal group tag and relative target port id, which is what makes those unique
 *     cluster-wide (1 for a node standing alone)
 * @param cluster   how to join the cluster, or null for a node standing alone
 */
public record NodeConfig(String targetName, String targetAlias, List<InetSocketAddress> portals, Path dataDir,
                         List<LunConfig> luns, ChapCredentials chap, ChapCredentials mutualChap,
                         Duration nopInterval, Duration nopTimeout, Duration shutdownGrace, List<String> initiators,
                         int nodeId, ClusterSettings cluster) {

    public static final String DEFAULT_TARGET_NAME = "iqn.2026-11.io.tandem:disk";
    public static final long DEFAULT_LUN_SIZE = 1L << 30;
    public static final int MAX_NODE_ID = 0xFFFF;

    public NodeConfig {
        if (nodeId < 1 || nodeId > MAX_NODE_ID) {
            throw new ConfigException("node.id", "must be 1.." + MAX_NODE_ID + ", got " + nodeId);
        }
        if (!isIscsiName(targetName)) {
            throw new ConfigException("target.name", "not a valid iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui. or naa.): " + targetName);
        }
        if (portals == null || portals.isEmpty()) {
            throw new ConfigException("portals", "at least one portal is required");
        }
        if (luns == null || (luns.isEmpty() && cluster == null)) {
            throw new ConfigException("luns", "at least one LUN is required");
        }
        Set<Integer> numbers = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (LunConfig lun : luns) {
            if (!numbers.add(lun.number())) {
                throw new ConfigException("luns[].number", "LUN " + lun.number() + " is defined twice");
            }
            if (!names.add(lun.name())) {
                throw new ConfigException("luns[].name", "name " + lun.name() + " is used twice");
            }
            if (cluster != null && lun.backend() == LunConfig.Backend.MEMORY) {
                // Each node would serve its own memory: paths to one LU that disagree about its data.
                throw new ConfigException("luns[" + lun.number() + "].backend",
                        "memory LUNs cannot be shared by a cluster's nodes; use a file on shared storage");
            }
        }
        portals = List.copyOf(portals);
        luns = List.copyOf(luns);
        initiators = List.copyOf(initiators == null ? List.of() : initiators);
        for (int i = 0; i < initiators.size(); i++) {
            if (!isIscsiName(initiators.get(i))) {
                throw new ConfigException("target.initiators[" + i + "]", "not a valid iSCSI name: " + initiators.get(i));
            }
        }
    }

    /** RFC 7143 iSCSI name forms (iqn., eui., naa.), at most 223 bytes. */
    public static boolean isIscsiName(String name) {
        return name != null && name.length() <= 223
                && name.matches("(iqn\\.\\d{4}-\\d{2}\\.[a-z0-9.-]+(:.+)?|eui\\.[0-9A-Fa-f]{16}|naa\\.[0-9A-Fa-f]{16,32})");
    }

    /** The same node with another LUN list (runtime LUN changes). */
    public NodeConfig withLuns(List<LunConfig> newLuns) {
        return new NodeConfig(targetName, targetAlias, portals, dataDir, newLuns, chap, mutualChap, nopInterval,
                nopTimeout, shutdownGrace, initiators, nodeId, cluster);
    }

    /**
     * This node's own settings with the cluster-wide part (target, initiators, CHAP, LUNs) taken
     * from {@code shared}.
     */
    public NodeConfig withClusterWide(NodeConfig shared) {
        return new NodeConfig(shared.targetName, shared.targetAlias, portals, dataDir, shared.luns, shared.chap,
                shared.mutualChap, nopInterval, nopTimeout, shutdownGrace, shared.initiators, nodeId, cluster);
    }

    /** Whether the cluster-wide parts of two configurations are the same. */
    public boolean sameClusterWide(NodeConfig other) {
        return targetName.equals(other.targetName) && java.util.Objects.equals(targetAlias, other.targetAlias)
                && luns.equals(other.luns) && java.util.Objects.equals(chap, other.chap)
                && java.util.Objects.equals(mutualChap, other.mutualChap) && initiators.equals(other.initiators);
    }

    /** This node's ALUA target port group id (and portal group tag, and relative target port id): its node id. */
    public int targetPortGroup() {
        return nodeId;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Mutable builder with the embedded defaults: 127.0.0.1:3260, ./tandem-data, node 1 standing
     * alone, one 1 GiB file LUN (none for a cluster node: it gets the cluster's).
     */
    public static final class Builder {
        private String targetName = DEFAULT_TARGET_NAME;
        private String targetAlias;
        private final List<InetSocketAddress> portals = new ArrayList<>();
        private Path dataDir = Path.of("tandem-data");
        private final List<LunConfig> luns = new ArrayList<>();
        private ChapCredentials chap;
        private ChapCredentials mutualChap;
        private Duration nopInterval = Duration.ofSeconds(5);
        private Duration nopTimeout = Duration.ofSeconds(15);
        private Duration shutdownGrace = Duration.ofSeconds(5);
        private List<String> initiators = List.of();
        private int nodeId = 1;
        private ClusterSettings cluster;

        public Builder targetName(String name) { this.targetName = name; return this; }
        public Builder targetAlias(String alias) { this.targetAlias = alias; return this; }
        public Builder portal(InetSocketAddress portal) { portals.add(portal); return this; }
        public Builder portal(String host, int port) { return portal(new InetSocketAddress(host, port)); }
        public Builder dataDir(Path dir) { this.dataDir = dir; return this; }
        public Builder lun(LunConfig lun) { luns.add(lun); return this; }
        public Builder lun(int number, long sizeBytes, int blockSize) { return lun(LunConfig.file(number, sizeBytes, blockSize)); }
        public Builder chap(String user, String secret) { this.chap = ChapCredentials.of(user, secret); return this; }
        public Builder mutualChap(String user, String secret) { this.mutualChap = ChapCredentials.of(user, secret); return this; }
        public Builder nop(Duration interval, Duration timeout) { this.nopInterval = interval; this.nopTimeout = timeout; return this; }
        public Builder shutdownGrace(Duration grace) { this.shutdownGrace = grace; return this; }
        /** Only these initiators may log in (empty: anyone). */
        public Builder initiators(List<String> names) { this.initiators = List.copyOf(names); return this; }

        public Builder nodeId(int id) { this.nodeId = id; return this; }
        public Builder cluster(ClusterSettings settings) { this.cluster = settings; return this; }
        public boolean clustered() { return cluster != null; }

        public boolean hasLuns() { return !luns.isEmpty(); }
        public Builder clearPortals() { portals.clear(); return this; }

        public NodeConfig build() {
            List<InetSocketAddress> p = portals.isEmpty() ? List.of(new InetSocketAddress("127.0.0.1", 3260)) : portals;
            // A cluster node gets its LUNs from the cluster: no default LUN of its own.
            List<LunConfig> l = luns.isEmpty() && cluster == null ? List.of(LunConfig.file(0, DEFAULT_LUN_SIZE, 512)) : luns;
            if (mutualChap != null && chap == null) {
                throw new ConfigException("chap.mutual", "mutual CHAP needs initiator CHAP credentials too");
            }
            return new NodeConfig(targetName, targetAlias, p, dataDir, l, chap, mutualChap, nopInterval, nopTimeout,
                    shutdownGrace, initiators, nodeId, cluster);
        }
    }
}
