package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class EmbeddedZooKeeperTest {

    static final String LU = "600140500000000000000000000000dd";

    @TempDir
    Path dir;

    @Test
    void twoNodesAgreeThroughTheEmbeddedServerAndTheRecordSurvivesItsRestart() throws Exception {
        LuStateWatcher ignore = (p, n) -> CompletableFuture.completedFuture(null);
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"), 0)) {
            try (ZooKeeperCoordinator n1 = ZooKeeperCoordinator.start(settings(zk, "n1"));
                 ZooKeeperCoordinator n2 = ZooKeeperCoordinator.start(settings(zk, "n2"))) {
                n1.join(LU, ignore);
                n2.join(LU, ignore);
                n1.update(LU, s -> s.withRegistration(new Registration(new NexusId("iqn.x:a", 1), 5)).withAptpl(true).nextPrGeneration())
                        .get(10, TimeUnit.SECONDS);
                assertThat(n2.cached(LU).registrations()).hasSize(1);
            }
        }
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zk"), 0);
             ZooKeeperCoordinator n1 = ZooKeeperCoordinator.start(settings(zk, "n1"))) {
            assertThat(n1.join(LU, ignore).registrations()).hasSize(1);
        }
    }

    private static ZooKeeperCoordinator.Settings settings(EmbeddedZooKeeper zk, String node) {
        return new ZooKeeperCoordinator.Settings(zk.connectString(), "/demo", node, Duration.ofSeconds(4), Duration.ofSeconds(1),
                Duration.ofSeconds(10));
    }
}
