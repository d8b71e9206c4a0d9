package io.tandem.server;

import io.tandem.cluster.Coordinator;

/** Opens the coordinator a cluster node's configuration asks for. */
final class Coordinators {

    private Coordinators() {
    }

    /** The ZooKeeper coordinator of the node's cluster, connected and a member. */
    static Coordinator zooKeeper(NodeConfig config) {
        throw new UnsupportedOperationException("the ZooKeeper coordinator is not built yet");
    }
}
