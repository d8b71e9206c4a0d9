package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import io.tandem.ceph.Rados;
import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coordinator contract ({@link CoordinatorContractTest}) on a real Ceph cluster (one monitor,
 * one memstore OSD, started by scripts/ceph-mini), plus what is the RADOS coordinator's own:
 * fencing by blocklist and the objects it keeps. Each test is a cluster of its own (its own
 * object name prefix). A silent partition is the node's client no longer pinging its watch and the
 * node answering no notification; an outage is the OSD process stopped (SIGSTOP) and resumed.
 */
@ExtendWith(CephClusterExtension.class)
class RadosCoordinatorTest extends CoordinatorContractTest {

    /** Lease of the nodes a test silences: they stop serving after 2.5 s, lapse after 5 s. */
    static final Duration LEASE = Duration.ofSeconds(5);
    /** Lease of the other nodes: a loaded CI machine never leaves them 7.5 s without a ping. */
    static final Duration STEADY_LEASE = Duration.ofSeconds(15);

    static CephCluster ceph;

    private final List<AutoCloseable> closeables = new java.util.concurrent.CopyOnWriteArrayList<>();
    private String cluster;

    @BeforeAll
    static void ceph(CephCluster c) {
        ceph = c;
    }

    @BeforeEach
    void cluster() {
        cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    RadosCoordinator.Settings settings(String id, Duration lease, Duration update) {
        return RadosCoordinator.Settings.of(ceph.conf(), id).withPool(CephCluster.POOL).withCluster(cluster)
                .withTimeouts(lease, update);
    }

    RadosCoordinator start(RadosCoordinator.Settings settings) {
        RadosCoordinator c = RadosCoordinator.start(settings);
        closeables.add(c);
        return c;
    }

    // ---------------------------------------------------------------- the backend

    @Override
    RadosCoordinator node(String id) {
        return start(settings(id, STEADY_LEASE, Duration.ofSeconds(20)));
    }

    @Override
    RadosCoordinator fragileNode(String id) {
        return start(settings(id, LEASE, Duration.ofSeconds(10)));
    }

    @Override
    RadosCoordinator nodeWithUpdateTimeout(String id, Duration updateTimeout) {
        return start(settings(id, LEASE, updateTimeout));
    }

    @Override
    RadosCoordinator startQuickly(String id) {
        return start(settings(id, Duration.ofSeconds(2), Duration.ofSeconds(3)));
    }

    @Override
    Duration fragileSession() {
        return LEASE;
    }

    /** The OSD drops the watch T after the last ping it got, which came at most one ping interval (T/8) before the silence. */
    @Override
    Duration leastExpiryAfterSilence() {
        return LEASE.minus(LEASE.dividedBy(8)).minusMillis(100);
    }

    @Override
    void silence(Coordinator node) {
        ((RadosCoordinator) node).silence(true);
    }

    @Override
    void restore(Coordinator node) {
        ((RadosCoordinator) node).silence(false);
    }

    @Override
    Object session(Coordinator node) {
        return ((RadosCoordinator) node).session();
    }

    @Override
    long versionGaps(Coordinator node) {
        return ((RadosCoordinator) node).versionGaps();
    }

    @Override
    boolean supportsOutage() {
        return true;
    }

    @Override
    void loseRecord(String luId) {
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            io.remove(recordOid(luId));
        }
    }

