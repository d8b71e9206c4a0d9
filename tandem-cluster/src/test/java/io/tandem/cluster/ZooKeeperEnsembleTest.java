package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Three coordinators on a real three-server ZooKeeper ensemble, one server of which dies. */
@Timeout(90)
class ZooKeeperEnsembleTest {

    static final String LU = "600140500000000000000000000000cc";

    private TestingCluster ensemble;
    private final List<ZooKeeperCoordinator> nodes = new ArrayList<>();
    private final List<RecordingWatcher> watchers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            specs.add(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1));
        }
        ensemble = new TestingCluster(specs);
        ensemble.start();
        for (int i = 1; i <= 3; i++) {
            ZooKeeperCoordinator c = ZooKeeperCoordinator.start(new ZooKeeperCoordinator.Settings(ensemble.getConnectString(),
                    "/tandem-ensemble", "n" + i, Duration.ofSeconds(6), Duration.ofSeconds(1), Duration.ofSeconds(20)));
            nodes.add(c);
            RecordingWatcher w = new RecordingWatcher();
            watchers.add(w);
            c.join(LU, w);
        }
    }

    @AfterEach
    void stop() throws Exception {
        nodes.forEach(ZooKeeperCoordinator::close);
        ensemble.close();
    }

    @Test
    void losingOneOfThreeServersKeepsEveryNodeWorkingWithoutLosingAChange() throws Exception {
        // The server n1 is connected to dies while all three nodes keep changing the record.
        InstanceSpec victim = ensemble.findConnectionInstance(nodes.get(0).zooKeeper());
        long sessionBefore = nodes.get(0).session();
        Set<Long> versions = ConcurrentHashMap.newKeySet();
        AtomicInteger failures = new AtomicInteger();
        int perNode = 12;
        List<Thread> writers = new ArrayList<>();
        for (ZooKeeperCoordinator n : nodes) {
            writers.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < perNode; i++) {
                    // A node that is fenced for a moment refuses; its caller (an initiator) retries.
                    while (true) {
                        try {
                            versions.add(n.update(LU, LuState::nextPrGeneration).get(20, TimeUnit.SECONDS).version());
                            break;
                        } catch (Exception e) {
                            failures.incrementAndGet();
                            try {
                                Thread.sleep(50);
                            } catch (InterruptedException ie) {
                                return;
                            }
                        }
                    }
                }
            }));
        }
        Thread.sleep(200);
        assertThat(ensemble.killServer(victim)).isTrue();
        for (Thread t : writers) {
            assertThat(t.join(Duration.ofSeconds(60))).isTrue();
        }
        long total = nodes.size() * perNode;
        assertThat(versions).hasSize((int) total);
        for (int i = 0; i < nodes.size(); i++) {
            RecordingWatcher w = watchers.get(i);
            assertThat(w.awaitVersion(total, 10_000)).isTrue();
            assertThat(w.inOrderWithoutGaps(0)).as("n%d saw every version in order", i + 1).isTrue();
            assertThat(nodes.get(i).cached(LU).prGeneration()).isEqualTo(total);
            assertThat(nodes.get(i).versionGaps()).isZero();
        }
        // n1 moved to a surviving server within its session: nobody expired, everyone serves.
        ZooKeeperCoordinatorTest.await("all serving", 10_000, () -> nodes.stream().allMatch(ZooKeeperCoordinator::serving));
        assertThat(nodes.get(0).session()).isEqualTo(sessionBefore);
        assertThat(nodes.get(0).members()).extracting(Member::nodeId).containsExactly("n1", "n2", "n3");
        assertThat(ensemble.findConnectionInstance(nodes.get(0).zooKeeper())).isNotEqualTo(victim);
    }
}
