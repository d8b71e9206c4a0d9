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
import io.tandem.it.support.TandemProcess;
import io.tandem.scsi.core.AluaState;
import io.tandem.server.ClusterSettings;
import io.tandem.server.LunConfig;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
 * The cluster under faults, on a real three-server ZooKeeper ensemble shared by the class (each
 * test its own cluster name, so its own subtree; a test that stops servers restarts them): losing
 * the quorum fences every node until it is back; losing one server of three keeps every node
 * serving; a node killed with SIGKILL mid-write leaves the others serving with every acknowledged
 * write and its registrations in place; a node cut off from ZooKeeper lands no write of a
 * preempted initiator after the preempt returned and rejoins with the state changed meanwhile;
 * and restarting every node keeps what APTPL keeps.
 */
@Timeout(180)
class TandemClusterFaultTest {

    static final String TARGET = "iqn.2025-01.io.tandem.it:faults";
    static final int LUN = 0;
    static final int BLOCK = 512;
    static final long LUN_BYTES = 16L << 20;
    /** Steady nodes: no spurious suspension on a loaded machine. */
    static final Duration SESSION = TandemClusterTest.SESSION;
    /** A node the test partitions or kills: the others stop waiting for it this long after it went silent. */
    static final Duration PARTITIONED_SESSION = Duration.ofSeconds(4);
    static final Duration WAIT = Duration.ofSeconds(40);
    static final long KEY_A = 0xA1A1A1A1A1A1A1A1L, KEY_B = 0xB2B2B2B2B2B2B2B2L, KEY_C = 0xC3C3C3C3C3C3C3C3L;
    static final int REGISTER = 0x00, RESERVE = 0x01, PREEMPT = 0x04, PREEMPT_AND_ABORT = 0x05,
            REGISTER_AND_IGNORE_EXISTING_KEY = 0x06, WRITE_EXCLUSIVE = 0x1, WE_RO = 0x5;
    static final int LOGICAL_UNIT_RESET = 5, FUNCTION_COMPLETE = 0;

    private static TestingCluster ensemble;
    private static final AtomicInteger clusters = new AtomicInteger();

