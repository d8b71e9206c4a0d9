package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.cluster.Member;
import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.support.TandemProcess;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fencing at the storage with the ZooKeeper coordinator, on a real Ceph cluster: nodes share one
 * rbd image, each through a Ceph client of its own, and a node declared lost is blocklisted by the
 * survivors before they go on without it.
 *
 * <ul>
 *   <li>a node frozen (SIGSTOP) with writes pending in librbd is declared lost, fenced, its
 *       initiator preempted and aborted through a survivor, which writes the same blocks; thawed
 *       (SIGCONT), none of its late writes lands and they fail;</li>
 *   <li>a node killed (SIGKILL) mid-write is blocklisted and the survivors keep serving;</li>
 *   <li>two and three nodes write one image at once, disjoint and overlapping; the image read with
 *       {@code rbd export} is exactly what the initiators had acknowledged.</li>
 * </ul>
 */
@ExtendWith(CephClusterExtension.class)
@Timeout(240)
class TandemRbdFenceTest {

    static final String TARGET = "iqn.2025-01.io.tandem.it:rbdfence";
    static final int LUN = 0;
    static final int BLOCK = 512;
    static final long IMAGE_BYTES = 64L << 20;
    static final Duration SESSION = Duration.ofSeconds(8);
    /** The node the test freezes or kills: declared lost this long after it went silent. */
    static final Duration DOOMED_SESSION = Duration.ofSeconds(4);
    static final Duration WAIT = Duration.ofSeconds(60);
    static final long KEY_A = 0xA1A1A1A1A1A1A1A1L, KEY_B = 0xB2B2B2B2B2B2B2B2L;
    static final int REGISTER = 0x00, RESERVE = 0x01, PREEMPT_AND_ABORT = 0x05, WRITE_EXCLUSIVE = 0x1;
    /** The region both the frozen node's initiator and the survivor's write: 64 writes of 16 blocks. */
    static final long REGION_LBA = 4096;
    static final int WRITE_BLOCKS = 16, REGION_WRITES = 64;

    private static TestingCluster ensemble;
    private static final AtomicInteger clusters = new AtomicInteger();

