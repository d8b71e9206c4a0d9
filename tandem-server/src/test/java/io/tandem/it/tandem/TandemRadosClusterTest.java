package io.tandem.it.tandem;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.server.ClusterSettings;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link TandemClusterTest}'s three-node scenarios (SendTargets, identity on every path, PR and
 * PREEMPT AND ABORT across nodes, cluster-wide resets, CAW, Unavailable groups, ALUA ownership,
 * LUN growth and addition, target reset, SET TARGET PORT GROUPS, removable medium, sanitize) with the nodes coordinated through Ceph RADOS instead of ZooKeeper,
 * against a real Ceph cluster (scripts/ceph-mini).
 */
@ExtendWith(CephClusterExtension.class)
class TandemRadosClusterTest extends TandemClusterTest {

    /**
     * A node stops serving after half its lease without a confirmed ping (a ZooKeeper node after
     * two thirds of its session): a longer lease keeps a loaded machine from fencing it spuriously.
     */
    static final java.time.Duration STEADY_LEASE = java.time.Duration.ofSeconds(15);

    private static CephCluster ceph;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    /** Hides the superclass's: no ZooKeeper ensemble here. */
    @BeforeAll
    static void startEnsemble(CephCluster cluster) {
        ceph = cluster;
    }

    @Override
    ClusterSettings clusterSettings(String name) {
        return ClusterSettings.rados(new ClusterSettings.Ceph(ceph.conf(), CephCluster.POOL, null, null), name + "-" + RUN, STEADY_LEASE);
    }
}
