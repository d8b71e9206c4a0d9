package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.cluster.RadosCoordinator;
import io.tandem.server.ClusterSettings;
import io.tandem.server.TandemNode;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link TandemClusterFaultTest}'s scenarios with the nodes coordinated through Ceph RADOS: the
 * OSD stopped (SIGSTOP) fences every node until it runs again; a node partitioned from the
 * coordinator (its client stops pinging its watch and it answers no notification) lands no write
 * of an initiator preempted through another node after the preemption returned, and is fenced
 * (blocklisted) by the survivor before it goes on.
 */
@ExtendWith(CephClusterExtension.class)
class TandemRadosClusterFaultTest extends TandemClusterFaultTest {

    private static CephCluster ceph;
    private String cluster;

    @BeforeAll
    static void ceph(CephCluster c) {
        ceph = c;
    }

    /** A cluster name of its own per test (the pool keeps every cluster's objects). */
    @BeforeEach
    void nameRadosCluster() {
        cluster = "faults-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Steady nodes get {@link TandemRadosClusterTest#STEADY_LEASE}; the partitioned one its short session. */
    @Override
    ClusterSettings clusterSettings(boolean partitionable, Duration session) {
        return ClusterSettings.rados(new ClusterSettings.Ceph(ceph.conf(), CephCluster.POOL, null, null), cluster,
                partitionable ? session : TandemRadosClusterTest.STEADY_LEASE);
    }

    @Override
    String clusterYaml(Duration session) {
        return "cluster: { coordinator: rados, ceph-conf: \"" + ceph.conf() + "\", pool: " + CephCluster.POOL
                + ", name: " + cluster + ", session-timeout: " + session.toSeconds() + " }\n";
    }

    /**
     * Not a scenario here: RADOS has no coordinator servers of Tandem's to lose one of (the OSDs'
     * outage is {@link #loseQuorum}). Overridden without {@code @Test}, so JUnit does not run it.
     */
    @Override
    void losingOneZooKeeperServerKeepsEveryNodeServingAndPrOutCompletingEverywhere() {
    }

    @Override
    void partition(TandemNode node) throws Exception {
        silence(node, true);
    }

    @Override
    void heal(TandemNode node) throws Exception {
        silence(node, false);
    }

    /** The coordinator's test hook (package-private on purpose: it is no API). */
    private static void silence(TandemNode node, boolean on) throws Exception {
        Method silence = RadosCoordinator.class.getDeclaredMethod("silence", boolean.class);
        silence.setAccessible(true);
        silence.invoke(node.coordinator(), on);
    }

    @Override
    void loseQuorum() throws Exception {
        signalOsds("STOP");
    }

    @Override
    void regainQuorum() throws Exception {
        signalOsds("CONT");
    }

    /** Signals every OSD of the test cluster by the PID its start script recorded, if it is still that daemon. */
    private static void signalOsds(String signal) throws Exception {
        try (var files = Files.newDirectoryStream(ceph.dir().resolve("run"), "osd.*.pid")) {
            for (Path f : files) {
                String pid = Files.readString(f).strip();
                assertThat(Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ')).contains(ceph.conf().toString());
                Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
                assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
                assertThat(kill.exitValue()).isZero();
            }
        }
    }
}
