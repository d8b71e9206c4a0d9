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
 * LUN growth and addition) with the nodes coordinated through Ceph RADOS instead of ZooKeeper,
 * against a real Ceph cluster (scripts/ceph-mini).
 */
@ExtendWith(CephClusterExtension.class)
class TandemRadosClusterTest extends TandemClusterTest {

    private static CephCluster ceph;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    /** Hides the superclass's: no ZooKeeper ensemble here. */
    @BeforeAll
    static void startEnsemble(CephCluster cluster) {
        ceph = cluster;
    }

    @Override
    ClusterSettings clusterSettings(String name) {
        return ClusterSettings.rados(new ClusterSettings.Ceph(ceph.conf(), CephCluster.POOL, null, null), name + "-" + RUN, SESSION);
    }
}
