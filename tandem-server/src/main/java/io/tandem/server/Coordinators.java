package io.tandem.server;

import io.tandem.cluster.Coordinator;
import io.tandem.cluster.RadosCoordinator;
import io.tandem.cluster.ZooKeeperCoordinator;
import java.time.Duration;
import java.util.Map;

/** Opens the coordinator a cluster node's configuration asks for. */
final class Coordinators {

    /** Where the clusters live in ZooKeeper: one subtree per cluster name. */
    static final String ROOT = "/tandem";

    private Coordinators() {
    }

    /** The coordinator of the node's cluster, connected and a member. */
    static Coordinator open(NodeConfig config) {
        return switch (config.cluster().coordinator()) {
            case ZOOKEEPER -> zooKeeper(config);
            case RADOS -> rados(config);
        };
    }

    /**
     * The ZooKeeper coordinator of the node's cluster, connected and a member: node id = the
     * decimal node id, root {@value #ROOT}/&lt;cluster name&gt;. An update waits for members at most
     * three session timeouts (a dead member's session has expired well before that).
     */
    static Coordinator zooKeeper(NodeConfig config) {
        ClusterSettings cluster = config.cluster();
        Duration session = cluster.sessionTimeout();
        Duration connection = session.compareTo(Duration.ofSeconds(5)) < 0 ? session : Duration.ofSeconds(5);
        ZooKeeperCoordinator.Settings settings = ZooKeeperCoordinator.Settings
                .of(cluster.zookeeper(), Integer.toString(config.nodeId()))
                .withRoot(ROOT + "/" + cluster.name())
                .withTimeouts(session, connection, session.multipliedBy(3));
        return ZooKeeperCoordinator.start(settings);
    }

    /**
     * The RADOS coordinator of the node's cluster, connected and a member: node id = the decimal
     * node id, objects {@code tandem.<cluster name>.*} in the configured pool, lease = the session
     * timeout; an update waits for members at most three of them.
     */
    static Coordinator rados(NodeConfig config) {
        ClusterSettings cluster = config.cluster();
        ClusterSettings.Ceph ceph = cluster.ceph();
        Duration lease = cluster.sessionTimeout();
        return RadosCoordinator.start(new RadosCoordinator.Settings(ceph.conf(), ceph.clientId(), ceph.keyring(), ceph.pool(),
                cluster.name(), Integer.toString(config.nodeId()), lease, lease.multipliedBy(3), Map.of()));
    }
}