    @TempDir
    Path dir;
    private CephCluster ceph;
    private String image;
    private String clusterName;
    private final Map<Integer, TandemNode> nodes = new TreeMap<>();
    private final List<IscsiSession> sessions = new ArrayList<>();
    private final List<TandemProcess> processes = new ArrayList<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        ensemble = TandemClusterTest.ensemble(1);
        ensemble.start();
    }

    @AfterAll
    static void stopEnsemble() throws IOException {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @BeforeEach
    void name(CephCluster cluster) {
        ceph = cluster;
        image = "fence-" + UUID.randomUUID();
        clusterName = "rbdfence" + clusters.incrementAndGet();
    }

    @AfterEach
    void stopAll() throws Exception {
        sessions.forEach(IscsiSession::close);
        nodes.values().forEach(TandemNode::close);
        for (TandemProcess p : processes) {
            p.cont();
            p.close();
        }
        ceph.cli("rbd", "rm", "--no-progress", CephCluster.POOL + "/" + image);
    }

    // ---------------------------------------------------------------- a node frozen with writes pending

    /**
     * Node 1 (its own JVM) writes the region through its initiator, many writes in flight, and is
     * frozen with SIGSTOP. Its ZooKeeper session expires; PREEMPT AND ABORT through node 2 can only
     * complete once node 2 blocklisted node 1's Ceph client. Node 2's initiator then writes the
     * whole region. Thawed, node 1 resumes its pending librbd writes: the OSDs refuse them, the
     * region still holds node 2's data (read through node 2 and with {@code rbd export}), and the
     * writes node 1's initiator had outstanding fail.
     */
    @Test
    void aFrozenNodesPendingWritesAreRefusedAfterTheSurvivorsFencedIt() throws Exception {
        startNode(2);
        TandemProcess doomed = startProcessNode(1);
        Member doomedMember = awaitMember(2, "1");
        assertThat(doomedMember.fenceTargets()).as("node 1 announces its rbd client").hasSize(1)
                .allMatch(t -> t.startsWith("rados "));
        String doomedAddress = doomedMember.fenceTargets().getFirst().substring("rados ".length());

        IscsiSession victim = login(doomed.portal(), "on-doomed", 1);
        IscsiSession survivor = login(nodes.get(2).portal(), "on-survivor", 2);
        assertThat(victim.execute(prOut(REGISTER, 0, 0, KEY_A)).isGood()).isTrue();
        assertThat(survivor.execute(prOut(REGISTER, 0, 0, KEY_B)).isGood()).isTrue();
        assertThat(victim.execute(prOut(RESERVE, WRITE_EXCLUSIVE, KEY_A, 0)).isGood()).isTrue();

        // The victim's initiator keeps 16 writes of the region in flight, over and over.
        List<ScsiResult> afterThaw = new CopyOnWriteArrayList<>();
        AtomicBoolean thawed = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acknowledged = new AtomicInteger();
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int first = t;
            writers.add(Thread.ofVirtual().start(() -> {
                for (int i = first; !stop.get(); i = (i + 16) % REGION_WRITES) {
                    long lba = REGION_LBA + (long) i * WRITE_BLOCKS;
                    try {
                        ScsiResult r = victim.submit(ScsiRequest.write(LUN, Cdbs.write16(lba, WRITE_BLOCKS),
                                fill(WRITE_BLOCKS, (byte) 0xAA))).get(90, TimeUnit.SECONDS);
                        if (thawed.get()) {
                            afterThaw.add(r);
                            return; // this was the write pending at the freeze
                        }
                        if (r.isGood()) {
                            acknowledged.incrementAndGet();
                        }
                    } catch (Exception e) {
                        return; // the session broke
                    }
                }
            }));
        }
        await(() -> acknowledged.get() >= 200, "the victim's initiator writes through node 1");
        int blocklistedBefore = blocklist().size();
        doomed.stop();

        // Nobody goes on without node 1 until it is fenced: the preemption returns after that.
        long preemptStart = System.nanoTime();
        ScsiResult preempt = survivor.submit(prOut(PREEMPT_AND_ABORT, WRITE_EXCLUSIVE, KEY_B, KEY_A)).get(60, TimeUnit.SECONDS);
        assertThat(preempt.isGood()).as("%s", preempt).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - preemptStart)).as("waited for node 1's session to expire")
                .isGreaterThan(Duration.ofSeconds(2));
        assertThat(blocklist()).as("node 1's rbd client is blocklisted").contains(doomedAddress);
        assertThat(blocklist().size()).isGreaterThan(blocklistedBefore);

        byte[] mine = fill(WRITE_BLOCKS, (byte) 0x55);
        for (int i = 0; i < REGION_WRITES; i++) {
            ScsiResult w = execute(survivor, ScsiRequest.write(LUN, Cdbs.write16(REGION_LBA + (long) i * WRITE_BLOCKS, WRITE_BLOCKS), mine));
            assertThat(w.isGood()).as("survivor write %d: %s", i, w).isTrue();
        }

        doomed.cont();
        thawed.set(true);
        for (Thread t : writers) {
            assertThat(t.join(Duration.ofSeconds(90))).as("the victim's writes returned").isTrue();
        }
        stop.set(true);
        Thread.sleep(2000); // anything node 1 still had queued has had its chance to land

        byte[] region = execute(survivor, ScsiRequest.read(LUN, Cdbs.read16(REGION_LBA, REGION_WRITES * WRITE_BLOCKS),
                REGION_WRITES * WRITE_BLOCKS * BLOCK)).requireGood();
        assertThat(countNot(region, (byte) 0x55)).as("bytes of the region not the survivor's, read through node 2").isZero();
        byte[] exported = export();
        byte[] exportedRegion = Arrays.copyOfRange(exported, (int) (REGION_LBA * BLOCK), (int) ((REGION_LBA + REGION_WRITES * WRITE_BLOCKS) * BLOCK));
        assertThat(countNot(exportedRegion, (byte) 0x55)).as("bytes of the region not the survivor's, rbd export").isZero();

        // Writes pending at the freeze fail: Ceph refuses the blocklisted client (ESHUTDOWN), which
        // node 1 reports as FENCED (NOT READY, TARGET PORT IN UNAVAILABLE STATE). One the OSD had
        // applied before the freeze may still be acknowledged; the survivor overwrote it above.
        assertThat(afterThaw).as("the victim's writes outstanding at the freeze").isNotEmpty()
                .anyMatch(r -> r.sense() != null && r.sense().is(Sense.NOT_READY, 0x04, 0x0C));

        // Node 1 rejoins with a new session, finds its client blocklisted, reopens the image through
        // a new client and announces that one; it serves the survivor's data again.
        await(() -> nodes.get(2).coordinator().members().stream().anyMatch(m -> m.nodeId().equals("1")
                && !m.fenceTargets().isEmpty() && !m.fenceTargets().contains("rados " + doomedAddress)),
                "node 1 is back with a new Ceph client");
        IscsiSession back = login(doomed.portal(), "after-thaw", 3);
        byte[] again = execute(back, ScsiRequest.read(LUN, Cdbs.read16(REGION_LBA, REGION_WRITES * WRITE_BLOCKS),
                REGION_WRITES * WRITE_BLOCKS * BLOCK)).requireGood();
        assertThat(countNot(again, (byte) 0x55)).as("bytes of the region not the survivor's, read through node 1 again").isZero();
    }

    // ---------------------------------------------------------------- a node killed mid-write

    /** Node 1 killed with SIGKILL while writing: the survivor blocklists its client and keeps serving. */
    @Test
    void aNodeKilledMidWriteIsBlocklistedAndTheSurvivorKeepsServing() throws Exception {
        startNode(2);
        TandemProcess doomed = startProcessNode(1);
        String doomedAddress = awaitMember(2, "1").fenceTargets().getFirst().substring("rados ".length());
        IscsiSession victim = login(doomed.portal(), "on-killed", 1);
        IscsiSession survivor = login(nodes.get(2).portal(), "on-survivor", 2);
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = Thread.ofVirtual().start(() -> {
            for (long i = 0; !stop.get(); i = (i + 1) % 512) {
                try {
                    victim.submit(ScsiRequest.write(LUN, Cdbs.write16(REGION_LBA + i * 8, 8), fill(8, (byte) 0x11)))
                            .get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return;
                }
            }
        });
        Thread.sleep(1000);
        doomed.kill9();
        await(() -> blocklist().contains(doomedAddress), "the survivor blocklists the killed node's Ceph client");
        stop.set(true);
        writer.join(Duration.ofSeconds(30));
        byte[] data = fill(8, (byte) 0x22);
        for (int i = 0; i < 50; i++) {
            ScsiResult r = execute(survivor, ScsiRequest.write(LUN, Cdbs.write16(REGION_LBA + i * 8L, 8), data));
            assertThat(r.isGood()).as("%s", r).isTrue();
        }
        assertThat(execute(survivor, ScsiRequest.read(LUN, Cdbs.read16(REGION_LBA, 8), 8 * BLOCK)).requireGood()).isEqualTo(data);
    }

    // ---------------------------------------------------------------- concurrent writers, rbd export

    @Test
    void twoNodesWritingConcurrentlyLeaveExactlyTheAcknowledgedImage() throws Exception {
        concurrentWriters(2);
    }

    @Test
    void threeNodesWritingConcurrentlyLeaveExactlyTheAcknowledgedImage() throws Exception {
        concurrentWriters(3);
    }

    /**
     * Each node's initiator writes a region of its own (many writes in flight, each LBA once) while,
     * in turn, one node after another overwrites a shared region that overlaps its predecessor's
     * write, each write issued only after the previous one was acknowledged: the last acknowledged
     * write of every block is what it holds. The image read with {@code rbd export} must match that
     * model byte for byte over every block touched.
     */
    private void concurrentWriters(int count) throws Exception {
        for (int id = 1; id <= count; id++) {
            startNode(id);
        }
        List<IscsiSession> paths = new ArrayList<>();
        for (int id = 1; id <= count; id++) {
            paths.add(login(nodes.get(id).portal(), "path-" + id, id));
        }
        int blocks = 16384; // 8 MiB: two RADOS objects per node's region
        byte[] model = new byte[(int) (IMAGE_BYTES)];
        List<CompletableFuture<Void>> disjoint = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            IscsiSession s = paths.get(n);
            long base = (long) n * blocks;
            byte tag = (byte) (0x10 + n);
            disjoint.add(CompletableFuture.runAsync(() -> {
                List<CompletableFuture<ScsiResult>> inFlight = new ArrayList<>();
                for (long lba = base; lba < base + blocks; lba += 64) {
                    inFlight.add(s.submit(ScsiRequest.write(LUN, Cdbs.write16(lba, 64), stamp(lba, 64, tag))));
                    if (inFlight.size() == 16) {
                        inFlight.removeFirst().join().requireGood();
                    }
                }
                inFlight.forEach(f -> f.join().requireGood());
            }));
            for (long lba = base; lba < base + blocks; lba += 64) {
                byte[] d = stamp(lba, 64, tag);
                System.arraycopy(d, 0, model, (int) (lba * BLOCK), d.length);
            }
        }
        // Overlapping, ordered by acknowledgement: write r starts 24 blocks after write r-1 and is 48 long.
        long shared = (long) count * blocks + 1000;
        for (int r = 0; r < 90; r++) {
            IscsiSession s = paths.get(r % count);
            long lba = shared + (r % 30) * 24L;
            byte[] d = stamp(lba, 48, (byte) (0x80 + r));
            execute(s, ScsiRequest.write(LUN, Cdbs.write16(lba, 48), d)).requireGood();
            System.arraycopy(d, 0, model, (int) (lba * BLOCK), d.length);
        }
        for (CompletableFuture<Void> f : disjoint) {
            f.get(120, TimeUnit.SECONDS);
        }
        byte[] exported = export();
        int end = (int) ((shared + 30 * 24 + 48) * BLOCK);
        for (int at = 0; at < end; at += BLOCK) {
            if (!Arrays.equals(exported, at, at + BLOCK, model, at, at + BLOCK)) {
                throw new AssertionError("block " + at / BLOCK + " of the exported image is not what was acknowledged last");
            }
        }
        // and every path reads the same
        for (IscsiSession s : paths) {
            byte[] r = s.execute(ScsiRequest.read(LUN, Cdbs.read16(shared, 30 * 24 + 24), (30 * 24 + 24) * BLOCK)).requireGood();
            assertThat(Arrays.equals(r, 0, r.length, model, (int) (shared * BLOCK), (int) (shared * BLOCK) + r.length)).isTrue();
        }
    }

    // ---------------------------------------------------------------- helpers

    private LunConfig lun() {
        return LunConfig.rbd(LUN, new LunConfig.Rbd(CephCluster.POOL, image, ceph.conf(), null, null, IMAGE_BYTES), BLOCK, false);
    }

    private TandemNode startNode(int id) throws IOException {
        NodeConfig config = NodeConfig.builder()
                .nodeId(id)
                .cluster(new ClusterSettings(ensemble.getConnectString(), clusterName, SESSION))
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(Files.createDirectories(dir.resolve("node-" + id)))
                .targetName(TARGET)
                .lun(lun())
                .shutdownGrace(Duration.ofSeconds(1))
                .build();
        TandemNode node = TandemNode.start(config);
        nodes.put(id, node);
        return node;
    }

    /** A node in its own JVM on the same cluster: it takes the rbd LUN from the stored configuration. */
    private TandemProcess startProcessNode(int id) throws Exception {
        Path data = Files.createDirectories(dir.resolve("node-" + id));
        Path file = dir.resolve("node-" + id + ".yaml");
        Files.writeString(file, "node: { id: " + id + " }\n"
                + "cluster: { zookeeper: \"" + ensemble.getConnectString() + "\", name: " + clusterName
                + ", session-timeout: " + DOOMED_SESSION.toSeconds() + " }\n"
                + "target: { name: \"" + TARGET + "\" }\n"
                + "data: " + data + "\n");
        TandemProcess process = TandemProcess.serve("--config", file.toString());
        processes.add(process);
        return process;
    }

    private Member awaitMember(int through, String nodeId) throws InterruptedException {
        Member[] found = new Member[1];
        await(() -> {
            for (Member m : nodes.get(through).coordinator().members()) {
                if (m.nodeId().equals(nodeId) && !m.fenceTargets().isEmpty()) {
                    found[0] = m;
                    return true;
                }
            }
            return false;
        }, "node " + nodeId + " announced with its fence targets");
        return found[0];
    }

    private IscsiSession login(InetSocketAddress portal, String initiator, int isidTail) throws IOException {
        LoginOptions options = LoginOptions.normal(TARGET).initiatorName("iqn.2025-01.io.tandem.it:" + initiator)
                .isid(new byte[]{(byte) 0x80, 0x12, 0x34, 0x56, 0x00, (byte) isidTail});
        IscsiSession s = IscsiSession.login(portal, options);
        s.commandTimeout(Duration.ofSeconds(60));
        sessions.add(s);
        for (int i = 0; i < 10 && !s.execute(ScsiRequest.none(LUN, new byte[6])).isGood(); i++) {
            // the login's unit attentions
        }
        return s;
    }

    /** Executes, retrying answers a host retries (BUSY, unit attentions, ALUA transitioning). */
    private static ScsiResult execute(IscsiSession s, ScsiRequest request) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            ScsiResult r = s.execute(request);
            boolean retriable = r.status() == ScsiResult.BUSY || (r.status() == ScsiResult.CHECK_CONDITION && r.sense() != null
                    && (r.sense().key() == Sense.UNIT_ATTENTION || r.sense().is(Sense.NOT_READY, 0x04, 0x0A)));
            if (!retriable || System.nanoTime() > deadline) {
                return r;
            }
            Thread.sleep(50);
        }
    }

    private static ScsiRequest prOut(int action, int type, long key, long serviceActionKey) {
        byte[] cdb = new byte[10];
        cdb[0] = 0x5F;
        cdb[1] = (byte) action;
        cdb[2] = (byte) type;
        cdb[8] = 24;
        byte[] p = new byte[24];
        for (int i = 0; i < 8; i++) {
            p[i] = (byte) (key >>> (56 - 8 * i));
            p[8 + i] = (byte) (serviceActionKey >>> (56 - 8 * i));
        }
        return ScsiRequest.write(LUN, cdb, p);
    }

    private static byte[] fill(int blocks, byte value) {
        byte[] b = new byte[blocks * BLOCK];
        Arrays.fill(b, value);
        return b;
    }

    /** Blocks whose bytes say which LBA and which write they are. */
    private static byte[] stamp(long lba, int blocks, byte tag) {
        byte[] b = new byte[blocks * BLOCK];
        for (int i = 0; i < blocks; i++) {
            Arrays.fill(b, i * BLOCK, (i + 1) * BLOCK, tag);
            long l = lba + i;
            for (int k = 0; k < 8; k++) {
                b[i * BLOCK + k] = (byte) (l >>> (56 - 8 * k));
            }
        }
        return b;
    }

    private static int countNot(byte[] data, byte value) {
        int n = 0;
        for (byte b : data) {
            if (b != value) {
                n++;
            }
        }
        return n;
    }

    /** The image as {@code rbd export} reads it, directly from the cluster. */
    private byte[] export() throws IOException {
        Path out = dir.resolve("export-" + UUID.randomUUID() + ".img");
        ceph.cli("rbd", "export", "--no-progress", CephCluster.POOL + "/" + image, out.toString());
        byte[] data = Files.readAllBytes(out);
        Files.delete(out);
        return data;
    }

    /** The cluster's blocklist ({@code ceph osd blocklist ls}): one address per entry. */
    private List<String> blocklist() {
        List<String> entries = new ArrayList<>();
        for (String line : ceph.cli("ceph", "osd", "blocklist", "ls").split("\n")) {
            if (!line.isBlank() && !line.startsWith("listed")) {
                entries.add(line.trim().split("\\s+")[0]);
            }
        }
        return entries;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as(what).isTrue();
            Thread.sleep(100);
        }
    }
}