    @Override
    boolean recordExists(String luId) {
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            io.stat(recordOid(luId));
            return true;
        } catch (CephException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    private String recordOid(String luId) {
        return "tandem." + cluster + ".lu." + java.net.URLEncoder.encode(luId, StandardCharsets.UTF_8);
    }

    @Override
    void outage() throws Exception {
        signalOsds("STOP");
    }

    @Override
    void recover() throws Exception {
        signalOsds("CONT");
    }

    /** Signals every OSD of the test cluster, by the PID its start script recorded (and only if it is still that daemon). */
    private static void signalOsds(String signal) throws Exception {
        try (var files = Files.newDirectoryStream(ceph.dir().resolve("run"), "osd.*.pid")) {
            for (Path f : files) {
                String pid = Files.readString(f).strip();
                String cmdline = Files.readString(Path.of("/proc", pid, "cmdline")).replace('\0', ' ');
                assertThat(cmdline).contains(ceph.conf().toString());
                Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
                assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
                assertThat(kill.exitValue()).isZero();
            }
        }
    }

    // ---------------------------------------------------------------- RADOS's own

    @Test
    void aMemberDeclaredGoneIsBlocklistedBeforeAnyoneGoesOnWithoutIt() throws Exception {
        RadosCoordinator n1 = node("n1");
        RadosCoordinator n2 = fragileNode("n2");
        n1.join(LU, new RecordingWatcher());
        n2.join(LU, new RecordingWatcher());
        // What n2's backends would write through: its own client (an RBD image opened through rados()).
        IoCtx n2Io = n2.rados().ioContext(CephCluster.POOL);
        String oid = "tandem." + cluster + ".data";
        n2Io.writeFull(oid, "before".getBytes(StandardCharsets.UTF_8));
        String fencedAddress = n2.clientAddress();

        silence(n2);
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        assertThat(get(update).version()).isEqualTo(1);

        // The moment n1 went on without n2, n2's client was fenced: its late writes are refused.
        assertThatThrownBy(() -> n2Io.writeFull(oid, "late".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBLOCKLISTED));
        assertThat(n1.membersDeclaredGone()).isEqualTo(1);
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            assertThat(new String(io.read(oid, 0, 64), StandardCharsets.UTF_8)).isEqualTo("before");
            io.remove(oid);
        }
        n2Io.close();

        // n2 comes back with a new client and is a member again.
        restore(n2);
        await("n2 serves again", 15_000, n2::serving);
        assertThat(n2.clientAddress()).isNotEqualTo(fencedAddress);
        await("n2 listed again", 5000, () -> n1.members().stream().anyMatch(m -> m.nodeId().equals("n2")));
        assertThat(get(n2.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(2);
    }

    @Test
    void aCleanlyClosedNodeIsNeitherWaitedForNorFenced() throws Exception {
        RadosCoordinator n1 = node("n1");
        RadosCoordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        n2.join(LU, new RecordingWatcher());
        n2.close();
        long started = System.nanoTime();
        assertThat(get(n1.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
        assertThat(System.nanoTime() - started).isLessThan(Duration.ofSeconds(1).toNanos());
        assertThat(n1.membersDeclaredGone()).isZero();
        assertThat(n1.members()).extracting(Member::nodeId).containsExactly("n1");
    }

    /**
     * A node's notifications (update rounds, probes) go through the same client as its reads of the
     * configuration. The version a read reports must be the configuration object's own: librados'
     * per-context "last version" is overwritten by every notify, and a configuration store that
     * believed the hub's (higher) version ignored every later configuration change that had a lower
     * one — in CI a node missed a LUN added through another node.
     */
    @Test
    void theConfigurationVersionANodeKnowsIsTheObjectsOwnWhileItsNotificationsFly() throws Exception {
        RadosCoordinator n1 = node("n1");
        RadosCoordinator n2 = node("n2");
        RadosConfigStore config = (RadosConfigStore) n1.config();
        get(n2.config().put("cluster-config", "one".getBytes(StandardCharsets.UTF_8), ConfigStore.ABSENT));
        String prefix = "tandem." + cluster + ".";
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            long configVersion = io.readVersioned(prefix + "config", 1).version();
            // The hub's version must end above the configuration's, as in a cluster whose members come and go.
            // A RADOS object's version is its placement group's write counter, and the pool is shared with
            // the other tests, so the gap varies from run to run; every write raises the version by one or more.
            long hubVersion = io.readVersioned(prefix + "members", 1).version();
            long writesAtMost = Math.max(0, configVersion - hubVersion) + 1;
            for (int i = 0; io.readVersioned(prefix + "members", 1).version() <= configVersion; i++) {
                assertThat((long) i).as("registry writes needed to pass the configuration's version (%d -> %d)",
                        hubVersion, configVersion).isLessThan(writesAtMost);
                n2.announce(new Member("n2", List.of(new Member.Portal("127.0.0.1", 3260 + i % 1000)), 1, 1, List.of(1)));
            }
            await("n1 knows the configuration", 5000, () -> config.knownVersion() == configVersion);

            List<String> lus = List.of("lu-a", "lu-b", "lu-c");
            for (String lu : lus) {
                n1.join(lu, new RecordingWatcher());
                n2.join(lu, new RecordingWatcher());
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<CompletableFuture<Void>> updaters = new ArrayList<>();
            for (String lu : lus) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                updaters.add(done);
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        while (!stop.get()) {
                            // two notify rounds each, through n1's client
                            n1.update(lu, LuState::nextPrGeneration).get(30, TimeUnit.SECONDS);
                        }
                        done.complete(null);
                    } catch (Exception e) {
                        done.completeExceptionally(e);
                    }
                });
            }
            int reads = 0;
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(6).toNanos();
                while (System.nanoTime() < deadline) {
                    config.refresh();
                    reads++;
                    assertThat(config.knownVersion()).as("configuration version n1 believes after %d reads", reads)
                            .isEqualTo(configVersion);
                }
            } finally {
                stop.set(true);
                for (CompletableFuture<Void> u : updaters) {
                    u.get(30, TimeUnit.SECONDS);
                }
            }
            assertThat(reads).isGreaterThan(100);
        }
        // And a later change through another node still reaches it.
        get(n2.config().put("cluster-config", "two".getBytes(StandardCharsets.UTF_8), ConfigStore.ANY));
        await("n1 hears of the change", 5000, () -> n1.config().get("cluster-config")
                .map(e -> new String(e.value(), StandardCharsets.UTF_8).equals("two")).orElse(false));
    }

    /**
     * A node that died holding the join lock (the lock names a lease nobody holds) does not keep
     * the cluster from starting: the next node fences the dead holder's client and breaks the lock.
     */
    @Test
    void aJoinLockLeftByADeadNodeIsBrokenAndNoLockOutlivesAJoin() throws Exception {
        String lock = "tandem." + cluster + ".join";
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            io.writeFull(lock, "tandem-join 1\nn9 1 1 127.0.0.1%3A0%2F1\n".getBytes(StandardCharsets.UTF_8));
            long started = System.nanoTime();
            RadosCoordinator n1 = node("n1");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            assertThat(n1.serving()).isTrue();
            assertThatThrownBy(() -> io.stat(lock)).as("the join lock after a start")
                    .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
            node("n2");
            assertThatThrownBy(() -> io.stat(lock)).as("the join lock after a second start")
                    .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        }
    }

    @Test
    void theStateLivesInThreeKindsOfRadosObjects() throws Exception {
        RadosCoordinator n1 = node("n1");
        n1.announce(new Member("n1", List.of(new Member.Portal("127.0.0.1", 3260)), 1, 1, List.of(1)));
        n1.join(LU, new RecordingWatcher());
        get(n1.update(LU, s -> s.withRegistration(new Registration(A, 0x1122)).nextPrGeneration()));
        get(n1.config().put("cluster-config", "target: {}".getBytes(StandardCharsets.UTF_8), ConfigStore.ABSENT));

        String prefix = "tandem." + cluster + ".";
        try (Rados admin = ceph.connect(); IoCtx io = admin.ioContext(CephCluster.POOL)) {
            String registry = new String(io.read(prefix + "members", 0, 65536), StandardCharsets.UTF_8);
            String instance = n1.session().substring(0, n1.session().indexOf('/'));
            assertThat(registry).startsWith("tandem-members 1\nmember n1 " + instance + " ");
            assertThat(registry).contains(java.net.URLEncoder.encode(n1.clientAddress(), StandardCharsets.UTF_8));
            String record = new String(io.read(prefix + "lu." + LU, 0, 65536), StandardCharsets.UTF_8);
            assertThat(record).startsWith("tandem-lu-record 1\nlu " + LU + "\nversion 1\ngeneration 1\n")
                    .contains("registration 0000000000001122 1 ").contains("change n1%2F");
            assertThat(RadosConfigStore.parse(io.read(prefix + "config", 0, 65536)))
                    .containsOnlyKeys("cluster-config");
        }
        assertThat(RadosConfigStore.parse(RadosConfigStore.render(Map.of("k", new ConfigEntry("k", 3, new byte[] {0, 1, 2})))))
                .containsEntry("k", new ConfigEntry("k", 3, new byte[] {0, 1, 2}));
    }
}
