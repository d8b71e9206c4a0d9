package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.DiscoveredTarget;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.support.HoldingBlockDevice;
import io.tandem.it.support.Patterns;
import io.tandem.scsi.alua.AluaMode;
import io.tandem.scsi.core.AluaState;
import io.tandem.server.ClusterSettings;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three Tandem nodes in one cluster on a real three-server ZooKeeper ensemble (curator-test's
 * {@link TestingCluster}), sharing one LUN file, driven over iSCSI by the test initiator: every
 * cross-node rule of the cluster contract. Each test gets a fresh cluster (its own name, so its own
 * ZooKeeper subtree) on the shared ensemble. Each node's LUN sits on a {@link HoldingBlockDevice}
 * so a test can keep a command in flight on one node while another node acts.
 */
@Timeout(120)
class TandemClusterTest {

    static final String TARGET = "iqn.2025-01.io.tandem.it:cluster";
    static final int LUN = 0;
    static final int BLOCK = 512;
    static final Duration WAIT = Duration.ofSeconds(20);
    /** How long "nothing happened" is watched for. */
    static final long QUIET_MILLIS = 400;
    /** ZooKeeper tick: sessions may last 2..20 ticks. */
    static final int TICK_MILLIS = 500;
    /** Long enough that a loaded machine causes no spurious suspension of a steady node. */
    static final Duration SESSION = Duration.ofSeconds(8);

    static final int REGISTER = 0x00, RESERVE = 0x01, RELEASE = 0x02, CLEAR = 0x03, PREEMPT = 0x04,
            PREEMPT_AND_ABORT = 0x05, REGISTER_AND_MOVE = 0x07;
    static final int WRITE_EXCLUSIVE = 0x1, WE_RO = 0x5;
    static final int LOGICAL_UNIT_RESET = 5, CLEAR_TASK_SET = 4, TARGET_WARM_RESET = 6;
    /** Unit attentions as 0xKKAAQQ. */
    static final int UA_POWER_ON_OR_RESET = 0x062900, UA_LU_RESET = 0x062903, UA_RESERVATIONS_PREEMPTED = 0x062A03,
            UA_RESERVATIONS_RELEASED = 0x062A04, UA_REGISTRATIONS_PREEMPTED = 0x062A05, UA_ACCESS_STATE_CHANGED = 0x062A06,
            UA_REPORTED_LUNS_CHANGED = 0x063F0E;
    static final int FUNCTION_COMPLETE = 0;

    private static TestingCluster ensemble;
    private static final AtomicInteger clusters = new AtomicInteger();

    @TempDir
    Path dir;
    private String clusterName;
    private final Map<Integer, TandemNode> nodes = new TreeMap<>();
    private final Map<Integer, HoldingBlockDevice> backends = new ConcurrentHashMap<>();
    private final List<IscsiSession> sessions = new ArrayList<>();