    @TempDir
    Path dir;
    private String clusterName;
    private final Map<Integer, TandemNode> nodes = new TreeMap<>();
    private final List<IscsiSession> sessions = new ArrayList<>();
    private final List<PartitionableLink> links = new ArrayList<>();
    private final List<TandemProcess> processes = new ArrayList<>();
    private final List<Writer> writers = new ArrayList<>();
    /** ZooKeeper servers this test stopped: restarted after it, for the next test. */
    private final Set<InstanceSpec> stopped = new HashSet<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        ensemble = TandemClusterTest.ensemble(3);
        ensemble.start();
    }

    @AfterAll
    static void stopEnsemble() throws IOException {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    void nameCluster() {
        clusterName = "faults" + clusters.incrementAndGet();
    }

    @AfterEach
    void stopAll() throws Exception {
        writers.forEach(Writer::stop);
        sessions.forEach(IscsiSession::close);
        nodes.values().forEach(TandemNode::close); // before the links: a node cut off takes long to close
        links.forEach(PartitionableLink::close);
        for (TandemProcess p : processes) {
            p.close();
        }
        for (InstanceSpec spec : stopped) {
            ensemble.restartServer(spec);
        }
    }

    // ---------------------------------------------------------------- the coordinator's faults (ZooKeeper here)
    // TandemRadosClusterFaultTest runs the same scenarios on RADOS through these hooks.

    /** How a node reaches the coordinator; a partitionable one goes through links the test can cut. */
    ClusterSettings clusterSettings(boolean partitionable, Duration session) throws IOException {
        return new ClusterSettings(partitionable ? linkedConnectString() : ensemble.getConnectString(), clusterName, session);
    }

    /** The {@code cluster:} line of a node file that joins a node in its own JVM to this cluster. */
    String clusterYaml(Duration session) {
        return "cluster: { zookeeper: \"" + ensemble.getConnectString() + "\", name: " + clusterName
                + ", session-timeout: " + session.toSeconds() + " }\n";
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
        stopServer(servers.get(0));
        stopServer(servers.get(1));
    }

    void regainQuorum() throws Exception {
        List<InstanceSpec> servers = new ArrayList<>(ensemble.getInstances());
        restartServer(servers.get(0));
        restartServer(servers.get(1));
    }

    private TandemNode startNode(int id, boolean partitionable, Duration session) throws IOException {
        NodeConfig config = NodeConfig.builder()
                .nodeId(id)
                .cluster(clusterSettings(partitionable, session))
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(Files.createDirectories(dir.resolve("node-" + id)))
                .targetName(TARGET)
                .lun(new LunConfig(LUN, "lun0", LunConfig.Backend.FILE, dir.resolve("lun0.img"), LUN_BYTES, BLOCK, false))
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        TandemNode node = TandemNode.start(config);
        nodes.put(id, node);
        return node;
    }

    private void startNodes(int... ids) throws IOException {
        for (int id : ids) {
            startNode(id, false, SESSION);
        }
    }

    /**
     * A node in its own JVM ({@code tandem serve} with a node file), on the same ensemble and
     * cluster as the in-process nodes: it takes the cluster's LUNs, so the shared file, from the
     * stored configuration.
     */
    private TandemProcess startProcessNode(int id, Duration session) throws Exception {
        Path data = Files.createDirectories(dir.resolve("node-" + id));
        Path file = dir.resolve("node-" + id + ".yaml");
        Files.writeString(file, "node: { id: " + id + " }\n"
                + clusterYaml(session)
                + "target: { name: \"" + TARGET + "\" }\n"
                + "data: " + data + "\n");
        TandemProcess process = TandemProcess.serve("--config", file.toString());
        processes.add(process);
        return process;
    }

    private void stopServer(InstanceSpec spec) throws Exception {
        stopped.add(spec);
        assertThat(ensemble.killServer(spec)).isTrue();
    }

    private void restartServer(InstanceSpec spec) throws Exception {
        assertThat(ensemble.restartServer(spec)).isTrue();
        stopped.remove(spec);
    }

    /** The server the ensemble elected leader (ZooKeeper's {@code srvr} four-letter command). */
    private static InstanceSpec leader() throws IOException {
        for (InstanceSpec spec : ensemble.getInstances()) {
            try (Socket socket = new Socket("127.0.0.1", spec.getPort())) {
                socket.setSoTimeout(5000);
                socket.getOutputStream().write("srvr".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                if (answer.contains("Mode: leader")) {
                    return spec;
                }
            }
        }
        throw new AssertionError("no ZooKeeper server says it leads");
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
        return login(nodes.get(node).portal(), initiator, isidTail);
    }

    private IscsiSession login(InetSocketAddress portal, String initiator, int isidTail) throws IOException {
        LoginOptions options = LoginOptions.normal(TARGET).initiatorName(initiator)
                .isid(new byte[]{(byte) 0x80, 0x12, 0x34, 0x56, 0x00, (byte) isidTail});
        IscsiSession s = IscsiSession.login(portal, options);
        sessions.add(s);
        drain(s);
        return s;
    }

    private static ScsiResult testUnitReady(IscsiSession s) throws IOException {
        return s.execute(ScsiRequest.none(LUN, Cdbs.testUnitReady()));
    }

    /** TEST UNIT READY until it answers something other than a unit attention. */
    private static ScsiResult drain(IscsiSession s) throws IOException {
        return drain(s, LUN);
    }

    private static ScsiResult drain(IscsiSession s, int lun) throws IOException {
        for (int i = 0; i < 20; i++) {
            ScsiResult r = s.execute(ScsiRequest.none(lun, Cdbs.testUnitReady()));
            if (r.sense() == null || r.sense().key() != Sense.UNIT_ATTENTION) {
                return r;
            }
        }
        throw new AssertionError("unit attentions did not stop");
    }

    /** TEST UNIT READY until GOOD; the unit attentions seen on the way, as 0xKKAAQQ. */
    private static List<Integer> unitAttentions(IscsiSession s) throws IOException {
        List<Integer> seen = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ScsiResult r = testUnitReady(s);
            if (r.isGood()) {
                return seen;
            }
            assertThat(r.sense()).as(r.toString()).isNotNull();
            assertThat(r.sense().key()).as(r.toString()).isEqualTo(Sense.UNIT_ATTENTION);
            seen.add((r.sense().key() << 16) | (r.sense().asc() << 8) | r.sense().ascq());
        }
        throw new AssertionError("unit attentions did not stop");
    }

    /** REPORT TARGET PORT GROUPS (past unit attentions) as group id -> access state code. */
    private static Map<Integer, Integer> groupStates(IscsiSession s) throws IOException {
        byte[] cdb = {(byte) 0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0};
        ScsiResult r = s.execute(ScsiRequest.read(LUN, cdb, 1024));
        for (int i = 0; i < 10 && r.sense() != null && r.sense().key() == Sense.UNIT_ATTENTION; i++) {
            r = s.execute(ScsiRequest.read(LUN, cdb, 1024));
        }
        byte[] d = r.requireGood();
        Map<Integer, Integer> states = new TreeMap<>();
        for (int at = 4; at < d.length; at += 8 + 4 * (d[at + 7] & 0xFF)) {
            states.put((d[at + 2] & 0xFF) << 8 | (d[at + 3] & 0xFF), d[at] & 0x0F);
        }
        return states;
    }

    /**
     * What a multipath host retries rather than fails: a unit attention (e.g. ASYMMETRIC ACCESS
     * STATE CHANGED when a node leaves), ASYMMETRIC ACCESS STATE TRANSITION (a node fenced for a
     * moment), BUSY.
     */
    private static boolean retriable(ScsiResult r) {
        if (r.status() == ScsiResult.BUSY) {
            return true;
        }
        return r.status() == ScsiResult.CHECK_CONDITION && r.sense() != null
                && (r.sense().key() == Sense.UNIT_ATTENTION || r.sense().is(Sense.NOT_READY, 0x04, 0x0A));
    }

    /**
     * An initiator writing block after block (each its own LBA and pattern) through one session, as
     * a host would: retriable answers are retried, anything else is recorded as an error; a broken
     * connection ends it.
     */
    private final class Writer {
        final IscsiSession session;
        final long base;
        final int limit;
        final int tag;
        final List<Long> acknowledged = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final AtomicInteger retries = new AtomicInteger();
        volatile IOException broken;
        volatile boolean stopping;
        private final Thread thread;

        Writer(IscsiSession session, long base, int limit, int tag) {
            this.session = session;
            this.base = base;
            this.limit = limit;
            this.tag = tag;
            writers.add(this);
            thread = Thread.ofVirtual().start(this::run);
        }

        private void run() {
            long lba = base;
            while (!stopping && lba < base + limit) {
                try {
                    ScsiResult r = session.execute(ScsiRequest.write(LUN, Cdbs.write10(lba, 1), Patterns.blocks(lba, 1, BLOCK, tag)));
                    if (r.isGood()) {
                        acknowledged.add(lba++);
                    } else if (retriable(r)) {
                        retries.incrementAndGet();
                        Thread.sleep(20); // a host's retry delay, not synchronisation
                    } else {
                        errors.add("LBA " + lba + ": " + r);
                        lba++;
                    }
                    Thread.sleep(2); // paces the writer so the LBA range lasts the test
                } catch (IOException e) {
                    broken = e;
                    return;
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        int acknowledgedCount() {
            return acknowledged.size();
        }

        void stop() {
            stopping = true;
            try {
                thread.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Every acknowledged block holds this writer's pattern, read through {@code reader}. */
        void assertAcknowledgedOnMedium(IscsiSession reader, String who) throws IOException {
            if (acknowledged.isEmpty()) {
                return;
            }
            long last = acknowledged.stream().mapToLong(Long::longValue).max().orElseThrow();
            byte[] medium = read(reader, base, (int) (last - base + 1));
            for (long lba : acknowledged) {
                int at = (int) (lba - base) * BLOCK;
                assertThat(Arrays.copyOfRange(medium, at, at + BLOCK)).as("%s: acknowledged LBA %d is on the medium", who, lba)
                        .isEqualTo(Patterns.blocks(lba, 1, BLOCK, tag));
            }
        }
    }

    /** When each node's coordinator stopped and resumed serving (its fence), from a listener. */
    private static final class FenceLog {
        private final AtomicLong fencedSince = new AtomicLong(-1);
        private final AtomicLong longestNanos = new AtomicLong();
        private final AtomicInteger fences = new AtomicInteger();

        FenceLog(TandemNode node) {
            node.coordinator().addServingListener(serving -> {
                long now = System.nanoTime();
                if (!serving) {
                    fences.incrementAndGet();
                    fencedSince.compareAndSet(-1, now);
                } else {
                    long since = fencedSince.getAndSet(-1);
                    if (since >= 0) {
                        longestNanos.accumulateAndGet(now - since, Math::max);
                    }
                }
            });
        }

        Duration longest() {
            long since = fencedSince.get();
            long open = since < 0 ? 0 : System.nanoTime() - since;
            return Duration.ofNanos(Math.max(longestNanos.get(), open));
        }
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

    // ------------------------------------------------------------------ a node crashes

    /**
     * Node 1 runs in its own JVM on the same ensemble and is killed with SIGKILL while one initiator
     * writes through it and another through node 2. The survivors keep serving (the survivor's
     * initiator sees nothing but retriable answers), every write acknowledged before the kill is on
     * the shared file, the dead node's group reads Unavailable on both survivors, its nexus'
     * registration persists and can be preempted, and the SPC-2 reservation it held ends with it.
     */
    @Test
    void aNodeKilledMidWriteLeavesTheOthersServingWithEveryAcknowledgedWriteAndItsRegistrations() throws Exception {
        startNodes(2, 3);
        nodes.get(2).addLun(new LunConfig(1, "spc2", LunConfig.Backend.FILE, dir.resolve("spc2.img"), 4L << 20, BLOCK, false));
        TandemProcess doomed = startProcessNode(1, PARTITIONED_SESSION);
        IscsiSession observer = login(3, "iqn.2025-01.io.tandem.it:observer", 3);
        IscsiSession watcher = login(2, "iqn.2025-01.io.tandem.it:watcher", 4);
        await(io(() -> Integer.valueOf(0).equals(groupStates(observer).get(1))), "node 1 (its own JVM) is a live member");

        IscsiSession victim = login(doomed.portal(), "iqn.2025-01.io.tandem.it:on-doomed", 1);
        IscsiSession survivor = login(2, "iqn.2025-01.io.tandem.it:on-survivor", 2);
        assertThat(victim.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(survivor.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();
        assertThat(observer.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_C, false).isGood()).isTrue();
        // LUN 1 is held with an SPC-2 reservation through the node about to die.
        byte[] block = Patterns.blocks(0, 1, BLOCK, 5);
        drain(victim, 1);
        drain(observer, 1);
        assertThat(victim.execute(ScsiRequest.none(1, new byte[]{0x16, 0, 0, 0, 0, 0})).isGood()).isTrue();
        assertThat(observer.execute(ScsiRequest.write(1, Cdbs.write10(0, 1), block)).status())
                .isEqualTo(ScsiResult.RESERVATION_CONFLICT);

        Writer throughDoomed = new Writer(victim, 4096, 8192, 1);
        Writer throughSurvivor = new Writer(survivor, 16384, 16384, 2);
        await(() -> throughDoomed.acknowledgedCount() >= 50 && throughSurvivor.acknowledgedCount() >= 50, "both initiators write");

        doomed.kill9();
        int survivorAtKill = throughSurvivor.acknowledgedCount();
        await(io(() -> Integer.valueOf(0x3).equals(groupStates(observer).get(1))), "the dead node's group reads Unavailable");
        assertThat(groupStates(observer)).as("through node 3").isEqualTo(Map.of(1, 3, 2, 0, 3, 0));
        // Node 2 applies the change in its own time.
        await(io(() -> groupStates(watcher).equals(Map.of(1, 3, 2, 0, 3, 0))), "through node 2 as well");
        await(() -> throughSurvivor.acknowledgedCount() >= survivorAtKill + 200, "the survivor's initiator keeps writing");
        throughSurvivor.stop();
        throughDoomed.stop();

        assertThat(throughSurvivor.broken).as("the survivor's connection").isNull();
        assertThat(throughSurvivor.errors).as("no error but retriable ones through the survivor").isEmpty();
        assertThat(throughDoomed.broken).as("the killed node's connection broke").isNotNull();
        throughDoomed.assertAcknowledgedOnMedium(observer, "written through the killed node");
        throughSurvivor.assertAcknowledgedOnMedium(observer, "written through node 2");

        // An SPC-2 reservation ends with its holder's nexus, which died with the node.
        AtomicReference<ScsiResult> released = new AtomicReference<>();
        await(io(() -> {
            ScsiResult r = observer.execute(ScsiRequest.write(1, Cdbs.write10(0, 1), block));
            released.set(r);
            return r.isGood() || !(r.status() == ScsiResult.RESERVATION_CONFLICT || retriable(r));
        }), "the SPC-2 reservation held through the killed node is released");
        assertThat(released.get().isGood()).as("%s", released.get()).isTrue();

        // Registrations survive an I_T nexus loss (SPC-4): the dead node's is there, and can be preempted.
        assertThat(observer.device(LUN).readKeys().keys()).containsExactly(KEY_A, KEY_B, KEY_C);
        ScsiResult preempt = observer.device(LUN).persistentReserveOut(PREEMPT, WRITE_EXCLUSIVE, KEY_C, KEY_A, false);
        assertThat(preempt.status()).as("%s", preempt).isEqualTo(ScsiResult.GOOD);
        assertThat(watcher.device(LUN).readKeys().keys()).as("through node 2").containsExactly(KEY_B, KEY_C);
    }

    // ------------------------------------------------------------------ a ZooKeeper server dies

    /**
     * The ensemble's leader dies while every node serves I/O and persistent reservation changes:
     * the two servers left elect a leader and go on (the quorum holds), each node is fenced at most
     * for the election (its session never expires), and PERSISTENT RESERVE OUT through every node
     * completes, once retried past the moment of ASYMMETRIC ACCESS STATE TRANSITION.
     */
    @Test
    void losingOneZooKeeperServerKeepsEveryNodeServingAndPrOutCompletingEverywhere() throws Exception {
        startNodes(1, 2, 3);
        Map<Integer, FenceLog> fences = new TreeMap<>();
        nodes.forEach((id, node) -> fences.put(id, new FenceLog(node)));
        Writer w1 = new Writer(login(1, "iqn.2025-01.io.tandem.it:io-1", 1), 1024, 8192, 1);
        Writer w3 = new Writer(login(3, "iqn.2025-01.io.tandem.it:io-3", 3), 16384, 8192, 3);

        // One registrant per node changes its key over and over (REGISTER AND IGNORE EXISTING KEY
        // may be repeated after an answer that does not say whether it took effect).
        Map<Integer, IscsiSession> registrants = new TreeMap<>();
        Map<Integer, AtomicLong> keys = new TreeMap<>();
        Map<Integer, AtomicInteger> completed = new TreeMap<>();
        List<String> prErrors = new CopyOnWriteArrayList<>();
        AtomicLong slowestNanos = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> loops = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            int node = id;
            IscsiSession s = login(node, "iqn.2025-01.io.tandem.it:pr-" + node, node);
            registrants.put(node, s);
            keys.put(node, new AtomicLong());
            completed.put(node, new AtomicInteger());
            loops.add(Thread.ofVirtual().start(() -> {
                long key = (long) node << 32;
                long started = System.nanoTime();
                while (!stop.get()) {
                    try {
                        ScsiResult r = s.device(LUN).persistentReserveOut(REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, key + 1, false);
                        if (r.isGood()) {
                            slowestNanos.accumulateAndGet(System.nanoTime() - started, Math::max);
                            keys.get(node).set(++key);
                            completed.get(node).incrementAndGet();
                            started = System.nanoTime();
                        } else if (retriable(r)) {
                            Thread.sleep(50);
                        } else {
                            prErrors.add("node " + node + ": " + r);
                        }
                    } catch (IOException | InterruptedException e) {
                        prErrors.add("node " + node + ": " + e);
                        return;
                    }
                }
            }));
        }
        await(() -> completed.values().stream().allMatch(c -> c.get() >= 5) && w1.acknowledgedCount() >= 50
                && w3.acknowledgedCount() >= 50, "PR OUT and I/O through every node");

        InstanceSpec leader = leader();
        stopServer(leader);
        Map<Integer, Integer> atLoss = new TreeMap<>();
        completed.forEach((id, c) -> atLoss.put(id, c.get()));
        int w1AtLoss = w1.acknowledgedCount();
        int w3AtLoss = w3.acknowledgedCount();
        await(() -> completed.entrySet().stream().allMatch(e -> e.getValue().get() >= atLoss.get(e.getKey()) + 10)
                && w1.acknowledgedCount() >= w1AtLoss + 100 && w3.acknowledgedCount() >= w3AtLoss + 100,
                "PR OUT and I/O go on through every node with two servers of three");
        stop.set(true);
        for (Thread t : loops) {
            t.join(Duration.ofSeconds(30));
        }
        w1.stop();
        w3.stop();

        assertThat(prErrors).as("PR OUT answers other than GOOD or retriable").isEmpty();
        assertThat(w1.errors).isEmpty();
        assertThat(w3.errors).isEmpty();
        assertThat(w1.broken).isNull();
        assertThat(w3.broken).isNull();
        fences.forEach((id, log) -> assertThat(log.longest()).as("node %d's longest fence", id).isLessThan(SESSION));
        assertThat(Duration.ofNanos(slowestNanos.get())).as("slowest PR OUT, retries included").isLessThan(SESSION.multipliedBy(2));
        List<Long> expected = keys.values().stream().map(AtomicLong::get).toList();
        for (int id = 1; id <= 3; id++) {
            assertThat(registrants.get(id).device(LUN).readKeys().keys()).as("READ KEYS through node %d", id)
                    .containsExactlyInAnyOrderElementsOf(expected);
        }
        w1.assertAcknowledgedOnMedium(registrants.get(2), "written through node 1");
        w3.assertAcknowledgedOnMedium(registrants.get(2), "written through node 3");
    }

    // ------------------------------------------------------------------ every node restarts

    /**
     * Every node stops and starts again on the same ensemble and data: the LU's record lives in
     * ZooKeeper, so APTPL registrations and the reservation are there and in force through every
     * node, for the same initiator ports logging in again. A cluster with no live node that
     * starts again is a power on of the target: once the last APTPL value received is 0, nothing of
     * the reservations survives it (SPC-4), which the second half pins down.
     */
    @Test
    void restartingEveryNodeKeepsAptplRegistrationsAndTheReservation() throws Exception {
        startNodes(1, 2, 3);
        String[] names = {null, "iqn.2025-01.io.tandem.it:host-a", "iqn.2025-01.io.tandem.it:host-b", "iqn.2025-01.io.tandem.it:host-c"};
        long[] keyOf = {0, KEY_A, KEY_B, KEY_C};
        for (int id = 1; id <= 3; id++) {
            assertThat(login(id, names[id], id).device(LUN).persistentReserveOut(REGISTER, 0, 0, keyOf[id], true).isGood()).isTrue();
        }
        IscsiSession holder = sessions.get(1);
        assertThat(holder.device(LUN).persistentReserveOut(RESERVE, WRITE_EXCLUSIVE, KEY_B, 0, false).isGood()).isTrue();
        assertThat(write(holder, 7, Patterns.blocks(7, 1, BLOCK, 7)).isGood()).isTrue();

        restartEveryNode();
        for (int id = 1; id <= 3; id++) {
            IscsiSession s = login(id, names[id], id);
            assertThat(s.device(LUN).readKeys().keys()).as("READ KEYS through node %d", id).containsExactly(KEY_A, KEY_B, KEY_C);
            assertThat(s.device(LUN).readReservation()).as("READ RESERVATION through node %d", id)
                    .extracting(r -> r.key(), r -> r.type()).containsExactly(KEY_B, WRITE_EXCLUSIVE);
            assertThat(write(s, 8, Patterns.blocks(8, 1, BLOCK, id)).status()).as("write through node %d", id)
                    .isEqualTo(id == 2 ? ScsiResult.GOOD : ScsiResult.RESERVATION_CONFLICT);
            assertThat(read(s, 7, 1)).isEqualTo(Patterns.blocks(7, 1, BLOCK, 7));
        }

        // The last registration asks for no persistence through power loss (the most recent APTPL
        // value governs the LU): a restart of every node clears every registration and the reservation.
        long keyD = 0xD4D4D4D4D4D4D4D4L;
        IscsiSession d = login(3, "iqn.2025-01.io.tandem.it:host-d", 4);
        assertThat(d.device(LUN).persistentReserveOut(REGISTER, 0, 0, keyD, false).isGood()).isTrue();
        assertThat(d.device(LUN).readKeys().keys()).containsExactly(KEY_A, KEY_B, KEY_C, keyD);
        restartEveryNode();
        for (int id = 1; id <= 3; id++) {
            IscsiSession after = login(id, names[id], id);
            assertThat(after.device(LUN).readKeys().keys()).as("READ KEYS through node %d", id).isEmpty();
            assertThat(write(after, 9, Patterns.blocks(9, 1, BLOCK, id)).isGood()).as("no reservation through node %d", id).isTrue();
        }
    }

    private void restartEveryNode() throws IOException, InterruptedException {
        sessions.forEach(IscsiSession::close);
        sessions.clear();
        nodes.values().forEach(TandemNode::close);
        nodes.clear();
        startNodes(1, 2, 3);
        // The first node back starts alone and marks the others Unavailable until it sees them.
        awaitEveryGroupActive();
    }

    /** Until every node of this JVM reads the group of every one of them Active/Optimized on LUN 0. */
    private void awaitEveryGroupActive() throws InterruptedException {
        await(() -> nodes.values().stream().allMatch(n -> nodes.keySet().stream()
                .allMatch(g -> n.scsiTarget().logicalUnit(LUN).accessState(g) == AluaState.ACTIVE_OPTIMIZED)),
                "every node reads every group Active/Optimized");
    }

    private static ScsiResult write(IscsiSession s, long lba, byte[] data) throws IOException {
        return s.execute(ScsiRequest.write(LUN, Cdbs.write10(lba, data.length / BLOCK), data));
    }

    // ------------------------------------------------------------------ a partitioned node comes back

    /**
     * While node 1 is cut off from ZooKeeper the others change everything a node keeps: the
     * reservations (its initiator is preempted), a LOGICAL UNIT RESET, the LU's capacity, the LUN
     * inventory. When the partition heals node 1 rejoins with a new session and serves only the new
     * state: the same answers as the other nodes, and the unit attentions its nexus missed.
     */
    @Test
    void aPartitionedNodeRejoinsWithTheStateChangedMeanwhile() throws Exception {
        startNode(1, true, PARTITIONED_SESSION);
        startNodes(2, 3);
        IscsiSession cutOff = login(1, "iqn.2025-01.io.tandem.it:cut-off", 1);
        IscsiSession other = login(2, "iqn.2025-01.io.tandem.it:other", 2);
        IscsiSession third = login(3, "iqn.2025-01.io.tandem.it:third", 3);
        assertThat(cutOff.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_A, false).isGood()).isTrue();
        assertThat(other.device(LUN).persistentReserveOut(REGISTER, 0, 0, KEY_B, false).isGood()).isTrue();

        partition(nodes.get(1));
        await(io(() -> transitioning(testUnitReady(cutOff))), "node 1 fences itself");
        await(io(() -> Integer.valueOf(0x3).equals(groupStates(third).get(1))), "node 1's session expired: the others go on");
        await(io(() -> Integer.valueOf(0x3).equals(groupStates(other).get(1))), "node 2 applied the loss too");
        unitAttentions(other); // ASYMMETRIC ACCESS STATE CHANGED
        unitAttentions(third);
        ScsiResult preempt = other.device(LUN).persistentReserveOut(PREEMPT, WE_RO, KEY_B, KEY_A, false);
        assertThat(preempt.isGood()).as("%s", preempt).isTrue();
        assertThat(other.device(LUN).persistentReserveOut(RESERVE, WE_RO, KEY_B, 0, false).isGood()).isTrue();
        assertThat(third.taskManagement(LOGICAL_UNIT_RESET, LUN, -1, 0)).isEqualTo(FUNCTION_COMPLETE);
        nodes.get(2).resizeLun(LUN, 2 * LUN_BYTES);
        nodes.get(3).addLun(new LunConfig(1, "added", LunConfig.Backend.FILE, dir.resolve("added.img"), 4L << 20, BLOCK, false));
        assertThat(transitioning(testUnitReady(cutOff))).as("node 1 is still fenced").isTrue();

        heal(nodes.get(1));
        // Watched on the node, not through the initiator: a command would take a unit attention away.
        await(() -> !nodes.get(1).scsiTarget().fenced(), "node 1 rejoins the cluster and serves again");
        await(() -> nodes.get(1).scsiTarget().logicalUnit(1) != null, "node 1 applies the configuration it missed");
        // The others make its group Active again once they see it back: a later version, which
        // node 1 applies before its initiator is asked anything (it queues one more unit attention).
        awaitEveryGroupActive();

        assertThat(unitAttentions(cutOff)).as("what the preempted nexus on node 1 missed").contains(
                0x062903, // BUS DEVICE RESET FUNCTION OCCURRED
                0x062A05, // REGISTRATIONS PREEMPTED
                0x062A09, // CAPACITY DATA HAS CHANGED
                0x063F0E); // REPORTED LUNS DATA HAS CHANGED
        assertThat(cutOff.device(LUN).readKeys().keys()).containsExactly(KEY_B);
        assertThat(cutOff.device(LUN).readReservation()).extracting(r -> r.key(), r -> r.type()).containsExactly(KEY_B, WE_RO);
        assertThat(write(cutOff, 9, Patterns.blocks(9, 1, BLOCK, 1)).status()).as("the preempted initiator")
                .isEqualTo(ScsiResult.RESERVATION_CONFLICT);
        assertThat(cutOff.device(LUN).readCapacity16().blocks()).isEqualTo(2 * LUN_BYTES / BLOCK);
        assertThat(cutOff.device(LUN).reportLuns()).containsExactly(0, 1);
        assertThat(groupStates(cutOff)).as("node 1's group is Active/Optimized again").isEqualTo(Map.of(1, 0, 2, 0, 3, 0));
        assertThat(groupStates(third)).isEqualTo(groupStates(cutOff));
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
