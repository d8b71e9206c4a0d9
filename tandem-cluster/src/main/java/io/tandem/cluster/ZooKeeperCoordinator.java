package io.tandem.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The cluster coordinator on Apache ZooKeeper (through Curator). ZooKeeper is the store: the whole
 * record of every LU lives in one znode, so nothing is written locally and APTPL is inherent.
 *
 * <h2>Znodes (under {@link Settings#root()})</h2>
 * <pre>
 * members/&lt;node&gt;              ephemeral   {@link Member} text: who is live and what it publishes
 * lus/&lt;lu&gt;                   persistent  the LU's record ({@link LuRecordCodec}); the znode version is the CAS token
 * lus/&lt;lu&gt;/applied/&lt;node&gt;    ephemeral   decimal: the record version this node has applied (-1 while joining)
 * left/&lt;node&gt;               persistent  hex session id of the node's last clean close (that session needs no fence)
 * config/&lt;key&gt;               persistent  cluster-wide configuration bytes ({@link ConfigStore})
 * locks/join                  lock        held while a node joins: the first of an empty cluster powers the LUs on
 * </pre>
 *
 * <h2>A change ({@link #update})</h2>
 * Read the record; wait until every member that joined the LU has applied the version read (so no
 * member can ever be handed two versions at once: <em>no version is skipped</em>, and a version's
 * notices reach every live member); compute the next record; {@code setData} with the znode version
 * read (the compare-and-set; recompute on a lost race); then wait until every applied znode reads
 * the new version. A member stops being waited for only when its applied znode is gone: it left
 * the LU, or its ZooKeeper session expired. Both waits are bounded by {@link Settings#updateTimeout()}.
 *
 * <h2>Following ({@link LuStateWatcher})</h2>
 * One follower per joined LU reads the record with a watch, hands each new version to the node's
 * watcher in order, and then writes the version to its applied znode.
 *
 * <h2>Session and self-fencing</h2>
 * {@link #serving()} turns false the moment Curator reports SUSPENDED (the client has heard nothing
 * from its server for two thirds of the negotiated session timeout, or the connection broke) or
 * LOST, and true again only after a resync: after RECONNECTED with the same session, every follower
 * re-reads its record and applies what it missed; with a new session (the old one expired: LOST),
 * the node first re-creates its member and applied znodes, then reloads every record (the watcher
 * is then told of a jump over the versions it missed). See docs/architecture.md for the timing
 * argument.
 */
public final class ZooKeeperCoordinator implements Coordinator {

    private static final System.Logger LOG = System.getLogger(ZooKeeperCoordinator.class.getName());
    /** How long a leaving node waits for ZooKeeper to take its leave writes (applied znodes, clean-leave marker). */
    private static final Duration LEAVE_BOUND = Duration.ofSeconds(2);
    private static final byte[] JOINING = "-1".getBytes(StandardCharsets.US_ASCII);

    /**
     * How to reach the ensemble and the timing of the lease.
     *
     * @param connectString     ZooKeeper connect string ({@code host:port,host:port,...})
     * @param root              the cluster's root znode ({@code /tandem/<cluster>}); every node of
     *                          one cluster uses the same
     * @param nodeId            this node's id (see {@link Member#nodeId()})
     * @param sessionTimeout    asked of the ensemble (servers clamp it to 2..20 ticks by default)
     * @param connectionTimeout how long one ZooKeeper operation waits for a connection before it
     *                          counts as failed (Curator then retries a few times with backoff)
     * @param updateTimeout     bound of each of an update's two waits; longer than the session
     *                          timeout, so a dead member has expired before an update gives up
     */
    public record Settings(String connectString, String root, String nodeId, Duration sessionTimeout,
                           Duration connectionTimeout, Duration updateTimeout) {

        public static final String DEFAULT_ROOT = "/tandem";
        public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);
        public static final Duration DEFAULT_UPDATE_TIMEOUT = Duration.ofSeconds(30);

        public Settings {
            Objects.requireNonNull(connectString, "connectString");
            Member.bare(nodeId); // validates the id
            if (!root.startsWith("/") || (root.length() > 1 && root.endsWith("/"))) {
                throw new IllegalArgumentException("root is an absolute znode path without trailing '/': " + root);
            }
            if (sessionTimeout.toMillis() < 1000 || connectionTimeout.toMillis() < 100) {
                throw new IllegalArgumentException("session timeout >= 1 s and connection timeout >= 100 ms");
            }
            if (updateTimeout.compareTo(sessionTimeout) <= 0) {
                throw new IllegalArgumentException("the update timeout (" + updateTimeout
                        + ") must exceed the session timeout (" + sessionTimeout + ")");
            }
        }

        /** Defaults: root {@value #DEFAULT_ROOT}, session 10 s, connection 5 s, update 30 s. */
        public static Settings of(String connectString, String nodeId) {
            return new Settings(connectString, DEFAULT_ROOT, nodeId, DEFAULT_SESSION_TIMEOUT, DEFAULT_CONNECTION_TIMEOUT,
                    DEFAULT_UPDATE_TIMEOUT);
        }

        public Settings withRoot(String r) {
            return new Settings(connectString, r, nodeId, sessionTimeout, connectionTimeout, updateTimeout);
        }

        public Settings withTimeouts(Duration session, Duration connection, Duration update) {
            return new Settings(connectString, root, nodeId, session, connection, update);
        }
    }

    private final Settings settings;
    private final CuratorFramework client;
    private final String membersPath;
    private final String lusPath;
    private final String memberPath;
    private final String joinLockPath;

    private final Map<String, Follower> followers = new ConcurrentHashMap<>();
    /** Serialises joins, leaves and rejoins (the creation of this node's ephemeral znodes). */
    private final Object membershipLock = new Object();
    /** Session under which this node's ephemeral znodes exist; 0 before the first. Guarded by membershipLock. */
    private long ownSession;
    /** Sessions of this process whose ephemerals may still linger until the ensemble expires them. */
    private final List<Long> pastSessions = new CopyOnWriteArrayList<>();

    private volatile boolean closed;
    /** Set once {@link #initialize} ran: connection events before that are the initial connection. */
    private volatile boolean initialized;
    /** Whether this process has joined before: a rejoin after a session loss is not a power on. */
    private boolean joinedOnce;
    /** +1 per connection state change: a resync started before the latest change must not declare serving. */
    private final AtomicLong connectionEpoch = new AtomicLong();
    private final AtomicLong versionGaps = new AtomicLong();
    private final AtomicLong changeCounter = new AtomicLong();

    private volatile Member announced;
    private volatile List<Member> members = List.of();
    private final CopyOnWriteArrayList<MembershipListener> membershipListeners = new CopyOnWriteArrayList<>();

    /** {@code left/<node>}: the session in which that node last closed cleanly (its incarnation needs no fence). */
    private final String leftPath;
    private volatile Fencer fencer = Fencer.NONE;
    /** The other members as last seen in the member cache, with the session owning each one's znode. */
    private final Map<String, Incarnation> known = new ConcurrentHashMap<>();
    /** Incarnations ({@code node@session}) this node has fenced. */
    private final Set<String> fenced = ConcurrentHashMap.newKeySet();
    /** Lost incarnations (by key) whose fence failed so far: still listed as members, still waited for. */
    private final Map<String, Incarnation> lostUnfenced = new ConcurrentHashMap<>();
    /** Serialises {@link #membersChanged} between the events thread and the fence retry. */
    private final Object membersViewLock = new Object();
    private final AtomicBoolean fenceRetryScheduled = new AtomicBoolean();

    /** A member znode: its record and the session that owns it. */
    private record Incarnation(Member member, long session) {
        String key() {
            return member.nodeId() + "@" + Long.toHexString(session);
        }
    }

    /** Resyncs after connection changes, one at a time. */
    private final ExecutorService sessionExecutor;
    /** Calls the listeners of this SPI, one call at a time, in order. */
    private final ExecutorService events;
    private final ServingSignal servingSignal;
    private final CuratorCache membersCache;
    private final ZooKeeperConfigStore config;

    private ZooKeeperCoordinator(Settings settings, CuratorFramework client) {
        this.settings = settings;
        this.client = client;
        String root = settings.root().equals("/") ? "" : settings.root();
        this.membersPath = root + "/members";
        this.lusPath = root + "/lus";
        this.memberPath = membersPath + "/" + settings.nodeId();
        this.leftPath = root + "/left";
        this.joinLockPath = root + "/locks/join";
        this.announced = Member.bare(settings.nodeId());
        this.sessionExecutor = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tandem-zk-session-" + settings.nodeId()).factory());
        this.events = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tandem-zk-events-" + settings.nodeId()).factory());
        this.servingSignal = new ServingSignal(settings.nodeId(), events);
        this.membersCache = CuratorCache.build(client, membersPath);
        this.config = new ZooKeeperConfigStore(client, root + "/config", events);
    }

    /**
     * Connects to the ensemble, becomes a member and starts serving. When a previous incarnation of
     * this node id still has a live session (a crash a moment ago), waits for the ensemble to expire
     * it first, so the cluster never sees two members with one id.
     *
     * @throws CoordinatorException when the ensemble cannot be reached within the connection timeout
     *                              (times three), or the node id stays in use by another live session
     */
    public static ZooKeeperCoordinator start(Settings settings) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(settings.connectString())
                .sessionTimeoutMs((int) settings.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) settings.connectionTimeout().toMillis())
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 1000, 3))
                // The ensemble's own view of its members must not replace the configured connect
                // string (it would, e.g., bypass a proxy or a NAT address the node was given).
                .ensembleTracker(false)
                .threadFactory(Thread.ofPlatform().daemon().name("tandem-zk-curator-" + settings.nodeId(), 0).factory())
                .build();
        ZooKeeperCoordinator c = new ZooKeeperCoordinator(settings, client);
        try {
            client.getConnectionStateListenable().addListener((cl, state) -> c.connectionStateChanged(state));
            client.start();
            if (!client.blockUntilConnected((int) settings.connectionTimeout().toMillis() * 3, TimeUnit.MILLISECONDS)) {
                throw new CoordinatorException("cannot reach ZooKeeper at " + settings.connectString());
            }
            c.sessionExecutor.submit(() -> {
                c.initialize();
                return null;
            }).get();
            // Curator reports the first CONNECTED asynchronously; if it arrived while joining, the
            // join left serving to the resynchronisation it queued: let that run before returning.
            try {
                c.sessionExecutor.submit(() -> null).get(settings.connectionTimeout().toMillis() * 3, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException stillResynchronising) {
                // serving follows when it is done; updates meanwhile fail as "not serving"
            }
            return c;
        } catch (ExecutionException e) {
            c.close();
            throw e.getCause() instanceof CoordinatorException ce ? ce
                    : new CoordinatorException("cannot start the ZooKeeper coordinator: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new CoordinatorException("interrupted while starting the ZooKeeper coordinator", e);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** On the session executor: base znodes, membership, caches, then serving. */
    private void initialize() throws Exception {
        long epoch = connectionEpoch.get();
        for (String p : List.of(membersPath, lusPath, config.path())) {
            try {
                client.create().creatingParentsIfNeeded().forPath(p);
            } catch (KeeperException.NodeExistsException e) {
                // another node made it
            }
        }
        awaitPreviousIncarnation();
        boolean firstJoin = !joinedOnce;
        joinedOnce = true;
        // Joining and judging "was anybody live?" happen under one lock, so of nodes starting at
        // once exactly the first finds the cluster empty.
        InterProcessMutex joinLock = new InterProcessMutex(client, joinLockPath);
        if (!joinLock.acquire(settings.connectionTimeout().toMillis() * 3, TimeUnit.MILLISECONDS)) {
            throw new CoordinatorException("ZooKeeper at " + settings.connectString() + ": the join lock was not granted in time");
        }
        try {
            if (firstJoin && client.getChildren().forPath(membersPath).stream().noneMatch(m -> !m.equals(settings.nodeId()))) {
                powerOn();
            }
            synchronized (membershipLock) {
                ownSession = sessionId();
                ensureEphemeral(memberPath, announced.render().getBytes(StandardCharsets.UTF_8), true);
            }
        } finally {
            joinLock.release();
        }
        CountDownLatch loaded = new CountDownLatch(2);
        membersCache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, old, data) -> membersChanged())
                .forInitialized(loaded::countDown)
                .build(), events);
        membersCache.start();
        config.start(loaded::countDown);
        if (!loaded.await(settings.connectionTimeout().toMillis() * 3, TimeUnit.MILLISECONDS)) {
            throw new CoordinatorException("ZooKeeper at " + settings.connectString() + " did not deliver the member list and configuration in time");
        }
        events.submit(this::membersChanged).get(); // on the thread every later change uses
        initialized = true;
        LOG.log(System.Logger.Level.INFO, "node {0} joined the cluster at {1}{2} (session 0x{3}, negotiated session timeout {4} ms)",
                settings.nodeId(), settings.connectString(), settings.root(), Long.toHexString(sessionId()),
                client.getZookeeperClient().getLastNegotiatedSessionTimeoutMs());
        if (connectionEpoch.get() == epoch && client.getZookeeperClient().isConnected()) {
            setServing(true);
        }
    }

    /**
     * The first node of a cluster in which no node was live starts the SCSI target device anew: a
     * power on for SPC-4. Every LU's record keeps what survives a power loss
     * ({@link LuState#afterPowerLoss()}: registrations and reservation only under APTPL), as one
     * ordinary version change nobody else needs to apply (nobody is live).
     */
    private void powerOn() throws Exception {
        List<String> lus;
        try {
            lus = client.getChildren().forPath(lusPath);
        } catch (KeeperException.NoNodeException e) {
            return;
        }
        for (String child : lus) {
            String path = lusPath + "/" + child;
            String luId = URLDecoder.decode(child, StandardCharsets.UTF_8);
            Stat stat = new Stat();
            LuState stored = LuRecordCodec.parse(luId, client.getData().storingStatIn(stat).forPath(path)).state();
            LuState after = stored.afterPowerLoss();
            if (!after.sameContent(stored)) {
                client.setData().withVersion(stat.getVersion())
                        .forPath(path, LuRecordCodec.render(after.withVersion(stored.version() + 1), nodeId() + "/power-on"));
                LOG.log(System.Logger.Level.INFO, "node {0}: first node of the cluster: LU {1} powered on ({2})", nodeId(), luId,
                        stored.aptpl() ? "APTPL: registrations and reservation kept" : "registrations and reservation cleared");
            }
        }
    }

    /** A member znode with this id owned by another session: a previous incarnation, or a duplicate id. */
    private void awaitPreviousIncarnation() throws Exception {
        long deadline = System.nanoTime() + settings.sessionTimeout().toNanos() * 2 + settings.connectionTimeout().toNanos();
        while (true) {
            Stat stat = client.checkExists().forPath(memberPath);
            if (stat == null || stat.getEphemeralOwner() == sessionId()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CoordinatorException("node id " + settings.nodeId() + " is in use by another live ZooKeeper session (0x"
                        + Long.toHexString(stat.getEphemeralOwner()) + "): is another node configured with the same id?");
            }
            LOG.log(System.Logger.Level.INFO, "node {0}: waiting for the session of a previous incarnation (0x{1}) to expire",
                    settings.nodeId(), Long.toHexString(stat.getEphemeralOwner()));
            Thread.sleep(250);
        }
    }

    // ---------------------------------------------------------------- records

    @Override
    public String nodeId() {
        return settings.nodeId();
    }

    @Override
    public LuState join(String luId, LuStateWatcher watcher) {
        checkOpen();
        Objects.requireNonNull(watcher, "watcher");
        synchronized (membershipLock) {
            if (followers.containsKey(luId)) {
                throw new IllegalStateException("LU " + luId + " joined twice");
            }
            Follower f = new Follower(luId, watcher);
            try {
                try {
                    client.create().creatingParentsIfNeeded().forPath(f.recordPath, LuRecordCodec.render(LuState.initial(luId), ""));
                } catch (KeeperException.NodeExistsException e) {
                    // the LU is known to the cluster already
                }
                try {
                    client.create().forPath(f.appliedDir);
                } catch (KeeperException.NodeExistsException e) {
                    // another member made it
                }
                // The marker first, then the read: an updater that does not see the marker yet
                // changed the record before the marker existed, so the read below sees its change.
                ensureApplied(f);
                Stat stat = new Stat();
                LuRecordCodec.Stored stored = LuRecordCodec.parse(luId, client.getData().storingStatIn(stat).usingWatcher(f).forPath(f.recordPath));
                f.applied = stored.state();
                f.remember(stored);
                client.setData().forPath(f.appliedNode, Long.toString(stored.state().version()).getBytes(StandardCharsets.US_ASCII));
                f.publishedInSession = sessionId();
                followers.put(luId, f);
                f.start();
                return stored.state();
            } catch (CoordinatorException e) {
                throw e;
            } catch (Exception e) {
                bestEffortDelete(f.appliedNode);
                throw zkFailure("joining LU " + luId, e);
            }
        }
    }

    @Override
    public LuState cached(String luId) {
        Follower f = followers.get(luId);
        if (f == null) {
            throw new IllegalStateException("LU " + luId + " has not joined this coordinator");
        }
        return f.applied;
    }

    @Override
    public CompletableFuture<LuState> update(String luId, UnaryOperator<LuState> change) {
        Follower f = followers.get(luId);
        if (closed) {
            return CompletableFuture.failedFuture(new CoordinatorException("coordinator closed"));
        }
        if (f == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("LU " + luId + " has not joined this coordinator"));
        }
        if (!servingSignal.serving()) {
            return CompletableFuture.failedFuture(new CoordinatorException("node " + nodeId()
                    + " is not serving: its ZooKeeper session is in doubt or being resynchronised"));
        }
        CompletableFuture<LuState> result = new CompletableFuture<>();
        Thread.ofVirtual().name("tandem-zk-update-" + luId).start(() -> {
            try {
                result.complete(change(f, change));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private LuState change(Follower f, UnaryOperator<LuState> change) throws InterruptedException {
        long deadline = System.nanoTime() + settings.updateTimeout().toNanos();
        String changeId = nodeId() + "/" + changeCounter.incrementAndGet();
        long firstVersionSeen = -1;
        while (true) {
            Stat stat = new Stat();
            LuRecordCodec.Stored stored;
            try {
                stored = LuRecordCodec.parse(f.luId, client.getData().storingStatIn(stat).forPath(f.recordPath));
            } catch (KeeperException.NoNodeException e) {
                throw f.recordGone(e); // never recreated here: see ensureApplied
            } catch (Exception e) {
                throw zkFailure("reading LU " + f.luId, e);
            }
            LuState current = stored.state();
            if (firstVersionSeen < 0) {
                firstVersionSeen = current.version();
            } else if (f.landed(stored, firstVersionSeen, changeId)) {
                // A write reported lost (connection loss, then a read from a server that had not yet
                // committed it) did land: running the change again would apply it twice.
                awaitApplied(f, current.version(), deadline, true);
                return current;
            }
            // No member may be handed two versions at once: the next one waits for this one everywhere.
            awaitApplied(f, current.version(), deadline, false);
            LuState next = f.nextState(current, change);
            if (next == null) {
                return current;
            }
            switch (compareAndSet(f, stat.getVersion(), next, changeId)) {
                case STORED -> {
                    awaitApplied(f, next.version(), deadline, true);
                    return next;
                }
                case LOST_RACE -> {
                    if (System.nanoTime() > deadline) {
                        throw new CoordinatorTimeoutException("LU " + f.luId + ": no compare-and-set succeeded within " + settings.updateTimeout());
                    }
                }
            }
        }
    }

    private enum CasOutcome { STORED, LOST_RACE }

    /**
     * The compare-and-set, without Curator's retries: a retried {@code setData} whose first attempt
     * did land would fail on the version and make the change run twice. After a connection loss the
     * outcome is found out from the record's change id instead.
     */
    private CasOutcome compareAndSet(Follower f, int znodeVersion, LuState next, String changeId) {
        byte[] data = LuRecordCodec.render(next, changeId);
        try {
            ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
            zk.setData(f.recordPath, data, znodeVersion);
            return CasOutcome.STORED;
        } catch (KeeperException.BadVersionException e) {
            return CasOutcome.LOST_RACE;
        } catch (KeeperException.ConnectionLossException e) {
            return outcomeAfterConnectionLoss(f, next.version(), changeId);
        } catch (Exception e) {
            throw zkFailure("storing version " + next.version() + " of LU " + f.luId, e);
        }
    }

    private CasOutcome outcomeAfterConnectionLoss(Follower f, long version, String changeId) {
        try {
            // The server answering now may not have committed a write the lost connection carried:
            // sync first so it has caught up with the leader before we read.
            client.sync().forPath(f.recordPath);
            LuRecordCodec.Stored now = LuRecordCodec.parse(f.luId, client.getData().forPath(f.recordPath));
            if (now.state().version() < version) {
                return CasOutcome.LOST_RACE; // nothing landed: a plain retry
            }
            if (now.state().version() == version) {
                return changeId.equals(now.changeId()) ? CasOutcome.STORED : CasOutcome.LOST_RACE;
            }
            // Further versions need this node to have applied `version` first (no skipping), so its
            // follower has seen which change made it, unless this node's session expired meanwhile.
            String made = f.changeIdOf(version);
            if (made == null) {
                throw new CoordinatorException("LU " + f.luId + ": the outcome of version " + version
                        + " is unknown (connection lost while storing it, and the session was renewed)");
            }
            return changeId.equals(made) ? CasOutcome.STORED : CasOutcome.LOST_RACE;
        } catch (CoordinatorException e) {
            throw e;
        } catch (Exception e) {
            throw zkFailure("finding out whether version " + version + " of LU " + f.luId + " was stored", e);
        }
    }

    /**
     * Waits until every applied znode of the LU reads at least {@code version}; a znode that
     * disappears (its member left the LU or its session expired) is no longer waited for.
     */
    private void awaitApplied(Follower f, long version, long deadline, boolean stored) throws InterruptedException {
        Semaphore changed = new Semaphore(0);
        Watcher wake = event -> changed.release();
        while (true) {
            List<String> behind = new ArrayList<>();
            try {
                List<String> children = client.getChildren().usingWatcher(wake).forPath(f.appliedDir);
                behind.addAll(lostAndUnfenced(children));
                for (String node : children) {
                    try {
                        byte[] d = client.getData().usingWatcher(wake).forPath(f.appliedDir + "/" + node);
                        long v = Long.parseLong(new String(d, StandardCharsets.US_ASCII).trim());
                        if (v < version) {
                            behind.add(node + (v < 0 ? " (joining)" : " (at " + v + ")"));
                        }
                    } catch (KeeperException.NoNodeException e) {
                        // gone: no longer a member of this LU
                    }
                }
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw zkFailure("waiting for version " + version + " of LU " + f.luId, e);
                }
                LOG.log(System.Logger.Level.DEBUG, "LU {0}: reading applied versions failed, retrying: {1}", f.luId, e.toString());
                changed.tryAcquire(100, TimeUnit.MILLISECONDS);
                continue;
            }
            if (behind.isEmpty()) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new CoordinatorTimeoutException("LU " + f.luId + ": version " + version
                        + (stored ? " is stored but was not applied within " : " (the current one) was not applied within ")
                        + settings.updateTimeout() + " by " + behind
                        + " (a member is waited for until it applies or its ZooKeeper session expires)"
                        + (stored ? "" : "; nothing was changed"));
            }
            // Watches wake us; the periodic re-read covers watches lost across a reconnection.
            changed.tryAcquire(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
            changed.drainPermits();
        }
    }

    /**
     * Members that the cache knows with fence targets, that have no applied znode here, and whose
     * member znode is gone (or owned by a newer session): lost. Each is fenced now; those that
     * cannot be fenced are returned, so the update keeps waiting for them. The member znode is read
     * from ZooKeeper itself, since the cache may not have heard of the expiry yet.
     */
    private List<String> lostAndUnfenced(List<String> appliedChildren) throws Exception {
        List<String> unfenced = new ArrayList<>();
        for (Incarnation inc : lostUnfenced.values()) {
            if (!fence(inc)) {
                unfenced.add(inc.member().nodeId() + " (lost, not fenced yet)");
            }
        }
        for (Incarnation inc : known.values()) {
            if (inc.member().fenceTargets().isEmpty() || fenced.contains(inc.key()) || appliedChildren.contains(inc.member().nodeId())) {
                continue;
            }
            Stat stat = client.checkExists().forPath(membersPath + "/" + inc.member().nodeId());
            if (stat != null && stat.getEphemeralOwner() == inc.session()) {
                continue; // live, just not a member of this LU
            }
            if (!fence(inc)) {
                unfenced.add(inc.member().nodeId() + " (lost, not fenced yet)");
            }
        }
        return unfenced;
    }

    /** Fences a lost incarnation once; false (logged) when the fencer failed. */
    private boolean fence(Incarnation inc) {
        if (inc.member().fenceTargets().isEmpty() || fenced.contains(inc.key())) {
            return true;
        }
        synchronized (fenced) {
            if (fenced.contains(inc.key())) {
                return true;
            }
            if (leftCleanly(inc)) {
                fenced.add(inc.key());
                return true;
            }
            long start = System.nanoTime();
            try {
                fencer.fence(inc.member());
            } catch (Exception | Error e) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: node {1} is lost (session 0x{2} gone) but fencing {3} failed: {4};"
                        + " the cluster does not go on without it until it is fenced", nodeId(), inc.member().nodeId(),
                        Long.toHexString(inc.session()), inc.member().fenceTargets(), e.toString());
                return false;
            }
            fenced.add(inc.key());
            LOG.log(System.Logger.Level.WARNING, "node {0}: node {1} is lost (session 0x{2} gone): fenced {3} in {4} ms", nodeId(),
                    inc.member().nodeId(), Long.toHexString(inc.session()), inc.member().fenceTargets(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            return true;
        }
    }

    /** Whether the incarnation closed cleanly (its marker names its session); unknown counts as no. */
    private boolean leftCleanly(Incarnation inc) {
        try {
            byte[] d = client.getData().forPath(leftPath + "/" + inc.member().nodeId());
            return new String(d, StandardCharsets.US_ASCII).equals(Long.toHexString(inc.session()));
        } catch (KeeperException.NoNodeException e) {
            return false;
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "reading the clean-leave marker of {0}: {1}", inc.member().nodeId(), e.toString());
            return false;
        }
    }

    @Override
    public void setFencer(Fencer fencer) {
        this.fencer = Objects.requireNonNull(fencer);
    }

    @Override
    public void leave(String luId) {
        Follower f;
        synchronized (membershipLock) {
            f = followers.remove(luId);
        }
        if (f != null) {
            f.stop();
            awaitLeaveWrites("LU " + luId + ": removing its applied znode", servingSignal.serving(),
                    () -> bestEffortDelete(f.appliedNode));
        }
    }

    /**
     * Runs the ZooKeeper writes a leaving node owes the others (so that nobody waits for it), and
     * waits for them at most {@link #LEAVE_BOUND}: an ensemble that stopped answering would hold a
     * stop until the session is declared lost. The writes go on meanwhile; if they never land, the
     * others stop waiting for this node (and fence it) once its session expires. Without {@code wait}
     * (the connection is in doubt already) the writes are started and not waited for.
     */
    private void awaitLeaveWrites(String what, boolean wait, Runnable writes) {
        Thread t = Thread.ofVirtual().name("tandem-zk-leave-" + nodeId()).start(writes);
        try {
            if (!t.join(wait ? LEAVE_BOUND : Duration.ZERO) && wait) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: {1}: ZooKeeper did not confirm within {2} ms; going on",
                        nodeId(), what, LEAVE_BOUND.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- membership

    @Override
    public void announce(Member self) {
        if (!self.nodeId().equals(nodeId())) {
            throw new IllegalArgumentException("this node's id is " + nodeId() + ", not " + self.nodeId());
        }
        checkOpen();
        announced = self;
        try {
            synchronized (membershipLock) {
                ensureEphemeral(memberPath, self.render().getBytes(StandardCharsets.UTF_8), true);
            }
        } catch (Exception e) {
            // The next resync publishes it.
            LOG.log(System.Logger.Level.WARNING, "node {0}: publishing its member record failed ({1}); it is published again on reconnection",
                    nodeId(), e.toString());
        }
    }

    @Override
    public List<Member> members() {
        return members;
    }

    @Override
    public void addMembershipListener(MembershipListener listener) {
        membershipListeners.add(Objects.requireNonNull(listener));
    }

    @Override
    public void removeMembershipListener(MembershipListener listener) {
        membershipListeners.remove(listener);
    }

    /**
     * On the events thread (the member cache's listener executor), and on a retry thread while a
     * lost member's fence fails.
     */
    private void membersChanged() {
        synchronized (membersViewLock) {
            List<Member> now = new ArrayList<>();
            Map<String, Incarnation> current = new java.util.HashMap<>();
            String prefix = membersPath + "/";
            membersCache.stream().filter(d -> d.getPath().startsWith(prefix) && d.getPath().indexOf('/', prefix.length()) < 0)
                    .forEach(d -> {
                        Member m = parseMember(d);
                        now.add(m);
                        if (!m.nodeId().equals(nodeId()) && d.getStat() != null) {
                            current.put(m.nodeId(), new Incarnation(m, d.getStat().getEphemeralOwner()));
                        }
                    });
            // A member whose znode vanished, or is owned by a newer session, is lost (a cleanly
            // closing node first withdraws its fence targets): fenced before anyone here acts on its
            // loss. One whose fence fails stays listed (and waited for by updates) and is retried,
            // without holding back what else happens to the membership meanwhile.
            for (Incarnation gone : List.copyOf(known.values())) {
                Incarnation still = current.get(gone.member().nodeId());
                if (still == null || still.session() != gone.session()) {
                    known.remove(gone.member().nodeId(), gone);
                    lostUnfenced.put(gone.key(), gone);
                }
            }
            lostUnfenced.values().removeIf(this::fence);
            known.putAll(current);
            for (Incarnation pending : lostUnfenced.values()) {
                if (now.stream().noneMatch(m -> m.nodeId().equals(pending.member().nodeId()))) {
                    now.add(pending.member());
                }
            }
            if (!lostUnfenced.isEmpty()) {
                retryFencesSoon();
            }
            now.sort(Comparator.comparing(Member::nodeId));
            List<Member> before = members;
            if (now.equals(before)) {
                return;
            }
            members = List.copyOf(now);
            List<Member> snapshot = members;
            for (MembershipListener l : membershipListeners) {
                try {
                    l.membersChanged(snapshot);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "membership listener failed", e);
                }
            }
        }
    }

    /** Runs {@link #membersChanged} again in a second, once, while a lost member is unfenced. */
    private void retryFencesSoon() {
        if (closed || !fenceRetryScheduled.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("tandem-zk-fence-retry").start(() -> {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            } finally {
                fenceRetryScheduled.set(false);
            }
            if (!closed) {
                membersChanged();
            }
        });
    }

    private Member parseMember(ChildData d) {
        String id = d.getPath().substring(d.getPath().lastIndexOf('/') + 1);
        try {
            return Member.parse(new String(d.getData(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable member record of {0}: {1}", id, e.toString());
            return Member.bare(id);
        }
    }

    // ---------------------------------------------------------------- session and self-fencing

    @Override
    public boolean serving() {
        return servingSignal.serving();
    }

    @Override
    public void addServingListener(ServingListener listener) {
        servingSignal.add(listener);
    }

    @Override
    public void removeServingListener(ServingListener listener) {
        servingSignal.remove(listener);
    }

    private synchronized void setServing(boolean value) {
        if (!(value && closed)) {
            servingSignal.set(value);
        }
    }

    /** Curator's connection state thread: fencing happens here, synchronously, before anything else. */
    private void connectionStateChanged(ConnectionState state) {
        long epoch = connectionEpoch.incrementAndGet();
        switch (state) {
            case SUSPENDED, LOST, READ_ONLY -> {
                setServing(false);
                LOG.log(System.Logger.Level.WARNING, "node {0}: ZooKeeper connection {1}", nodeId(), state);
            }
            case CONNECTED, RECONNECTED -> {
                LOG.log(initialized ? System.Logger.Level.INFO : System.Logger.Level.DEBUG,
                        "node {0}: ZooKeeper connection {1}; resynchronising", nodeId(), state);
                if (!closed) {
                    sessionExecutor.execute(() -> resync(epoch));
                }
            }
        }
    }

    /**
     * After a (re)connection: with a new session, recreate this node's ephemeral znodes; then have
     * every follower re-read and apply its record; then serve, unless the connection changed again.
     */
    private void resync(long epoch) {
        if (!initialized) {
            return; // the first connection: initialize() does the work and decides about serving
        }
        long backoff = 100;
        while (!closed && connectionEpoch.get() == epoch) {
            try {
                long session = sessionId();
                List<CompletableFuture<Void>> caughtUp = new ArrayList<>();
                synchronized (membershipLock) {
                    boolean renewed = session != ownSession;
                    if (renewed) {
                        LOG.log(System.Logger.Level.WARNING, "node {0}: new ZooKeeper session 0x{1} (the previous one expired): rejoining",
                                nodeId(), Long.toHexString(session));
                        if (ownSession != 0) {
                            pastSessions.add(ownSession);
                        }
                        ownSession = session;
                    }
                    ensureEphemeral(memberPath, announced.render().getBytes(StandardCharsets.UTF_8), true);
                    for (Follower f : followers.values()) {
                        if (renewed) {
                            f.rejoining();
                        }
                        ensureApplied(f);
                        caughtUp.add(f.requestCatchUp());
                    }
                }
                CompletableFuture.allOf(caughtUp.toArray(CompletableFuture[]::new))
                        .get(settings.updateTimeout().toMillis(), TimeUnit.MILLISECONDS);
                if (connectionEpoch.get() == epoch && client.getZookeeperClient().isConnected()) {
                    setServing(true);
                }
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: resynchronisation failed, retrying: {1}", nodeId(), e.toString());
                try {
                    Thread.sleep(backoff);
                    backoff = Math.min(backoff * 2, 2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private long sessionId() throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /**
     * Makes this node's applied znode of a joined LU exist. Never creates the LU's record on the way:
     * a record that vanished while this node followed it (the ensemble lost its data, or someone
     * deleted it) would come back empty, unreadable, and block every later join; and recreating it
     * with an initial state would silently drop its reservations. This node stays unserving instead
     * (its resynchronisation retries), and says why; a node that joins the LU afresh (a restart)
     * creates a new record knowingly.
     */
    private void ensureApplied(Follower f) throws Exception {
        try {
            ensureEphemeral(f.appliedNode, JOINING, false, false);
        } catch (KeeperException.NoNodeException e) {
            throw f.recordGone(e);
        }
    }

    private void ensureEphemeral(String path, byte[] data, boolean overwrite) throws Exception {
        ensureEphemeral(path, data, overwrite, true);
    }

    /**
     * Makes an ephemeral znode of this session exist. A leftover of one of this process's expired
     * sessions is replaced; one of this session keeps its data unless {@code overwrite}; one of an
     * unknown session is an error (another process uses this node id). Missing parents are created
     * only if {@code creatingParents} (else NoNodeException).
     */
    private void ensureEphemeral(String path, byte[] data, boolean overwrite, boolean creatingParents) throws Exception {
        long session = sessionId();
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                if (creatingParents) {
                    client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path, data);
                } else {
                    client.create().withMode(CreateMode.EPHEMERAL).forPath(path, data);
                }
                return;
            } catch (KeeperException.NodeExistsException e) {
                Stat stat = client.checkExists().forPath(path);
                if (stat == null) {
                    continue;
                }
                if (stat.getEphemeralOwner() == session) {
                    if (overwrite) {
                        client.setData().forPath(path, data);
                    }
                    return;
                }
                if (!pastSessions.contains(stat.getEphemeralOwner())) {
                    throw new CoordinatorException(path + " belongs to another live ZooKeeper session (0x"
                            + Long.toHexString(stat.getEphemeralOwner()) + "): is another node configured with id " + nodeId() + "?");
                }
                try {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
                    // expired meanwhile, or changed: look again
                }
            }
        }
        throw new CoordinatorException("cannot create " + path);
    }

    // ---------------------------------------------------------------- configuration

    @Override
    public ConfigStore config() {
        return config;
    }

    // ---------------------------------------------------------------- lifecycle

    /** How many times a follower was handed a version that skipped others while it was a member (must stay 0). */
    long versionGaps() {
        return versionGaps.get();
    }

    /** The ZooKeeper handle of the current session (tests locate the server it is connected to). */
    ZooKeeper zooKeeper() throws Exception {
        return client.getZookeeperClient().getZooKeeper();
    }

    /** The session this node's ephemeral znodes belong to (tests). */
    long session() {
        synchronized (membershipLock) {
            return ownSession;
        }
    }

    /** Leaves the cluster at once: this node's ephemeral znodes are deleted, so nobody waits for it any more. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        setServingClosed();
        List<Follower> all;
        synchronized (membershipLock) {
            all = new ArrayList<>(followers.values());
            followers.clear();
        }
        all.forEach(Follower::stop);
        try {
            membersCache.close();
            config.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing caches: {0}", e.toString());
        }
        if (client.getZookeeperClient().isConnected()) {
            // Leaving cleanly: nothing of this session is in flight any more, so nobody needs to
            // fence it. Said in a persistent marker, since the others may never see the member
            // znode's data change before it is deleted.
            awaitLeaveWrites("marking its clean leave", true, () -> {
                try {
                    client.create().orSetData().creatingParentsIfNeeded()
                            .forPath(leftPath + "/" + nodeId(), Long.toHexString(sessionId()).getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.DEBUG, "marking the clean leave: {0}", e.toString());
                }
                all.forEach(f -> bestEffortDelete(f.appliedNode));
                bestEffortDelete(memberPath);
            });
        }
        client.close();
        sessionExecutor.shutdownNow();
        events.shutdown();
        try {
            events.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void setServingClosed() {
        servingSignal.close(); // under this node's lock, as setServing: no serving again once closed
    }

    private void bestEffortDelete(String path) {
        try {
            Stat stat = client.checkExists().forPath(path);
            if (stat != null && stat.getEphemeralOwner() == sessionId()) {
                client.delete().forPath(path);
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "deleting {0}: {1}", path, e.toString());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new CoordinatorException("coordinator closed");
        }
    }

    private static CoordinatorException zkFailure(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new CoordinatorException(what + " failed: " + e, e);
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- one LU's follower

    /**
     * Follows one LU's record on this node: on every watch (and every resync request) reads the
     * record, hands each new version to the node's watcher, and publishes "applied" — one version at
     * a time, on one virtual thread, so the watcher is never called concurrently for the LU.
     */
    private final class Follower extends RecordFollower implements Watcher {

        final String recordPath;
        final String appliedDir;
        final String appliedNode;
        /** The session in which this follower last published its applied version. */
        volatile long publishedInSession;

        Follower(String luId, LuStateWatcher watcher) {
            super(luId, watcher, versionGaps);
            this.recordPath = lusPath + "/" + segment(luId);
            this.appliedDir = recordPath + "/applied";
            this.appliedNode = appliedDir + "/" + nodeId();
        }

        void start() {
            start(Thread.ofVirtual().name("tandem-zk-follow-" + luId));
        }

        /** ZooKeeper's event thread: only a wake-up, never work. */
        @Override
        public void process(WatchedEvent event) {
            if (event.getType() != Event.EventType.None) {
                wake();
            }
        }

        @Override
        boolean serving() {
            return servingSignal.serving();
        }

        CoordinatorException recordGone(KeeperException.NoNodeException e) {
            LuState known = applied;
            return new CoordinatorException("LU " + luId + ": its record " + recordPath + " is gone from ZooKeeper"
                    + " (did the ensemble lose its data?); this node keeps "
                    + (known == null ? "nothing" : "version " + known.version())
                    + " and does not recreate the record; restart the nodes to start the LU afresh", e);
        }

        /** Reads the record (re-arming the watch) and applies it if it is newer; always publishes. */
        @Override
        void catchUp() throws Exception {
            long session = sessionId();
            // Versions are missed only by a node whose session expired: others stopped waiting for it.
            boolean renewed = gapExpected || session != publishedInSession;
            LuRecordCodec.Stored stored;
            try {
                stored = LuRecordCodec.parse(luId, client.getData().usingWatcher(this).forPath(recordPath));
            } catch (KeeperException.NoNodeException e) {
                throw recordGone(e);
            }
            applyIfNewer(stored, renewed);
            client.setData().forPath(appliedNode, Long.toString(applied.version()).getBytes(StandardCharsets.US_ASCII));
            gapExpected = false;
            publishedInSession = session;
        }
    }

    @Override
    public String toString() {
        return "ZooKeeperCoordinator[" + nodeId() + " @ " + settings.connectString() + settings.root() + "]";
    }
}