    static TestingCluster ensemble(int servers) {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            specs.add(new InstanceSpec(null, -1, -1, -1, true, i, TICK_MILLIS, -1));
        }
        return new TestingCluster(specs);
    }

    @BeforeAll
    static void startEnsemble() throws Exception {
        ensemble = ensemble(3);
        ensemble.start();
    }

    @AfterAll
    static void stopEnsemble() throws IOException {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    void startNodes() throws Exception {
        clusterName = "cluster" + clusters.incrementAndGet();
        for (int id = 1; id <= 3; id++) {
            startNode(id);
        }
        awaitSettled();
    }

    /**
     * Until every running node counts every running node as a live member and reads every one's group
     * Active/Optimized on LUN 0: each node learns of the others through its own watch, in its own time.
     */
    private void awaitSettled() throws InterruptedException {
        await(() -> nodes.values().stream().allMatch(n -> n.coordinator().members().size() == nodes.size()
                && nodes.keySet().stream().allMatch(g -> n.scsiTarget().logicalUnit(LUN).accessState(g) == AluaState.ACTIVE_OPTIMIZED)),
                "every node knows every node, each group Active/Optimized");
    }

    @AfterEach
    void stopNodes() {
        backends.values().forEach(HoldingBlockDevice::release);
        for (IscsiSession s : sessions) {
            s.close();
        }
        for (TandemNode node : nodes.values()) {
            node.close();
        }
    }

    /** How the nodes of one test's cluster find each other: the ensemble, or (a subclass) something else. */
    ClusterSettings clusterSettings(String name) {
        return new ClusterSettings(ensemble.getConnectString(), name, SESSION);
    }

    private TandemNode startNode(int id) throws IOException {
        NodeConfig config = NodeConfig.builder()
                .nodeId(id)
                .cluster(clusterSettings(clusterName))
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(Files.createDirectories(dir.resolve("node-" + id)))
                .targetName(TARGET)
                .lun(new LunConfig(LUN, "lun0", LunConfig.Backend.FILE, dir.resolve("lun0.img"), 16L << 20, BLOCK, false))
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        TandemNode node = TandemNode.start(config, line -> System.out.println("node " + id + ": " + line),
                device -> {
                    HoldingBlockDevice holding = new HoldingBlockDevice(device);
                    backends.putIfAbsent(id, holding); // LUN 0's device; later LUNs pass through unheld
                    return holding;
                });
        nodes.put(id, node);
        return node;
    }

    private void stopNode(int id) {
        backends.remove(id).release();
        nodes.remove(id).close();
    }

    /** Logs in to a node; the session's unit attentions from the login are drained. */
    private IscsiSession login(int node, String initiator, int isidTail) throws IOException {
        LoginOptions options = LoginOptions.normal(TARGET).initiatorName(initiator)
                .isid(new byte[]{(byte) 0x80, 0x12, 0x34, 0x56, 0x00, (byte) isidTail});
        IscsiSession s = IscsiSession.login(nodes.get(node).portal(), options);
        sessions.add(s);
        drainUnitAttentions(s);
        return s;
    }

    /** TEST UNIT READY until GOOD; the unit attentions seen, as 0xKKAAQQ. */
    private static List<Integer> drainUnitAttentions(IscsiSession s) throws IOException {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ScsiResult r = s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
            if (r.isGood()) {
                return seen;
            }
            assertThat(r.sense()).as(r.toString()).isNotNull();
            assertThat(r.sense().key()).as(r.toString()).isEqualTo(Sense.UNIT_ATTENTION);
            seen.add((r.sense().key() << 16) | (r.sense().asc() << 8) | r.sense().ascq());
        }
        throw new AssertionError("unit attentions did not stop");
    }

    /**
     * REPORT TARGET PORT GROUPS on {@code lun} until it answers; the unit attentions it reported
     * first. Unlike TEST UNIT READY it runs in every ALUA state and under every reservation.
     */
    /**
     * The unit attentions of a nexus once it has any: a configuration change (a LUN added or removed)
     * is applied by the other nodes as they hear of it, after the LU table changed.
     */
    private static List<Integer> awaitUnitAttentions(IscsiSession s) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<Integer> seen = drainUnitAttentions(s);
            if (!seen.isEmpty() || System.nanoTime() > deadline) {
                return seen;
            }
            Thread.sleep(20);
        }
    }

    private static List<Integer> unitAttentions(IscsiSession s, int lun) throws IOException {
        byte[] cdb = {(byte) 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0};
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ScsiResult r = s.execute(ScsiRequest.read(lun, cdb, 1024));
            if (r.isGood()) {
                return seen;
            }
            assertThat(r.sense()).as(r.toString()).isNotNull();
            assertThat(r.sense().key()).as(r.toString()).isEqualTo(Sense.UNIT_ATTENTION);
            seen.add((r.sense().key() << 16) | (r.sense().asc() << 8) | r.sense().ascq());
        }
        throw new AssertionError("unit attentions did not stop");
    }

    private static ScsiResult write(IscsiSession s, long lba, byte[] data) throws IOException {
        return s.execute(ScsiRequest.write(LUN, Cdbs.write10(lba, data.length / BLOCK), data));
    }

    private static byte[] read(IscsiSession s, long lba, int blocks) throws IOException {
        return s.execute(ScsiRequest.read(LUN, Cdbs.read10(lba, blocks), blocks * BLOCK)).requireGood();
    }

    /** REPORT TARGET PORT GROUPS (past unit attentions: an access state change is news too). */
    private static byte[] rtpg(IscsiSession s) throws IOException {
        return rtpg(s, LUN).requireGood();
    }

    private static ScsiResult rtpg(IscsiSession s, int lun) throws IOException {
        byte[] cdb = {(byte) 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0};
        ScsiResult r = s.execute(ScsiRequest.read(lun, cdb, 1024));
        for (int i = 0; i < 10 && r.sense() != null && r.sense().key() == Sense.UNIT_ATTENTION; i++) {
            r = s.execute(ScsiRequest.read(lun, cdb, 1024));
        }
        return r;
    }

    /** REPORT TARGET PORT GROUPS as group id -> access state code, plus the PREF group under key -1. */
    private static Map<Integer, Integer> groupStates(byte[] d) {
        Map<Integer, Integer> states = new TreeMap<>();
        for (int at = 4; at < d.length; at += 8 + 4 * (d[at + 7] & 0xFF)) {
            int group = (d[at + 2] & 0xFF) << 8 | (d[at + 3] & 0xFF);
            states.put(group, d[at] & 0x0F);
            if ((d[at] & 0x80) != 0) {
                states.put(-1, group);
            }
        }
        return states;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(20);
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

    private static void assertQuiet(CompletableFuture<?> f, String why) throws InterruptedException {
        Thread.sleep(QUIET_MILLIS);
        assertThat(f.isDone()).as(why).isFalse();
    }

    // ------------------------------------------------------------------ identity on every path

    @Test
    void sendTargetsOnEveryNodeListsEveryLiveNodesPortalWithItsGroupTag() throws Exception {
        List<String> expected = new ArrayList<>();
        nodes.forEach((id, node) -> expected.add("127.0.0.1:" + node.portal().getPort() + "," + id));
        for (TandemNode node : nodes.values()) {
            List<DiscoveredTarget> targets = IscsiSession.discover(node.portal(), LoginOptions.discovery());
            assertThat(targets).hasSize(1);
            assertThat(targets.getFirst().name()).isEqualTo(TARGET);
            assertThat(targets.getFirst().addresses()).as("from node on port %d", node.portal().getPort())
                    .containsExactlyElementsOf(expected);
        }
        stopNode(3);
        List<String> survivors = expected.subList(0, 2);
        await(io(() -> IscsiSession.discover(nodes.get(1).portal(), LoginOptions.discovery()).getFirst().addresses()
                .equals(survivors)), "a stopped node's portal leaves SendTargets");
    }

    @Test
    void everyPathReportsTheSameTargetPortGroupsAndLuIdentity() throws Exception {
        List<byte[]> reports = new ArrayList<>();
        byte[] naa = null;
        for (int id = 1; id <= 3; id++) {
            IscsiSession s = login(id, "iqn.2025-01.io.tandem.it:host", id);
            byte[] report = rtpg(s);
            reports.add(report);
            assertThat(groupStates(report)).isEqualTo(Map.of(1, 0, 2, 0, 3, 0)); // every path Active/Optimized
            byte[] vpd = s.execute(ScsiRequest.read(LUN, Cdbs.inquiry(true, 0x83, 1024), 1024)).requireGood();
            Map<Integer, byte[]> designators = designators(vpd);
            if (naa == null) {
                naa = designators.get(0x3);
            }
            assertThat(designators.get(0x3)).as("the same NAA identifier through node %d", id).isEqualTo(naa);
            assertThat(u16(designators.get(0x4), 2)).as("relative target port of node %d", id).isEqualTo(id);
            assertThat(u16(designators.get(0x5), 2)).as("target port group of node %d", id).isEqualTo(id);
        }
        assertThat(reports.get(1)).as("RTPG through node 2").isEqualTo(reports.get(0));
        assertThat(reports.get(2)).as("RTPG through node 3").isEqualTo(reports.get(0));
        // Each group lists its node's relative target port.
        byte[] d = reports.get(0);
        for (int at = 4, group = 1; at < d.length; at += 12, group++) {
            assertThat(d[at + 7]).isEqualTo((byte) 1);
            assertThat(u16(d, at + 8 + 2)).isEqualTo(group);
        }
    }

    /** VPD 83h designators by type (first of each type with association "target port" or "LU"). */
    private static Map<Integer, byte[]> designators(byte[] vpd) {
        Map<Integer, byte[]> out = new TreeMap<>();
        for (int at = 4; at + 4 <= vpd.length; at += 4 + (vpd[at + 3] & 0xFF)) {
            int type = vpd[at + 1] & 0x0F;
            out.putIfAbsent(type, Arrays.copyOfRange(vpd, at + 4, at + 4 + (vpd[at + 3] & 0xFF)));
        }
        return out;
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    // ------------------------------------------------------------------ persistent reservations

    private static final long KEY_A = 0xA1A1A1A1A1A1A1A1L, KEY_B = 0xB2B2B2B2B2B2B2B2L;

    @Test
    void aReservationMadeThroughOneNodeHoldsOnEveryNode() throws Exception {
        ScsiDevice a = login(1, "iqn.2025-01.io.tandem.it:a", 1).device(LUN);
        ScsiDevice b = login(2, "iqn.2025-01.io.tandem.it:b", 2).device(LUN);
        IscsiSession outsider = login(3, "iqn.2025-01.io.tandem.it:c", 3);

        assertThat(a.persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(b.persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(b.persistentReserveOut(RESERVE, WRITE_EXCLUSIVE, KEY_B, 0, false).isGood()).isTrue();

        assertThat(outsider.device(LUN).readKeys().keys()).as("node 3 sees both keys").containsExactly(KEY_A, KEY_B);
        assertThat(outsider.device(LUN).readReservation().key()).isEqualTo(KEY_B);
        assertThat(write(outsider, 10, Patterns.blocks(10, 1, BLOCK, 1)).status())
                .as("not the holder, on a third node").isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        assertThat(write(a.session(), 10, Patterns.blocks(10, 1, BLOCK, 2)).status())
                .as("registered but not the holder of a Write Exclusive reservation").isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        assertThat(write(b.session(), 10, Patterns.blocks(10, 1, BLOCK, 3)).isGood()).isTrue();
        assertThat(read(outsider, 10, 1)).as("reads pass, and see the holder's write").isEqualTo(Patterns.blocks(10, 1, BLOCK, 3));
    }

    @Test
    void preemptAndAbortThroughOneNodeAbortsTheVictimsCommandsOnAnother() throws Exception {
        IscsiSession victim = login(1, "iqn.2025-01.io.tandem.it:victim", 1);
        IscsiSession preemptor = login(2, "iqn.2025-01.io.tandem.it:preemptor", 2);
        assertThat(victim.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(preemptor.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(preemptor.device(LUN).persistentReserveOut(RESERVE, WE_RO, KEY_B, 0, false).isGood()).isTrue();

        // On node 1, the victim's ORDERED write sits in the backend; its SIMPLE write waits behind it.
        byte[] inBackend = Patterns.blocks(100, 2, BLOCK, 7);
        byte[] queued = Patterns.blocks(200, 2, BLOCK, 8);
        HoldingBlockDevice node1 = backends.get(1);
        node1.holdWrites();
        CompletableFuture<ScsiResult> first = victim.submit(
                ScsiRequest.write(LUN, Cdbs.write10(100, 2), inBackend).withTaskAttribute(ScsiRequest.ORDERED));
        node1.awaitHeld(1, WAIT);
        CompletableFuture<ScsiResult> second = victim.submit(ScsiRequest.write(LUN, Cdbs.write10(200, 2), queued));

        CompletableFuture<ScsiResult> preempt = preemptor.submit(
                preemptor.device(LUN).persistentReserveOutRequest(PREEMPT_AND_ABORT, WE_RO, KEY_B, KEY_A, false));
        assertQuiet(preempt, "PREEMPT AND ABORT waits for the victim's write in node 1's backend");
        node1.release();
        assertThat(preempt.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(ScsiResult.GOOD);

        // After PREEMPT AND ABORT returned: the committed write landed whole, the queued one never will.
        IscsiSession reader = login(3, "iqn.2025-01.io.tandem.it:reader", 3);
        assertThat(read(reader, 100, 2)).isEqualTo(inBackend);
        assertThat(read(reader, 200, 2)).as("the aborted write left nothing").isEqualTo(new byte[2 * BLOCK]);
        Thread.sleep(QUIET_MILLIS);
        assertThat(first.isDone() || second.isDone()).as("aborted tasks get no status (TAS=0)").isFalse();
        assertThat(read(reader, 200, 2)).isEqualTo(new byte[2 * BLOCK]);
        assertThat(drainUnitAttentions(victim)).containsExactly(0x062A05); // REGISTRATIONS PREEMPTED
        assertThat(write(victim, 300, Patterns.blocks(300, 1, BLOCK, 9)).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        assertThat(reader.device(LUN).readKeys().keys()).containsExactly(KEY_B);
    }

    @Test
    void registerAndMoveHandsTheReservationToANexusOnAnotherNode() throws Exception {
        String aName = "iqn.2025-01.io.tandem.it:mover-target";
        IscsiSession a = login(1, aName, 1);
        IscsiSession b = login(2, "iqn.2025-01.io.tandem.it:mover", 2);
        assertThat(b.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(b.device(LUN).persistentReserveOut(RESERVE, WRITE_EXCLUSIVE, KEY_B, 0, false).isGood()).isTrue();

        // Move to a's nexus: its initiator port through node 1's relative target port (1).
        byte[] transportId = iscsiTransportId(aName + ",i,0x801234560001");
        byte[] list = new byte[24 + transportId.length];
        putLong(list, 0, KEY_B);
        putLong(list, 8, KEY_A);
        list[19] = 1; // RELATIVE TARGET PORT IDENTIFIER
        list[23] = (byte) transportId.length;
        System.arraycopy(transportId, 0, list, 24, transportId.length);
        byte[] cdb = {0x5F, REGISTER_AND_MOVE, WRITE_EXCLUSIVE, 0, 0, 0, 0, 0, (byte) list.length, 0};
        ScsiResult moved = b.execute(ScsiRequest.write(LUN, cdb, list));
        assertThat(moved.status()).as(moved.toString()).isEqualTo(ScsiResult.GOOD);

        IscsiSession c = login(3, "iqn.2025-01.io.tandem.it:observer", 3);
        assertThat(c.device(LUN).readReservation().key()).isEqualTo(KEY_A);
        assertThat(write(a, 20, Patterns.blocks(20, 1, BLOCK, 4)).isGood()).as("the new holder writes on node 1").isTrue();
        assertThat(write(b, 20, Patterns.blocks(20, 1, BLOCK, 5)).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    }

    @Test
    void reservationUnitAttentionsReachRegistrantsOnOtherNodes() throws Exception {
        IscsiSession a = login(1, "iqn.2025-01.io.tandem.it:ua-a", 1);
        IscsiSession b = login(2, "iqn.2025-01.io.tandem.it:ua-b", 2);
        IscsiSession c = login(3, "iqn.2025-01.io.tandem.it:ua-c", 3);
        long keyC = 0xC3C3C3C3C3C3C3C3L;
        assertThat(a.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(b.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(c.device(LUN).persistentReserveOut(REGISTER, 0, 0, keyC, false).isGood()).isTrue();

        // Releasing a Registrants Only reservation tells every other registrant, wherever it is logged in.
        assertThat(a.device(LUN).persistentReserveOut(RESERVE, WE_RO, KEY_A, 0, false).isGood()).isTrue();
        assertThat(a.device(LUN).persistentReserveOut(RELEASE, WE_RO, KEY_A, 0, false).isGood()).isTrue();
        assertThat(drainUnitAttentions(b)).as("node 2: RESERVATIONS RELEASED").containsExactly(UA_RESERVATIONS_RELEASED);
        assertThat(drainUnitAttentions(c)).as("node 3: RESERVATIONS RELEASED").containsExactly(UA_RESERVATIONS_RELEASED);
        assertThat(drainUnitAttentions(a)).as("not the releasing nexus").isEmpty();

        // PREEMPT (same type) through node 1 removes node 2's registrant: only the victim hears of it.
        assertThat(b.device(LUN).persistentReserveOut(RESERVE, WE_RO, KEY_B, 0, false).isGood()).isTrue();
        assertThat(a.device(LUN).persistentReserveOut(PREEMPT, WE_RO, KEY_A, KEY_B, false).isGood()).isTrue();
        assertThat(drainUnitAttentions(b)).as("node 2: REGISTRATIONS PREEMPTED").containsExactly(UA_REGISTRATIONS_PREEMPTED);
        assertThat(drainUnitAttentions(c)).as("node 3: same reservation type, nothing to tell").isEmpty();
        assertThat(drainUnitAttentions(a)).isEmpty();
        assertThat(c.device(LUN).readReservation().key()).as("the preemptor holds it now").isEqualTo(KEY_A);
        assertThat(write(b, 40, Patterns.blocks(40, 1, BLOCK, 1)).status()).as("the preempted initiator on node 2")
                .isEqualTo(ScsiResult.RESERVATION_CONFLICT);

        // CLEAR through node 3 tells the remaining registrant on node 1; node 2 is no registrant any more.
        assertThat(c.device(LUN).persistentReserveOut(CLEAR, 0, keyC, 0, false).isGood()).isTrue();
        assertThat(drainUnitAttentions(a)).as("node 1: RESERVATIONS PREEMPTED").containsExactly(UA_RESERVATIONS_PREEMPTED);
        assertThat(drainUnitAttentions(b)).isEmpty();
        assertThat(drainUnitAttentions(c)).isEmpty();
        assertThat(a.device(LUN).readKeys().keys()).isEmpty();
    }

    private static byte[] iscsiTransportId(String initiatorPort) {
        byte[] name = initiatorPort.getBytes(StandardCharsets.UTF_8);
        int length = (name.length + 1 + 3) / 4 * 4; // null-terminated, padded to a multiple of 4
        byte[] id = new byte[4 + length];
        id[0] = 0x45; // FORMAT CODE 01b, PROTOCOL IDENTIFIER iSCSI (5)
        id[3] = (byte) length;
        System.arraycopy(name, 0, id, 4, name.length);
        return id;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 0; i < 8; i++) {
            b[at + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    // ------------------------------------------------------------------ SPC-2 reservations

    private static ScsiResult reserve6(IscsiSession s) throws IOException {
        return reserve6(s, LUN);
    }

    private static ScsiResult reserve6(IscsiSession s, int lun) throws IOException {
        return s.execute(ScsiRequest.none(lun, new byte[]{0x16, 0, 0, 0, 0, 0}));
    }

    private static ScsiResult release6(IscsiSession s) throws IOException {
        return s.execute(ScsiRequest.none(LUN, new byte[]{0x17, 0, 0, 0, 0, 0}));
    }

    private static ScsiResult reserve10(IscsiSession s) throws IOException {
        return s.execute(ScsiRequest.none(LUN, new byte[]{0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    }

    private static ScsiResult release10(IscsiSession s) throws IOException {
        return s.execute(ScsiRequest.none(LUN, new byte[]{0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    }

    @Test
    void anSpc2ReservationThroughOneNodeConflictsOnTheOthersUntilReleasedOrReset() throws Exception {
        IscsiSession a = login(1, "iqn.2025-01.io.tandem.it:spc2-a", 1);
        IscsiSession b = login(2, "iqn.2025-01.io.tandem.it:spc2-b", 2);
        IscsiSession c = login(3, "iqn.2025-01.io.tandem.it:spc2-c", 3);
        byte[] block = Patterns.blocks(50, 1, BLOCK, 1);

        assertThat(reserve6(a).isGood()).isTrue();
        for (IscsiSession other : List.of(b, c)) {
            assertThat(write(other, 50, block).status()).as("write through another node").isEqualTo(ScsiResult.RESERVATION_CONFLICT);
            assertThat(other.execute(ScsiRequest.read(LUN, Cdbs.read10(50, 1), BLOCK)).status()).as("read through another node")
                    .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
            assertThat(reserve10(other).status()).as("RESERVE through another node").isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        }
        assertThat(release6(b).isGood()).as("RELEASE by a non-holder is GOOD...").isTrue();
        assertThat(write(c, 50, block).status()).as("...and changes nothing").isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        assertThat(write(a, 50, block).isGood()).as("the holder writes").isTrue();

        assertThat(release10(a).isGood()).isTrue();
        assertThat(write(b, 50, block).isGood()).as("released for node 2").isTrue();
        assertThat(reserve10(c).isGood()).as("and node 3 may reserve").isTrue();
        assertThat(write(a, 50, block).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);

        // A LOGICAL UNIT RESET through a non-holder on node 2 releases it for everyone.
        assertThat(b.taskManagement(LOGICAL_UNIT_RESET, LUN, -1, 0)).isEqualTo(FUNCTION_COMPLETE);
        for (IscsiSession s : List.of(a, b, c)) {
            assertThat(drainUnitAttentions(s)).containsExactly(UA_LU_RESET);
        }
        assertThat(write(a, 50, block).isGood()).as("released on node 1").isTrue();
        assertThat(write(b, 50, block).isGood()).as("released on node 2").isTrue();

        // The holder's I_T nexus loss on node 3 releases it on the other nodes.
        assertThat(reserve6(c).isGood()).isTrue();
        assertThat(write(a, 50, block).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        c.logout();
        await(io(() -> write(a, 50, block).isGood()), "the holder's logout on node 3 releases the reservation on node 1");
        assertThat(write(b, 50, block).isGood()).isTrue();
    }

    // ------------------------------------------------------------------ COMPARE AND WRITE

    private static byte[] compareAndWrite(long lba) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x89;
        for (int i = 0; i < 8; i++) {
            c[2 + i] = (byte) (lba >>> (56 - 8 * i));
        }
        c[13] = 1; // NUMBER OF LOGICAL BLOCKS
        return c;
    }

    @Test
    void compareAndWriteFromTwoNodesOnOneBlockHasExactlyOneWinnerPerRound() throws Exception {
        IscsiSession[] paths = {login(1, "iqn.2025-01.io.tandem.it:esx-a", 1), login(2, "iqn.2025-01.io.tandem.it:esx-b", 2)};
        long lba = 77;
        for (int round = 0; round < 40; round++) {
            byte[] current = read(paths[0], lba, 1);
            List<CompletableFuture<ScsiResult>> attempts = new ArrayList<>();
            List<byte[]> proposals = new ArrayList<>();
            for (int p = 0; p < paths.length; p++) {
                byte[] proposal = Patterns.blocks(lba, 1, BLOCK, 100 * round + p + 1);
                byte[] data = new byte[2 * BLOCK];
                System.arraycopy(current, 0, data, 0, BLOCK);
                System.arraycopy(proposal, 0, data, BLOCK, BLOCK);
                proposals.add(proposal);
                attempts.add(paths[p].submit(ScsiRequest.write(LUN, compareAndWrite(lba), data)));
            }
            int winner = -1;
            for (int p = 0; p < paths.length; p++) {
                ScsiResult r = attempts.get(p).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                if (r.isGood()) {
                    assertThat(winner).as("round %d: two winners", round).isEqualTo(-1);
                    winner = p;
                } else {
                    assertThat(r.sense()).as("round %d: %s", round, r).isNotNull();
                    assertThat(r.sense().is(Sense.MISCOMPARE, 0x1D, 0x00)).as("round %d: %s", round, r).isTrue();
                }
            }
            assertThat(winner).as("round %d: one winner", round).isNotEqualTo(-1);
            assertThat(read(paths[1], lba, 1)).as("round %d: the winner's block, seen through node 2", round)
                    .isEqualTo(proposals.get(winner));
        }
    }

    // ------------------------------------------------------------------ task management

    @Test
    void logicalUnitResetThroughOneNodeAbortsAndTellsEveryNode() throws Exception {
        IscsiSession issuer = login(1, "iqn.2025-01.io.tandem.it:resetter", 1);
        IscsiSession other = login(2, "iqn.2025-01.io.tandem.it:other", 2);
        IscsiSession third = login(3, "iqn.2025-01.io.tandem.it:third", 3);

        HoldingBlockDevice node2 = backends.get(2);
        node2.holdReads();
        CompletableFuture<ScsiResult> read = other.submit(ScsiRequest.read(LUN, Cdbs.read10(0, 8), 8 * BLOCK));
        node2.awaitHeld(1, WAIT);

        CompletableFuture<Integer> reset = CompletableFuture.supplyAsync(() -> {
            try {
                return issuer.taskManagement(LOGICAL_UNIT_RESET, LUN, -1, 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertQuiet(reset, "the reset waits for the read in node 2's backend");
        node2.release();
        assertThat(reset.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        for (IscsiSession s : List.of(issuer, other, third)) {
            assertThat(drainUnitAttentions(s)).as("BUS DEVICE RESET FUNCTION OCCURRED on every node")
                    .containsExactly(0x062903);
        }
        Thread.sleep(50);
        assertThat(read.isDone()).as("the aborted read on node 2 got no status").isFalse();
    }

    @Test
    void clearTaskSetThroughOneNodeReachesTheOthers() throws Exception {
        IscsiSession issuer = login(3, "iqn.2025-01.io.tandem.it:clearer", 3);
        IscsiSession other = login(1, "iqn.2025-01.io.tandem.it:loser", 1);
        HoldingBlockDevice node1 = backends.get(1);
        node1.holdReads();
        CompletableFuture<ScsiResult> read = other.submit(ScsiRequest.read(LUN, Cdbs.read10(0, 1), BLOCK));
        node1.awaitHeld(1, WAIT);
        CompletableFuture<Integer> clear = CompletableFuture.supplyAsync(() -> {
            try {
                return issuer.taskManagement(CLEAR_TASK_SET, LUN, -1, 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertQuiet(clear, "CLEAR TASK SET waits for the read on node 1");
        node1.release();
        assertThat(clear.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);
        assertThat(drainUnitAttentions(other)).as("COMMANDS CLEARED BY ANOTHER INITIATOR").containsExactly(0x062F00);
        assertThat(drainUnitAttentions(issuer)).isEmpty();
        assertThat(read.isDone()).isFalse();
    }

    // ------------------------------------------------------------------ mode parameters

    /** The Control mode page (12 bytes) as MODE SENSE(6) reports its current values. */
    private static byte[] controlPage(IscsiSession s) throws IOException {
        byte[] cdb = {0x1A, 0x08, 0x0A, 0, (byte) 255, 0}; // DBD, page 0Ah, current values
        byte[] d = s.execute(ScsiRequest.read(LUN, cdb, 255)).requireGood();
        return Arrays.copyOfRange(d, 4 + (d[3] & 0xFF), 4 + (d[3] & 0xFF) + 12);
    }

    private static ScsiResult modeSelect(IscsiSession s, byte[] page) throws IOException {
        byte[] list = new byte[4 + page.length];
        System.arraycopy(page, 0, list, 4, page.length);
        byte[] cdb = {0x15, 0x10, 0, 0, (byte) list.length, 0}; // PF
        return s.execute(ScsiRequest.write(LUN, cdb, list));
    }

    @Test
    void modeParametersSetThroughOneNodeHoldOnEveryNodeUntilAReset() throws Exception {
        IscsiSession setter = login(2, "iqn.2025-01.io.tandem.it:swp-setter", 2);
        IscsiSession writer = login(1, "iqn.2025-01.io.tandem.it:swp-writer", 1);
        IscsiSession third = login(3, "iqn.2025-01.io.tandem.it:swp-third", 3);
        byte[] page = controlPage(setter);
        page[4] |= 0x08; // SWP
        ScsiResult selected = modeSelect(setter, page);
        assertThat(selected.isGood()).as(selected.toString()).isTrue();

        // The parameters are the LU's: every other nexus, on whichever node, hears of the change
        // by the time MODE SELECT returned, and commands through every node follow them.
        assertThat(drainUnitAttentions(writer)).as("MODE PARAMETERS CHANGED on node 1").containsExactly(0x062A01);
        assertThat(drainUnitAttentions(third)).as("MODE PARAMETERS CHANGED on node 3").containsExactly(0x062A01);
        assertThat(drainUnitAttentions(setter)).as("not to the issuer").isEmpty();
        assertThat(controlPage(third)[4] & 0x08).as("SWP read through node 3").isEqualTo(0x08);
        ScsiResult refused = write(writer, 30, Patterns.blocks(30, 1, BLOCK, 1));
        assertThat(refused.sense()).as(refused.toString()).isNotNull();
        assertThat(refused.sense().is(Sense.DATA_PROTECT, 0x27, 0x02)).as("SOFTWARE WRITE PROTECTED on node 1: %s", refused)
                .isTrue();

        // A reset through node 3 returns them to their defaults on every node (none are saved).
        assertThat(third.taskManagement(LOGICAL_UNIT_RESET, LUN, -1, 0)).isEqualTo(FUNCTION_COMPLETE);
        assertThat(drainUnitAttentions(writer)).containsExactly(0x062903);
        assertThat(controlPage(writer)[4] & 0x08).as("SWP after the reset, through node 1").isZero();
        assertThat(write(writer, 30, Patterns.blocks(30, 1, BLOCK, 2)).isGood()).isTrue();
        assertThat(drainUnitAttentions(setter)).containsExactly(0x062903);
        assertThat(read(setter, 30, 1)).isEqualTo(Patterns.blocks(30, 1, BLOCK, 2));
    }

    /**
     * TARGET WARM RESET is a hard reset of the SCSI target device (SAM-5 6.3.2; RFC 7143 11.5.1),
     * and the cluster is one target device: through any node it reaches every LU on every node,
     * aborts their tasks before it completes, releases SPC-2 reservations, leaves persistent
     * reservations alone, and gives every nexus of every node POWER ON, RESET, OR BUS DEVICE RESET
     * OCCURRED on every LU. Sessions stay (only TARGET COLD RESET drops them, on its own node).
     */
    @Test
    void targetWarmResetThroughOneNodeResetsEveryLuForEveryNexusOnEveryNode() throws Exception {
        nodes.get(1).addLun(new LunConfig(1, "second", LunConfig.Backend.FILE, dir.resolve("second.img"), 4L << 20, BLOCK, false));
        await(() -> nodes.values().stream().allMatch(n -> n.scsiTarget().logicalUnit(1) != null), "every node exports LUN 1");
        IscsiSession issuer = login(2, "iqn.2025-01.io.tandem.it:warm", 2);
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:warm-1", 1);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:warm-3", 3);
        List<IscsiSession> all = List.of(issuer, s1, s3);
        for (IscsiSession s : all) {
            unitAttentions(s, 1); // the login's, so that what follows is the reset's
        }
        assertThat(s1.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(s1.device(LUN).persistentReserveOut(RESERVE, WRITE_EXCLUSIVE, KEY_A, 0, false).isGood()).isTrue();
        assertThat(reserve6(s3, 1).isGood()).as("an SPC-2 reservation of LUN 1 through node 3").isTrue();
        assertThat(s1.execute(ScsiRequest.write(1, Cdbs.write10(0, 1), Patterns.blocks(0, 1, BLOCK, 1))).status())
                .isEqualTo(ScsiResult.RESERVATION_CONFLICT);

        HoldingBlockDevice node1 = backends.get(1);
        node1.holdReads();
        CompletableFuture<ScsiResult> read = s1.submit(ScsiRequest.read(LUN, Cdbs.read10(0, 4), 4 * BLOCK));
        node1.awaitHeld(1, WAIT);
        CompletableFuture<Integer> reset = CompletableFuture.supplyAsync(() -> {
            try {
                return issuer.taskManagement(TARGET_WARM_RESET, 0, -1, 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        assertQuiet(reset, "the target reset waits for the read in node 1's backend");
        node1.release();
        assertThat(reset.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(FUNCTION_COMPLETE);

        int[] nodeOf = {2, 1, 3};
        for (int i = 0; i < all.size(); i++) {
            for (int lun : List.of(0, 1)) {
                assertThat(unitAttentions(all.get(i), lun)).as("LUN %d through node %d", lun, nodeOf[i])
                        .containsExactly(UA_POWER_ON_OR_RESET);
            }
            assertThat(all.get(i).isOpen()).as("a warm reset keeps the sessions").isTrue();
        }
        Thread.sleep(50);
        assertThat(read.isDone()).as("the aborted read on node 1 got no status").isFalse();
        assertThat(s1.execute(ScsiRequest.write(1, Cdbs.write10(0, 1), Patterns.blocks(0, 1, BLOCK, 1))).isGood())
                .as("the SPC-2 reservation of LUN 1 through node 3 is gone on node 1").isTrue();
        assertThat(issuer.device(LUN).readReservation().key()).as("the persistent reservation stays").isEqualTo(KEY_A);
        assertThat(write(issuer, 0, Patterns.blocks(0, 1, BLOCK, 2)).status()).isEqualTo(ScsiResult.RESERVATION_CONFLICT);
    }

    // ------------------------------------------------------------------ membership and ALUA

    @Test
    void aStoppedNodesGroupReadsUnavailableOnTheOthersAndComesBackActive() throws Exception {
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:watcher", 1);
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:watcher", 2);
        stopNode(3);
        await(io(() -> groupStates(rtpg(s1)).get(3) == 0x3), "node 3's group reads Unavailable");
        // Node 2 learns of the loss from its own watch, possibly after node 1.
        List<Integer> heard = new ArrayList<>();
        await(io(() -> {
            heard.addAll(drainUnitAttentions(s2));
            return heard.contains(0x062A06);
        }),
                "every nexus hears of the change (ASYMMETRIC ACCESS STATE CHANGED)");
        assertThat(groupStates(rtpg(s2))).isEqualTo(Map.of(1, 0, 2, 0, 3, 3));

        startNode(3);
        await(io(() -> groupStates(rtpg(s1)).get(3) == 0x0), "node 3 is Active/Optimized again");
        awaitSettled(); // node 3 itself too, before its initiator logs in
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:watcher", 3);
        assertThat(groupStates(rtpg(s3))).isEqualTo(Map.of(1, 0, 2, 0, 3, 0));
    }

    @Test
    void activeStandbyOwnershipMovesToASurvivorWhenTheOwnerStops() throws Exception {
        nodes.get(1).addLun(new LunConfig(1, "quorum", LunConfig.Backend.FILE, dir.resolve("quorum.img"), 4L << 20, BLOCK,
                false, List.of(), 0, AluaMode.ACTIVE_STANDBY));
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:ha", 1);
        IoCheck ownerKnown = () -> {
            ScsiResult r = rtpg(s1, 1);
            return r.isGood() && groupStates(r.data()).containsKey(-1);
        };
        await(io(ownerKnown), "LUN 1 has an owner");
        Map<Integer, Integer> states = groupStates(rtpg(s1, 1).requireGood());
        int owner = states.get(-1);
        assertThat(states.get(owner)).isEqualTo(0x0);
        assertThat(states.entrySet().stream().filter(e -> e.getKey() > 0 && e.getKey() != owner).map(Map.Entry::getValue))
                .as("the others are Standby").containsOnly(0x2);

        int survivor = owner == 1 ? 2 : 1;
        IscsiSession watcher = login(survivor, "iqn.2025-01.io.tandem.it:ha2", survivor);
        stopNode(owner);
        await(io(() -> {
            ScsiResult r = rtpg(watcher, 1);
            if (!r.isGood()) {
                return false;
            }
            // Between the owner's loss and the choice of a new one no group carries the owner bit.
            Map<Integer, Integer> now = groupStates(r.data());
            return now.getOrDefault(owner, -1) == 0x3 && now.containsKey(-1) && now.get(-1) != owner;
        }), "a survivor owns LUN 1 once its owner stopped");
        Map<Integer, Integer> after = groupStates(rtpg(watcher, 1).requireGood());
        assertThat(after.get(after.get(-1))).as("the new owner is Active/Optimized").isEqualTo(0x0);
        assertThat(after.get(-1)).isNotEqualTo(owner);
    }

    private static ScsiResult stpg(IscsiSession s, int lun, int state, int group) throws IOException {
        byte[] list = {0, 0, 0, 0, (byte) state, 0, (byte) (group >> 8), (byte) group};
        byte[] cdb = {(byte) 0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, (byte) list.length, 0, 0};
        return s.execute(ScsiRequest.write(lun, cdb, list));
    }

    /** STATUS CODE of each target port group in a REPORT TARGET PORT GROUPS answer. */
    private static Map<Integer, Integer> statusCodes(byte[] d) {
        Map<Integer, Integer> codes = new TreeMap<>();
        for (int at = 4; at < d.length; at += 8 + 4 * (d[at + 7] & 0xFF)) {
            codes.put(u16(d, at + 2), d[at + 5] & 0xFF);
        }
        return codes;
    }

    /**
     * Explicit ALUA: SET TARGET PORT GROUPS through node 2 makes another group the owner for the
     * whole cluster. Every node then reports the same groups (the new owner Active/Optimized and
     * preferred, the others Standby, STATUS CODE "altered by SET TARGET PORT GROUPS" on the two
     * that changed), and every nexus but the issuing one gets ASYMMETRIC ACCESS STATE CHANGED
     * (SPC-4 5.15.2.3), on whichever node it is logged in.
     */
    @Test
    void setTargetPortGroupsThroughOneNodeMovesExplicitOwnershipClusterWide() throws Exception {
        int lun = 1;
        nodes.get(1).addLun(new LunConfig(lun, "explicit", LunConfig.Backend.FILE, dir.resolve("explicit.img"), 4L << 20, BLOCK,
                false, List.of(), 0, AluaMode.EXPLICIT));
        await(() -> nodes.values().stream().allMatch(n -> n.scsiTarget().logicalUnit(lun) != null), "every node exports LUN 1");
        Map<Integer, IscsiSession> paths = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            paths.put(id, login(id, "iqn.2025-01.io.tandem.it:explicit", id));
        }
        IscsiSession s2 = paths.get(2);
        await(io(() -> {
            ScsiResult r = rtpg(s2, lun);
            return r.isGood() && groupStates(r.data()).containsKey(-1);
        }), "LUN 1 has an owner");
        int owner = groupStates(rtpg(s2, lun).requireGood()).get(-1);
        int chosen = owner == 3 ? 1 : 3;
        for (IscsiSession s : paths.values()) {
            unitAttentions(s, lun); // the login's and the first owner's
        }

        ScsiResult set = stpg(s2, lun, 0x0, chosen);
        assertThat(set.isGood()).as("STPG through node 2: %s", set).isTrue();

        byte[] reference = null;
        for (Map.Entry<Integer, IscsiSession> path : paths.entrySet()) {
            assertThat(unitAttentions(path.getValue(), lun)).as("through node %d", path.getKey())
                    .containsExactlyElementsOf(path.getKey() == 2 ? List.of() : List.of(UA_ACCESS_STATE_CHANGED));
            byte[] report = rtpg(path.getValue(), lun).requireGood();
            if (reference == null) {
                reference = report;
            }
            assertThat(report).as("RTPG through node %d", path.getKey()).isEqualTo(reference);
        }
        Map<Integer, Integer> states = groupStates(reference);
        assertThat(states.get(-1)).as("the chosen group is preferred").isEqualTo(chosen);
        for (int group = 1; group <= 3; group++) {
            assertThat(states.get(group)).as("group %d", group).isEqualTo(group == chosen ? 0x0 : 0x2);
        }
        Map<Integer, Integer> codes = statusCodes(reference);
        assertThat(codes.get(chosen)).as("STATUS CODE of the new owner").isEqualTo(0x01);
        assertThat(codes.get(owner)).as("STATUS CODE of the old owner").isEqualTo(0x01);

        byte[] data = Patterns.blocks(3, 1, BLOCK, 4);
        assertThat(paths.get(chosen).execute(ScsiRequest.write(lun, Cdbs.write10(3, 1), data)).isGood())
                .as("the new owner's path writes").isTrue();
        ScsiResult standby = paths.get(owner).execute(ScsiRequest.write(lun, Cdbs.write10(3, 1), data));
        assertThat(standby.sense()).as("%s", standby).isNotNull();
        assertThat(standby.sense().is(Sense.NOT_READY, 0x04, 0x0B)).as("the old owner is Standby: %s", standby).isTrue();
    }

    // ------------------------------------------------------------------ configuration
    @Test
    void aLunGrownThroughOneNodeGrowsOnEveryNodeWithItsUnitAttention() throws Exception {
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:grow-b", 2);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:grow-c", 3);
        long newBlocks = (32L << 20) / BLOCK;
        nodes.get(1).resizeLun(LUN, 32L << 20);
        await(() -> nodes.get(2).scsiTarget().logicalUnit(LUN).blockCount() == newBlocks
                && nodes.get(3).scsiTarget().logicalUnit(LUN).blockCount() == newBlocks, "every node grew the LU");
        for (IscsiSession s : List.of(s2, s3)) {
            assertThat(drainUnitAttentions(s)).as("CAPACITY DATA HAS CHANGED").containsExactly(0x062A09);
            assertThat(s.device(LUN).readCapacity16().blocks()).isEqualTo(newBlocks);
        }
        long lba = newBlocks - 1; // past the old end
        assertThat(write(s3, lba, Patterns.blocks(lba, 1, BLOCK, 5)).isGood()).isTrue();
        assertThat(read(s2, lba, 1)).as("written through node 3, read through node 2").isEqualTo(Patterns.blocks(lba, 1, BLOCK, 5));
        assertThat(Files.size(dir.resolve("lun0.img"))).as("the shared file grew once").isEqualTo(32L << 20);
    }


    @Test
    void aLunAddedAndRemovedThroughOneNodeAppearsAndDisappearsOnEveryNodeWithItsUnitAttention() throws Exception {
        Map<Integer, IscsiSession> paths = new TreeMap<>();
        for (int id = 1; id <= 3; id++) {
            paths.put(id, login(id, "iqn.2025-01.io.tandem.it:inventory", id));
        }
        nodes.get(1).addLun(new LunConfig(2, "added", LunConfig.Backend.FILE, dir.resolve("added.img"), 4L << 20, BLOCK, false));
        await(() -> nodes.values().stream().allMatch(n -> n.scsiTarget().logicalUnit(2) != null), "every node exports the new LUN");
        for (Map.Entry<Integer, IscsiSession> path : paths.entrySet()) {
            assertThat(awaitUnitAttentions(path.getValue())).as("REPORTED LUNS DATA HAS CHANGED through node %d", path.getKey())
                    .containsExactly(UA_REPORTED_LUNS_CHANGED);
            assertThat(path.getValue().device(LUN).reportLuns()).containsExactly(0, 2);
        }

        nodes.get(2).removeLun(2);
        await(() -> nodes.values().stream().allMatch(n -> n.scsiTarget().logicalUnit(2) == null), "every node drops the removed LUN");
        for (Map.Entry<Integer, IscsiSession> path : paths.entrySet()) {
            assertThat(awaitUnitAttentions(path.getValue())).as("REPORTED LUNS DATA HAS CHANGED through node %d", path.getKey())
                    .containsExactly(UA_REPORTED_LUNS_CHANGED);
            assertThat(path.getValue().device(LUN).reportLuns()).containsExactly(0);
            ScsiResult gone = path.getValue().execute(ScsiRequest.read(2, Cdbs.read10(0, 1), BLOCK));
            assertThat(gone.sense()).as("%s", gone).isNotNull();
            assertThat(gone.sense().is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).as("LOGICAL UNIT NOT SUPPORTED: %s", gone).isTrue();
        }
    }

    // ------------------------------------------------------------------ removable medium, sanitize, cold reset

    static final int RMB_LUN = 1;
    static final int TARGET_COLD_RESET = 7;
    static final byte[] EJECT = {0x1B, 0, 0, 0, 0x02, 0};
    static final byte[] LOAD = {0x1B, 0, 0, 0, 0x03, 0};

    private static byte[] preventAllow(boolean prevent) {
        return new byte[]{0x1E, 0, 0, 0, (byte) (prevent ? 1 : 0), 0};
    }

    /** Adds removable LUN 1 through node 1 and waits until every node exports it. */
    private void addRemovableLun() throws Exception {
        // Made beforehand: the nodes applying a new LUN at once would all create a missing file.
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(dir.resolve("cartridge.img").toFile(), "rw")) {
            f.setLength(4L << 20);
        }
        nodes.get(1).addLun(new LunConfig(RMB_LUN, "cartridge", LunConfig.Backend.FILE, dir.resolve("cartridge.img"), 4L << 20,
                BLOCK, false, List.of(), 0, true));
        await(() -> nodes.values().stream().allMatch(n -> n.scsiTarget().logicalUnit(RMB_LUN) != null),
                "every node exports the removable LUN");
    }

    /** The command's outcome as 0xKKAAQQ, or -1 for GOOD. */
    private static int outcome(IscsiSession s, int lun, byte[] cdb) throws IOException {
        ScsiResult r = s.execute(ScsiRequest.none(lun, cdb));
        if (r.isGood()) {
            return -1;
        }
        assertThat(r.sense()).as(r.toString()).isNotNull();
        return (r.sense().key() << 16) | (r.sense().asc() << 8) | r.sense().ascq();
    }

    /**
     * A check for {@link #await}: TEST UNIT READY on {@link #LUN} has reported ASYMMETRIC ACCESS STATE
     * CHANGED (a group became Unavailable) to this nexus, and now answers {@code answer}.
     */
    private static IoCheck groupLossHeardThen(IscsiSession s, int answer) {
        AtomicBoolean heard = new AtomicBoolean();
        return () -> {
            int o = outcome(s, LUN, Cdbs.testUnitReady());
            if (o == 0x062A06) {
                heard.set(true);
            }
            return heard.get() && o == answer;
        };
    }

    /** TEST UNIT READY on a LUN until it answers something other than a unit attention; the unit attentions seen. */
    private static List<Integer> unitAttentionsUntilReady(IscsiSession s, int lun) throws IOException {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            int o = outcome(s, lun, Cdbs.testUnitReady());
            if (o >> 16 != Sense.UNIT_ATTENTION) {
                return seen;
            }
            seen.add(o);
        }
        throw new AssertionError("unit attentions did not stop");
    }

    @Test
    void theRemovableMediumAndItsPreventionsAreTheLusOnEveryNode() throws Exception {
        addRemovableLun();
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:rmb-a", 1);
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:rmb-b", 2);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:rmb-c", 3);
        for (IscsiSession s : List.of(s1, s2, s3)) {
            unitAttentionsUntilReady(s, RMB_LUN);
        }

        // A hold set through node 1 refuses an eject (and a load) through node 2.
        assertThat(outcome(s1, RMB_LUN, preventAllow(true))).isEqualTo(-1);
        assertThat(outcome(s2, RMB_LUN, EJECT)).as("MEDIUM REMOVAL PREVENTED through node 2").isEqualTo(0x055302);
        assertThat(outcome(s3, RMB_LUN, preventAllow(false))).as("node 3's nexus cannot allow for node 1's").isEqualTo(-1);
        assertThat(outcome(s2, RMB_LUN, EJECT)).isEqualTo(0x055302);
        assertThat(outcome(s1, RMB_LUN, preventAllow(false))).isEqualTo(-1);

        // Ejected through node 2: the medium is out for the initiators of every node.
        assertThat(outcome(s2, RMB_LUN, EJECT)).isEqualTo(-1);
        for (IscsiSession s : List.of(s1, s2, s3)) {
            assertThat(outcome(s, RMB_LUN, Cdbs.testUnitReady())).as("MEDIUM NOT PRESENT").isEqualTo(0x023A00);
            assertThat(outcome(s, RMB_LUN, Cdbs.read10(0, 1))).isEqualTo(0x023A00);
        }
        assertThat(outcome(s1, LUN, Cdbs.testUnitReady())).as("LUN 0 is fixed").isEqualTo(-1);

        // Loaded through node 3: every other nexus, on whichever node, hears the medium may have changed.
        assertThat(outcome(s3, RMB_LUN, LOAD)).isEqualTo(-1);
        assertThat(unitAttentionsUntilReady(s1, RMB_LUN)).as("NOT READY TO READY CHANGE on node 1").containsExactly(0x062800);
        assertThat(unitAttentionsUntilReady(s2, RMB_LUN)).as("on node 2").containsExactly(0x062800);
        assertThat(unitAttentionsUntilReady(s3, RMB_LUN)).as("not to the issuer").isEmpty();
        assertThat(outcome(s1, RMB_LUN, Cdbs.read10(0, 1))).isEqualTo(-1);

        // A reset through node 2 ends every hold, whichever node set it.
        assertThat(outcome(s1, RMB_LUN, preventAllow(true))).isEqualTo(-1);
        assertThat(outcome(s3, RMB_LUN, preventAllow(true))).isEqualTo(-1);
        assertThat(s2.taskManagement(LOGICAL_UNIT_RESET, RMB_LUN, -1, 0)).isEqualTo(FUNCTION_COMPLETE);
        assertThat(unitAttentionsUntilReady(s1, RMB_LUN)).containsExactly(0x062903);
        assertThat(outcome(s1, RMB_LUN, EJECT)).as("no hold survives the reset").isEqualTo(-1);
        assertThat(outcome(s1, RMB_LUN, LOAD)).isEqualTo(-1);

        // The loss of a nexus ends its hold, on every node before the same initiator is back.
        IscsiSession lost = login(1, "iqn.2025-01.io.tandem.it:rmb-lost", 7);
        unitAttentionsUntilReady(lost, RMB_LUN);
        assertThat(outcome(lost, RMB_LUN, preventAllow(true))).isEqualTo(-1);
        lost.close(); // the connection drops: no logout
        IscsiSession back = login(1, "iqn.2025-01.io.tandem.it:rmb-lost", 8); // back at once, a new ISID (as libiscsi)
        unitAttentionsUntilReady(back, RMB_LUN);
        assertThat(outcome(back, RMB_LUN, EJECT)).as("the hold ended with the lost nexus").isEqualTo(-1);
        assertThat(unitAttentionsUntilReady(s2, RMB_LUN)).as("the reset's (to its issuer too), node 1's load").containsExactly(0x062903, 0x062800);
        assertThat(outcome(s2, RMB_LUN, LOAD)).isEqualTo(-1);

        // So does the loss of its node.
        unitAttentionsUntilReady(s2, RMB_LUN);
        unitAttentionsUntilReady(s3, RMB_LUN);
        assertThat(outcome(s3, RMB_LUN, preventAllow(true))).isEqualTo(-1);
        assertThat(outcome(s2, RMB_LUN, EJECT)).isEqualTo(0x055302);
        stopNode(3);
        // Each survivor drops the hold when it applies the record change that follows the loss; the eject
        // below goes through node 2, so both must have applied it (node 2 may hear of it after node 1).
        await(() -> nodes.get(1).scsiTarget().logicalUnit(RMB_LUN).state().medium().preventions().isEmpty()
                && nodes.get(2).scsiTarget().logicalUnit(RMB_LUN).state().medium().preventions().isEmpty()
                && nodes.get(2).scsiTarget().logicalUnit(RMB_LUN).accessState(3) == AluaState.UNAVAILABLE,
                "node 3's nexus' hold ends with it on every survivor, and node 2 marked its group Unavailable");
        unitAttentionsUntilReady(s2, RMB_LUN);
        assertThat(outcome(s2, RMB_LUN, EJECT)).isEqualTo(-1);
    }

    private static byte[] sanitizeOverwrite(boolean immediate) {
        byte[] cdb = new byte[10];
        cdb[0] = 0x48;
        cdb[1] = (byte) (0x01 | (immediate ? 0x80 : 0)); // OVERWRITE, AUSE=0
        cdb[8] = 4 + 1; // parameter list: header and a one-byte pattern
        return cdb;
    }

    private static ScsiResult sanitize(IscsiSession s, boolean immediate, int pattern) throws IOException {
        return s.execute(ScsiRequest.write(LUN, sanitizeOverwrite(immediate), new byte[]{1, 0, 0, 1, (byte) pattern}));
    }

    @Test
    void aSanitizeRunningOnOneNodeIsInProgressOnEveryNodeUntilItEnds() throws Exception {
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:sanitizer", 1);
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:bystander", 2);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:bystander3", 3);
        HoldingBlockDevice node1 = backends.get(1);
        node1.holdWrites(); // the operation's first pass stops in node 1's backend
        ScsiResult started = sanitize(s1, true, 0x5A);
        assertThat(started.isGood()).as(started.toString()).isTrue();
        node1.awaitHeld(1, WAIT);

        // Nodes 2 and 3 refuse what a sanitize excludes, with progress, and serve the three it allows.
        for (IscsiSession s : List.of(s2, s3)) {
            assertThat(outcome(s, LUN, Cdbs.testUnitReady())).as("SANITIZE IN PROGRESS").isEqualTo(0x02041B);
            assertThat(outcome(s, LUN, Cdbs.read10(0, 1))).isEqualTo(0x02041B);
            ScsiResult w = write(s, 0, Patterns.blocks(0, 1, BLOCK, 9));
            assertThat(w.sense().is(Sense.NOT_READY, 0x04, 0x1B)).as(w.toString()).isTrue();
            assertThat(s.execute(ScsiRequest.read(LUN, Cdbs.inquiry(false, 0, 96), 96)).isGood()).isTrue();
            byte[] sense = s.execute(ScsiRequest.read(LUN, Cdbs.requestSense(252, false), 252)).requireGood();
            assertThat(Sense.decode(sense).is(Sense.NOT_READY, 0x04, 0x1B)).as("REQUEST SENSE").isTrue();
            assertThat(sense[15] & 0x80).as("SKSV: progress indication").isEqualTo(0x80);
        }
        ScsiResult second = sanitize(s3, true, 0x11);
        assertThat(second.sense().is(Sense.NOT_READY, 0x04, 0x1B)).as("one sanitize at a time, cluster-wide: %s", second).isTrue();

        node1.release();
        // The end is a record change each node applies in its own time: wait for each.
        await(io(() -> outcome(s2, LUN, Cdbs.testUnitReady()) == -1), "the sanitize's end reaches node 2");
        await(io(() -> outcome(s3, LUN, Cdbs.testUnitReady()) == -1), "the sanitize's end reaches node 3");
        assertThat(read(s3, 0, 8)).as("every block holds the pattern").containsOnly(0x5A);
    }

    @Test
    void aSanitizeLostWithItsNodeHasFailedOnTheOthersUntilASanitizeSucceeds() throws Exception {
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:survivor", 1);
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:restorer", 2);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:doomed", 3);
        HoldingBlockDevice node3 = backends.get(3);
        node3.holdWrites();
        assertThat(sanitize(s3, true, 0x77).isGood()).isTrue();
        node3.awaitHeld(1, WAIT);
        assertThat(outcome(s1, LUN, Cdbs.testUnitReady())).isEqualTo(0x02041B);

        // Node 3 goes away in the middle of its first pass (its backend keeps the write: it never ends).
        HoldingBlockDevice stuck = backends.remove(3);
        nodes.remove(3).close();
        // The survivors mark the sanitize failed and make node 3's group Unavailable: two record
        // changes made at once, applied in either order, so each nexus waits for both.
        await(io(groupLossHeardThen(s1, 0x033103)), "the survivors mark the sanitize failed (node 1)");
        assertThat(outcome(s1, LUN, Cdbs.read10(0, 1))).as("SANITIZE COMMAND FAILED").isEqualTo(0x033103);
        byte[] exitFailureMode = {0x48, 0x1F, 0, 0, 0, 0, 0, 0, 0, 0};
        assertThat(outcome(s1, LUN, exitFailureMode)).as("AUSE was 0: only a sanitize ends it").isEqualTo(0x052400);

        await(io(groupLossHeardThen(s2, 0x033103)), "the survivors mark the sanitize failed (node 2)");
        ScsiResult again = sanitize(s2, false, 0x33);
        assertThat(again.isGood()).as(again.toString()).isTrue();
        assertThat(outcome(s1, LUN, Cdbs.testUnitReady())).isEqualTo(-1);
        assertThat(read(s1, 0, 8)).containsOnly(0x33);
        try {
            stuck.release(); // the write reaches a closed device and fails; node 3's operation ends
        } catch (RuntimeException expected) {
            // the device is closed
        }
    }

    @Test
    void aTargetColdResetThroughOneNodeEndsTheSessionsOfEveryNode() throws Exception {
        IscsiSession s1 = login(1, "iqn.2025-01.io.tandem.it:cold-a", 1);
        IscsiSession s2 = login(2, "iqn.2025-01.io.tandem.it:cold-b", 2);
        IscsiSession s3 = login(3, "iqn.2025-01.io.tandem.it:cold-c", 3);
        assertThat(s2.taskManagement(TARGET_COLD_RESET, LUN, -1, 0)).isEqualTo(FUNCTION_COMPLETE);
        for (IscsiSession s : List.of(s1, s2, s3)) {
            s.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(s.isOpen()).as("every session of the target, on every node, is gone").isFalse();
        }
        IscsiSession after = login(1, "iqn.2025-01.io.tandem.it:cold-a", 1);
        assertThat(read(after, 0, 1)).hasSize(BLOCK);
    }
}
