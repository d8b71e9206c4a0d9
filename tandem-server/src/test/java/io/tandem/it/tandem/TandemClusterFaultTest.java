package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.support.PartitionableLink;
import io.tandem.it.support.Patterns;
import io.tandem.server.ClusterSettings;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster under faults, on a real three-server ZooKeeper ensemble of its own: losing the
 * ZooKeeper quorum fences every node until it is back, and a node cut off from ZooKeeper while its
 * initiator writes cannot land a write of that initiator after another node's PREEMPT AND ABORT
 * returned, while nothing it acknowledged is lost.
 */
@Timeout(180)
class TandemClusterFaultTest {

    static final String TARGET = "iqn.2025-01.io.tandem.it:faults";
    static final int LUN = 0;
    static final int BLOCK = 512;
    /** Steady nodes: no spurious suspension on a loaded machine. */
    static final Duration SESSION = TandemClusterTest.SESSION;
    /** A node the test partitions: the others stop waiting for it this long after it went silent. */
    static final Duration PARTITIONED_SESSION = Duration.ofSeconds(4);
    static final Duration WAIT = Duration.ofSeconds(40);
    static final long KEY_A = 0xA1A1A1A1A1A1A1A1L, KEY_B = 0xB2B2B2B2B2B2B2B2L;
    static final int REGISTER = 0x00, RESERVE = 0x01, PREEMPT_AND_ABORT = 0x05, WE_RO = 0x5;

    @TempDir
    Path dir;
    private TestingCluster ensemble;
    private final Map<Integer, TandemNode> nodes = new TreeMap<>();
    private final List<IscsiSession> sessions = new ArrayList<>();
    private final List<PartitionableLink> links = new ArrayList<>();

    @BeforeEach
    void startEnsemble() throws Exception {
        ensemble = TandemClusterTest.ensemble(3);
        ensemble.start();
    }

    @AfterEach
    void stopAll() throws IOException {
        sessions.forEach(IscsiSession::close);
        links.forEach(PartitionableLink::close);
        nodes.values().forEach(TandemNode::close);
        if (ensemble != null) {
            ensemble.close();
        }
    }

    // ---------------------------------------------------------------- the coordinator's faults (ZooKeeper here)

    /** How a node reaches the coordinator; a partitionable one goes through links the test can cut. */
    ClusterSettings clusterSettings(boolean partitionable, Duration session) throws IOException {
        return new ClusterSettings(partitionable ? linkedConnectString() : ensemble.getConnectString(), "faults", session);
    }

    /** Cuts the partitionable node off from the coordinator, silently (nothing is closed). */
    void partition(TandemNode node) throws Exception {
        links.forEach(PartitionableLink::partition);
    }

    void heal(TandemNode node) throws Exception {
        links.forEach(PartitionableLink::heal);
    }

    /** The coordinator stops answering every node (two of three ZooKeeper servers die). */
    void loseQuorum() throws Exception {
        List<InstanceSpec> servers = new ArrayList<>(ensemble.getInstances());
        ensemble.killServer(servers.get(0));
        ensemble.killServer(servers.get(1));
    }

    void regainQuorum() throws Exception {
        List<InstanceSpec> servers = new ArrayList<>(ensemble.getInstances());
        ensemble.restartServer(servers.get(0));
        ensemble.restartServer(servers.get(1));
    }

    private TandemNode startNode(int id, boolean partitionable, Duration session) throws IOException {
        NodeConfig config = NodeConfig.builder()
                .nodeId(id)
                .cluster(clusterSettings(partitionable, session))
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(Files.createDirectories(dir.resolve("node-" + id)))
                .targetName(TARGET)
                .lun(new LunConfig(LUN, "lun0", LunConfig.Backend.FILE, dir.resolve("lun0.img"), 16L << 20, BLOCK, false))
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        TandemNode node = TandemNode.start(config);
        nodes.put(id, node);
        return node;
    }

    /** The ensemble's connect string through a partitionable link per server. */
    private String linkedConnectString() throws IOException {
        List<String> addresses = new ArrayList<>();
        for (InstanceSpec spec : ensemble.getInstances()) {
            PartitionableLink link = new PartitionableLink(new InetSocketAddress("127.0.0.1", spec.getPort()));
            links.add(link);
            addresses.add(link.address());
        }
        return String.join(",", addresses);
    }

    private IscsiSession login(int node, String initiator, int isidTail) throws IOException {
        LoginOptions options = LoginOptions.normal(TARGET).initiatorName(initiator)
                .isid(new byte[]{(byte) 0x80, 0x12, 0x34, 0x56, 0x00, (byte) isidTail});
        IscsiSession s = IscsiSession.login(nodes.get(node).portal(), options);
        sessions.add(s);
        drain(s);
        return s;
    }

    private static ScsiResult testUnitReady(IscsiSession s) throws IOException {
        return s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
    }

    /** TEST UNIT READY until it answers something other than a unit attention. */
    private static ScsiResult drain(IscsiSession s) throws IOException {
        for (int i = 0; i < 20; i++) {
            ScsiResult r = testUnitReady(s);
            if (r.sense() == null || r.sense().key() != Sense.UNIT_ATTENTION) {
                return r;
            }
        }
        throw new AssertionError("unit attentions did not stop");
    }

