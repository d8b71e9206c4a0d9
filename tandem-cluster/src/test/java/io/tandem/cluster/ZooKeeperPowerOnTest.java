package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster in which no node is live and that starts again is a power on of the target device: the
 * first node to join keeps of every LU's record what SPC-4 keeps through a power loss. A node
 * joining a live cluster, or rejoining it, changes nothing.
 */
@Timeout(60)
class ZooKeeperPowerOnTest {

    static final String LU = "600140500000000000000000000000bb";
    static final NexusId A = new NexusId("iqn.2026-01.test:a,i,0x000000000001", 1);
    static final NexusId B = new NexusId("iqn.2026-01.test:b,i,0x000000000002", 2);

    static final LuStateWatcher NOTHING_TO_APPLY = (previous, next) -> CompletableFuture.completedFuture(null);

    static TestingServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static ZooKeeperCoordinator node(String root, String id) {
        return ZooKeeperCoordinator.start(new ZooKeeperCoordinator.Settings(server.getConnectString(), root, id,
                Duration.ofSeconds(8), Duration.ofSeconds(1), Duration.ofSeconds(20)));
    }

    private static LuState reserve(ZooKeeperCoordinator node, boolean aptpl) throws Exception {
        return node.update(LU, s -> s.withRegistration(new Registration(A, 7)).withRegistration(new Registration(B, 8))
                .withReservation(new PersistentReservation(A, ReservationType.WRITE_EXCLUSIVE)).withAptpl(aptpl)
                .withSpc2Holder(B).withCapacityBlocks(4096).withAluaOwnerGroup(2).withModeParameters(0x5)
                .nextPrGeneration()).get(20, TimeUnit.SECONDS);
    }

    @Test
    void withoutAptplTheFirstNodeOfAStoppedClusterClearsTheReservationsButKeepsTheLusConfiguration(TestInfo info) throws Exception {
        String root = "/power-on/" + info.getTestMethod().orElseThrow().getName();
        LuState before;
        try (ZooKeeperCoordinator n1 = node(root, "n1"); ZooKeeperCoordinator n2 = node(root, "n2")) {
            n1.join(LU, NOTHING_TO_APPLY);
            before = reserve(n1, false);
            // n2 restarts while n1 is live: no power on
            n2.close();
            try (ZooKeeperCoordinator again = node(root, "n2")) {
                assertThat(again.join(LU, NOTHING_TO_APPLY))
                        .as("joined a live cluster").isEqualTo(before);
            }
        }
        try (ZooKeeperCoordinator first = node(root, "n2")) {
            LuState after = first.join(LU, NOTHING_TO_APPLY);
            assertThat(after.version()).isEqualTo(before.version() + 1);
            assertThat(after.registrations()).isEmpty();
            assertThat(after.reservation()).isNull();
            assertThat(after.spc2Holder()).isNull();
            assertThat(after.modeParameters()).isZero();
            assertThat(after.prGeneration()).isEqualTo(before.prGeneration());
            assertThat(after.capacityBlocks()).isEqualTo(4096);
            assertThat(after.aluaOwnerGroup()).isEqualTo(2);
        }
    }

    @Test
    void withAptplRegistrationsAndTheReservationSurviveAStopOfEveryNode(TestInfo info) throws Exception {
        String root = "/power-on/" + info.getTestMethod().orElseThrow().getName();
        LuState before;
        try (ZooKeeperCoordinator n1 = node(root, "n1")) {
            n1.join(LU, NOTHING_TO_APPLY);
            before = reserve(n1, true);
        }
        try (ZooKeeperCoordinator n1 = node(root, "n1")) {
            LuState after = n1.join(LU, NOTHING_TO_APPLY);
            assertThat(after.registrations()).isEqualTo(before.registrations());
            assertThat(after.reservation()).isEqualTo(before.reservation());
            assertThat(after.spc2Holder()).as("SPC-2 reservations never survive a power loss").isNull();
            assertThat(after.modeParameters()).isZero();
        }
    }
}
