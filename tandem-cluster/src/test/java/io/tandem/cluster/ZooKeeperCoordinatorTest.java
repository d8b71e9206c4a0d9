package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The coordinator contract ({@link CoordinatorContractTest}) on one real ZooKeeper server
 * in-process, plus what is ZooKeeper's own. Fragile nodes reach the server through a
 * {@link FreezableProxy} each, so a partition leaves the server running and it expires the
 * partitioned node's session exactly as it would in production.
 */
class ZooKeeperCoordinatorTest extends CoordinatorContractTest {

    /**
     * Session timeout of the coordinators a test partitions (short: the tests wait for expiries).
     * The server's tick of 500 ms allows 1..10 s.
     */
    static final Duration SESSION = Duration.ofMillis(3000);
    /** Session timeout of the other coordinators: long enough that a loaded CI machine never suspends them. */
    static final Duration STEADY_SESSION = Duration.ofMillis(8000);
    static final int TICK_MS = 500;

    static TestingServer server;

    private final List<AutoCloseable> closeables = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<Coordinator, FreezableProxy> proxies = new IdentityHashMap<>();
    private String root;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, TICK_MS, -1), true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void root(TestInfo info) {
        root = "/tandem-test/" + info.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    // ---------------------------------------------------------------- the backend

    @Override
    ZooKeeperCoordinator node(String id) {
        return node(id, server.getConnectString(), STEADY_SESSION, Duration.ofSeconds(20));
    }

    @Override
    ZooKeeperCoordinator fragileNode(String id) {
        try {
            FreezableProxy link = new FreezableProxy(server.getPort());
            closeables.add(link);
            ZooKeeperCoordinator c = node(id, link.connectString(), SESSION, Duration.ofSeconds(10));
            proxies.put(c, link);
            return c;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    ZooKeeperCoordinator nodeWithUpdateTimeout(String id, Duration updateTimeout) {
        return node(id, server.getConnectString(), SESSION, updateTimeout);
    }

    @Override
    ZooKeeperCoordinator startQuickly(String id) {
        ZooKeeperCoordinator c = ZooKeeperCoordinator.start(new ZooKeeperCoordinator.Settings(server.getConnectString(), root,
                id, Duration.ofMillis(1000), Duration.ofMillis(500), Duration.ofMillis(2000)));
        closeables.add(c);
        return c;
    }

    ZooKeeperCoordinator node(String id, String connectString, Duration session, Duration updateTimeout) {
        ZooKeeperCoordinator c = ZooKeeperCoordinator.start(new ZooKeeperCoordinator.Settings(connectString, root, id, session,
                Duration.ofMillis(1000), updateTimeout));
        closeables.add(c);
        return c;
    }

    @Override
    Duration fragileSession() {
        return SESSION;
    }

    @Override
    Duration leastExpiryAfterSilence() {
        return SESSION.multipliedBy(9).dividedBy(10);
    }

    @Override
    void silence(Coordinator node) {
        proxies.get(node).freeze();
    }

    @Override
    void restore(Coordinator node) {
        proxies.get(node).thaw();
    }

    /** The connection drops: Curator reports SUSPENDED at once. */
    @Override
    void interrupt(Coordinator node) {
        proxies.get(node).freeze();
        proxies.get(node).cut();
    }

    @Override
    Object session(Coordinator node) {
        return ((ZooKeeperCoordinator) node).session();
    }

    @Override
    long versionGaps(Coordinator node) {
        return ((ZooKeeperCoordinator) node).versionGaps();
    }

    @Override
    boolean supportsOutage() {
        return true;
    }

    @Override
    void outage() throws Exception {
        server.stop();
    }

    @Override
    void recover() throws Exception {
        server.restart();
    }

    @Override
    void loseRecord(String luId) throws Exception {
        try (CuratorFramework admin = admin()) {
            admin.delete().deletingChildrenIfNeeded().forPath(root + "/lus/" + luId);
        }
    }

    @Override
    boolean recordExists(String luId) throws Exception {
        try (CuratorFramework admin = admin()) {
            return exists(admin, root + "/lus/" + luId);
        }
    }

    /** A client of the test's server, as an administrator's (started, connected). */
    private CuratorFramework admin() throws InterruptedException {
        CuratorFramework admin = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        admin.start();
        assertThat(admin.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
        return admin;
    }

    // ---------------------------------------------------------------- ZooKeeper's own

    @Test
    void aCompareAndSetWhoseReplyIsLostCountsAsStoredAndTheChangeIsNotMadeTwice() throws Exception {
        ZooKeeperCoordinator n1 = node("n1");
        RecordingWatcher w1 = new RecordingWatcher();
        n1.join(LU, w1);
        ZooKeeperCoordinator n2 = fragileNode("n2");
        FreezableProxy link = proxies.get(n2);
        n2.join(LU, new RecordingWatcher());
        AtomicInteger computed = new AtomicInteger();
        CompletableFuture<LuState> update = n2.update(LU, s -> {
            if (computed.incrementAndGet() == 1) {
                link.freezeReplies(); // the setData that follows lands, its reply does not come back
            }
            return s.nextPrGeneration();
        });
        await("n2 suspended", 5000, () -> !n2.serving());
        assertThat(w1.awaitVersion(1, 5000)).isTrue(); // the write did land
        link.thaw();
        LuState stored = get(update);
        assertThat(stored.version()).isEqualTo(1);
        assertThat(stored.prGeneration()).isEqualTo(1);
        assertThat(computed).hasValue(1);
        await("n2 serves again", 5000, n2::serving);
        assertThat(n1.cached(LU).prGeneration()).isEqualTo(1);
    }

    /**
     * An LU record that vanishes (the ensemble lost its data; here the cluster's subtree is deleted)
     * is not recreated by a node that rejoins after losing its session: recreated empty it would be
     * unreadable and block every later join, recreated from scratch it would silently drop the LU's
     * reservations. The rejoining node stays unserving; a node joining the LU afresh starts it anew.
     */
    @Test
    void aRecordLostWithTheEnsemblesDataIsNotRecreatedByARejoiningNode() throws Exception {
        ZooKeeperCoordinator n2 = fragileNode("n2");
        n2.join(LU, new RecordingWatcher());
        assertThat(get(n2.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
        long before = n2.session();
        String record = root + "/lus/" + LU;
        try (CuratorFramework admin = admin()) {
            assertThat(exists(admin, record)).isTrue();

            silence(n2);
            admin.delete().deletingChildrenIfNeeded().forPath(root);
            Thread.sleep(SESSION.multipliedBy(2).plusSeconds(1).toMillis()); // n2's session expires meanwhile
            restore(n2);
            await("n2 rejoined with a new session", 20_000,
                    () -> n2.session() != before && exists(admin, root + "/members/n2"));
            Thread.sleep(2000); // its resynchronisation tries the LU meanwhile
            assertThat(exists(admin, record)).as("the lost record is recreated").isFalse();
            assertThat(n2.serving()).isFalse();

            // a node joining the LU afresh (a restarted node) starts it with a new, readable record
            ZooKeeperCoordinator n3 = node("n3");
            assertThat(n3.join(LU, new RecordingWatcher()).version()).isZero();
            assertThat(exists(admin, record)).isTrue();
        }
    }

    private static boolean exists(CuratorFramework client, String path) {
        try {
            return client.checkExists().forPath(path) != null;
        } catch (Exception e) {
            throw new IllegalStateException("checkExists " + path, e);
        }
    }
}