    private static boolean transitioning(ScsiResult r) {
        return r.status() == ScsiResult.CHECK_CONDITION && r.sense() != null && r.sense().is(Sense.NOT_READY, 0x04, 0x0A);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(50);
        }
    }

    private interface IoCheck {
        boolean test() throws IOException;
    }

    private static BooleanSupplier io(IoCheck check) {
        return () -> {
            try {
                return check.test();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Test
    void losingTheZooKeeperQuorumFencesEveryNodeUntilItIsBack() throws Exception {
        for (int id = 1; id <= 3; id++) {
            startNode(id, false, SESSION);
        }
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:fenced", 1);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:fenced", 3);
        loseQuorum();

        await(io(() -> transitioning(testUnitReady(s1))), "node 1 refuses commands as Transitioning");
        await(io(() -> transitioning(s3.execute(ScsiRequest.write(LUN, Cdbs.write10(5, 1), new byte[BLOCK])))),
                "node 3 refuses writes as Transitioning");
        byte[] rtpg = s1.execute(ScsiRequest.read(LUN, new byte[]{(byte) 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0}, 1024))
                .requireGood();
        assertThat(rtpg[4] & 0x0F).as("REPORT TARGET PORT GROUPS still answers: node 1's group is Transitioning")
                .isEqualTo(0xF);

        regainQuorum();
        await(io(() -> drain(s1).isGood()), "node 1 serves again once the quorum is back");
        await(io(() -> s3.execute(ScsiRequest.write(LUN, Cdbs.write10(5, 1), Patterns.blocks(5, 1, BLOCK, 1))).isGood()),
                "node 3 writes again");
    }

    /** One write the preempted initiator sent, and how it ended. */
    private record Attempt(int index, long lba, int status) {
    }

    @Test
    void aPartitionedNodeLandsNoWriteOfAPreemptedInitiatorAfterThePreemptReturned() throws Exception {
        startNode(1, true, PARTITIONED_SESSION);
        startNode(2, false, SESSION);
        startNode(3, false, SESSION);
        IscsiSession victim = login(1, "iqn.2025-01.io.tandem.it:victim", 1);
        IscsiSession preemptor = login(2, "iqn.2025-01.io.tandem.it:preemptor", 2);
        assertThat(victim.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(preemptor.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(preemptor.device(LUN).persistentReserveOut(RESERVE, WE_RO, KEY_B, 0, false).isGood()).isTrue();

        // The victim writes block after block (each its own LBA and pattern) through node 1.
        long base = 1000;
        int maxWrites = 20_000;
        List<Attempt> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        victim.commandTimeout(Duration.ofSeconds(30));
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < maxWrites && !stop.get(); i++) {
                long lba = base + i;
                try {
                    ScsiResult r = victim.execute(ScsiRequest.write(LUN, Cdbs.write10(lba, 1), Patterns.blocks(lba, 1, BLOCK, 9)));
                    attempts.add(new Attempt(i, lba, r.status()));
                    Thread.sleep(5);
                } catch (IOException | InterruptedException e) {
                    attempts.add(new Attempt(i, lba, -1));
                    return;
                }
            }
        });
        await(() -> attempts.stream().filter(a -> a.status() == ScsiResult.GOOD).count() >= 20, "the victim writes");

        partition(nodes.get(1));
        ScsiResult preempt = preemptor.execute(
                preemptor.device(LUN).persistentReserveOutRequest(PREEMPT_AND_ABORT, WE_RO, KEY_B, KEY_A, false));
        assertThat(preempt.status()).as("PREEMPT AND ABORT completes once node 1's session expired: " + preempt)
                .isEqualTo(ScsiResult.GOOD);
        int attempted = attempts.size() + 1; // the one in flight may still be counted
        IscsiSession reader = login(3, "iqn.2025-01.io.tandem.it:reader", 3);
        int span = attempted + 400; // beyond anything the writer can reach in the rest of the test at its pace
        byte[] atPreempt = read(reader, base, span);

        Thread.sleep(1500); // the victim keeps trying through the partitioned node
        heal(nodes.get(1));
        await(() -> nodes.get(1).coordinator().serving(), "node 1 rejoins the cluster");
        Thread.sleep(1000); // and keeps trying through the rejoined node
        stop.set(true);
        writer.join(Duration.ofSeconds(40));

        byte[] after = read(reader, base, span);
        assertThat(after).as("nothing of the preempted initiator landed after PREEMPT AND ABORT returned")
                .isEqualTo(atPreempt);
        for (Attempt a : attempts) {
            if (a.status() == ScsiResult.GOOD) {
                assertThat(java.util.Arrays.copyOfRange(after, (int) (a.lba() - base) * BLOCK, (int) (a.lba() - base + 1) * BLOCK))
                        .as("acknowledged write %d is on the medium", a.index())
                        .isEqualTo(Patterns.blocks(a.lba(), 1, BLOCK, 9));
            }
        }
        Attempt last = attempts.getLast();
        assertThat(last.status()).as("after rejoining, the preempted initiator conflicts").isIn(
                ScsiResult.RESERVATION_CONFLICT, ScsiResult.CHECK_CONDITION);
    }

    private static byte[] read(IscsiSession s, long lba, int blocks) throws IOException {
        byte[] out = new byte[blocks * BLOCK];
        for (int at = 0; at < blocks; at += 1024) {
            int n = Math.min(1024, blocks - at);
            ScsiRequest request = ScsiRequest.read(LUN, Cdbs.read10(lba + at, n), n * BLOCK);
            ScsiResult r = s.execute(request);
            for (int i = 0; i < 10 && r.sense() != null && r.sense().key() == Sense.UNIT_ATTENTION; i++) {
                r = s.execute(request); // e.g. ASYMMETRIC ACCESS STATE CHANGED when node 1 left or came back
            }
            byte[] chunk = r.requireGood();
            System.arraycopy(chunk, 0, out, at * BLOCK, chunk.length);
        }
        return out;
    }
}
