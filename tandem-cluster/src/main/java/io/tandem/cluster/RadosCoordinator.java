package io.tandem.cluster;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import io.tandem.ceph.Notify;
import io.tandem.ceph.OsdMap;
import io.tandem.ceph.Rados;
import io.tandem.ceph.Watch;
import io.tandem.ceph.WriteOp;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The cluster coordinator on Ceph RADOS, for sites that run Ceph and no ZooKeeper. The records
 * live in RADOS objects changed by guarded writes; leases are watches; "applied" is a notify
 * acknowledgement; a node declared gone is blocklisted before anyone goes on without it.
 *
 * <h2>Objects (pool {@link Settings#pool()}, names prefixed {@code tandem.<cluster>.})</h2>
 * <pre>
 * members        the hub: its content is the member registry ({@link RadosMemberRegistry}); every
 *                node holds one watch on it (its lease), and every notification goes through it
 * lu.&lt;lu&gt;         an LU's record ({@link LuRecordCodec}); the object version is the CAS token
 * lu-index       the ids of every LU whose record exists (what a power on walks)
 * config         the cluster-wide configuration ({@link RadosConfigStore})
 * join           the join lock: exists only while a node writes its entry; names the holder's lease
 * </pre>
 *
 * <h2>Power on</h2>
 * The cluster is one SCSI target device: a cluster in which no member is live and that starts
 * again was powered off and on. A node writes its registry entry under the join lock (exclusive
 * create of {@code join}); the starting node that, holding it, finds no other entry whose watch a
 * notification reaches rewrites every LU's record to {@link LuState#afterPowerLoss()}. Of nodes
 * starting at once exactly one finds the cluster empty. A lock whose holder's watch no notification
 * reaches any more is broken after its holder's client is blocklisted.
 *
 * <h2>Lease</h2>
 * A node's lease is its watch on the hub, registered with the watch timeout T
 * ({@link Settings#leaseTimeout()}): the OSD drops the watch when it has heard no ping from the
 * node's client for T. The client pings every T/8 ({@code objecter_tick_interval}); the node
 * checks the age of the last confirmed ping every 50 ms and stops serving when it reaches T/2
 * (or the watch reports an error). A survivor declares the node gone only when a notification
 * no longer reaches its watch, i.e. at least T after the OSD last heard from it; the node fenced
 * itself at most T/2 + 50 ms after the last ping the OSD confirmed, which the OSD received no
 * earlier than it was sent: a margin of about T/2 for writes already under way.
 *
 * <h2>Membership</h2>
 * Members are the registry's entries: node id, client instance id and watch cookie (how a notify
 * reply names the watch), client address, announced {@link Member}. A node registers its watch
 * first and its entry second, so an entry whose watch a notification no longer reaches has lapsed
 * (or was unwatched after its entry was removed, on a clean close). Whoever sees that — an
 * update's wait or the periodic probe (every T/4) — blocklists the entry's client address
 * ({@code rados_blocklist_add}, which also waits for the OSD map that carries it) and only then
 * removes the entry and goes on: the node's writes still in flight, on the coordinator's client
 * or an RBD image opened through {@link #rados()}, are refused by the OSDs from then on.
 *
 * <h2>A change ({@link #update})</h2>
 * Read the record and its object version; notify {@code lu <id> <version>} and wait until every
 * live member acknowledged (a member acknowledges once it has applied at least that version, or at
 * once if it has not joined the LU), so no member is ever handed two versions at once; compute
 * the next record; write it guarded by the version read (recompute on a lost race); notify the new
 * version and wait for every acknowledgement again. A watcher that does not answer in a notify
 * round (one second) is waited for as long as its entry stands; one whose watch is gone is
 * declared gone (above). Both waits are bounded by {@link Settings#updateTimeout()}.
 *
 * <h2>Session</h2>
 * Doubt about the lease (no confirmed ping for T/2) stops serving at once; when pings are
 * confirmed again the node re-reads every record it follows, checks that its entry is still its own,
 * and serves again. A lost watch (ENOTCONN: the OSD dropped it; this client blocklisted) means
 * the node may have been declared gone: it blocklists its previous client itself (whatever was
 * in flight there must not land later), connects a new client, watches again, rewrites its entry,
 * reloads every record (one jump over the versions it missed), then serves. Listeners of
 * {@link #addClientListener} hear of the new client.
 */
public final class RadosCoordinator implements Coordinator {

    private static final System.Logger LOG = System.getLogger(RadosCoordinator.class.getName());
    /** How often the node checks its lease. */
    static final long LEASE_POLL_MILLIS = 50;
    /** How long a blocklist entry lasts: far longer than a fenced client can linger. */
    static final int BLOCKLIST_SECONDS = 3600;
    /** One notify round while waiting for acknowledgements (the OSD counts whole seconds). */
    static final Duration NOTIFY_ROUND = Duration.ofSeconds(1);

    /**
     * Where the cluster lives and the timing of the lease.
     *
     * @param cephConf      the ceph.conf the node's RADOS client reads; null: librados' default search
     *                      ({@code $CEPH_CONF}, {@code /etc/ceph/ceph.conf}, ...)
     * @param clientId      the RADOS user without "client." ({@code iscsi} for client.iscsi), null for admin
     * @param keyring       the keyring file of that user, or null (the one ceph.conf names, or no cephx)
     * @param pool          the pool holding the coordinator's objects
     * @param cluster       the Tandem cluster's name: its objects are named {@code tandem.<cluster>.*}
     * @param nodeId        this node's id (see {@link Member#nodeId()})
     * @param leaseTimeout  the watch timeout T, whole seconds, 2..300: how long a silent node stays
     *                      a member; it stops serving after T/2 without a confirmed ping
     * @param updateTimeout bound of each of an update's two waits; longer than T, so a dead member
     *                      is declared gone before an update gives up
     * @param clientOptions further client configuration options ({@code rados_conf_set})
     */
    public record Settings(Path cephConf, String clientId, Path keyring, String pool, String cluster, String nodeId,
                           Duration leaseTimeout, Duration updateTimeout, Map<String, String> clientOptions) {

        public static final String DEFAULT_POOL = "rbd";
        public static final String DEFAULT_CLUSTER = "tandem";
        public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_UPDATE_TIMEOUT = Duration.ofSeconds(30);

        public Settings {
            Member.bare(nodeId); // validates the id
            Objects.requireNonNull(pool, "pool");
            if (pool.isEmpty()) {
                throw new IllegalArgumentException("pool name is empty");
            }
            if (cluster == null || !cluster.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("cluster name is 1-64 of [A-Za-z0-9._-]: '" + cluster + "'");
            }
            if (leaseTimeout.toMillis() % 1000 != 0 || leaseTimeout.toSeconds() < 2 || leaseTimeout.toSeconds() > 300) {
                throw new IllegalArgumentException("the lease timeout is whole seconds, 2..300: " + leaseTimeout);
            }
            if (updateTimeout.compareTo(leaseTimeout) <= 0) {
                throw new IllegalArgumentException("the update timeout (" + updateTimeout
                        + ") must exceed the lease timeout (" + leaseTimeout + ")");
            }
            clientOptions = Map.copyOf(clientOptions);
        }

        /** Defaults: admin client, pool {@value #DEFAULT_POOL}, cluster {@value #DEFAULT_CLUSTER}, lease 10 s, update 30 s. */
        public static Settings of(Path cephConf, String nodeId) {
            return new Settings(cephConf, null, null, DEFAULT_POOL, DEFAULT_CLUSTER, nodeId, DEFAULT_LEASE_TIMEOUT,
                    DEFAULT_UPDATE_TIMEOUT, Map.of());
        }

        public Settings withClient(String id, Path keyringFile) {
            return new Settings(cephConf, id, keyringFile, pool, cluster, nodeId, leaseTimeout, updateTimeout, clientOptions);
        }

        public Settings withPool(String p) {
            return new Settings(cephConf, clientId, keyring, p, cluster, nodeId, leaseTimeout, updateTimeout, clientOptions);
        }

        public Settings withCluster(String c) {
            return new Settings(cephConf, clientId, keyring, pool, c, nodeId, leaseTimeout, updateTimeout, clientOptions);
        }

        public Settings withTimeouts(Duration lease, Duration update) {
            return new Settings(cephConf, clientId, keyring, pool, cluster, nodeId, lease, update, clientOptions);
        }

        public Settings withClientOptions(Map<String, String> options) {
            return new Settings(cephConf, clientId, keyring, pool, cluster, nodeId, leaseTimeout, updateTimeout, options);
        }

        /** How often the client pings its watches: T/8. */
        Duration pingInterval() {
            return leaseTimeout.dividedBy(8);
        }

        /** Without a confirmed ping for this long the node stops serving: T/2. */
        Duration fenceAfter() {
            return leaseTimeout.dividedBy(2);
        }

        /** How often a serving node looks for lapsed members: T/4. */
        Duration probeInterval() {
            return leaseTimeout.dividedBy(4);
        }

        String objectPrefix() {
            return "tandem." + cluster + ".";
        }
    }

    /** One connection of this node: a RADOS client, its I/O context and the watch on the hub (the lease). */
    private final class Session {
        final Rados rados;
        final IoCtx io;
        final long instanceId;
        final String address;
        volatile Watch watch;
        volatile boolean lost;

        Session(Rados rados, IoCtx io) {
            this.rados = rados;
            this.io = io;
            this.instanceId = rados.instanceId();
            this.address = rados.addresses();
        }

        boolean holds(RadosMemberRegistry.Entry e) {
            return e != null && e.holds(instanceId, watch.cookie());
        }

        RadosMemberRegistry.Entry entry(Member member) {
            return new RadosMemberRegistry.Entry(nodeId(), instanceId, watch.cookie(), address, member);
        }

        @Override
        public String toString() {
            return "client." + instanceId + "/" + Long.toUnsignedString(watch == null ? 0 : watch.cookie()) + "@" + address;
        }
    }

    /** A notification as the hub's watch delivered it. */
    private record Incoming(Session session, Watch watch, Watch.Notification notification) {
    }

    private final Settings settings;
    private final String hubOid;
    private final String luPrefix;
    private final String luIndexOid;
    private final String joinLockOid;

    private volatile Session session;
    private final Map<String, Follower> followers = new ConcurrentHashMap<>();
    private final Object joinLock = new Object();
    private final Object goneLock = new Object();

    private volatile boolean closed;
    private volatile boolean initialized;
    /** False from a doubt about the lease until a resync completed. */
    private volatile boolean synced;
    private final AtomicBoolean resyncRunning = new AtomicBoolean();
    /** +1 per doubt and per session change: a resync begun before must not declare serving. */
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong versionGaps = new AtomicLong();
    private final AtomicLong changeCounter = new AtomicLong();
    private final AtomicLong membersDeclaredGone = new AtomicLong();
    private volatile Fencer fencer = Fencer.NONE;
    /** +1 whenever this node learns that an entry left the registry (possibly fenced by another node). */
    private final AtomicLong removalsSeen = new AtomicLong();
    /** The value of {@link #removalsSeen} when this node's client last fetched the latest OSD map. */
    private final AtomicLong removalsMapped = new AtomicLong();
    /** Test hook: the node neither pings nor answers (a silent partition of this node). */
    private volatile boolean silenced;

    private volatile Member announced;
    private volatile RadosMemberRegistry registry = RadosMemberRegistry.EMPTY;
    private volatile List<Member> members = List.of();
    private final CopyOnWriteArrayList<MembershipListener> membershipListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<Rados>> clientListeners = new CopyOnWriteArrayList<>();

    /** Starts, resynchronises and renews the session, one at a time. */
    private final ExecutorService sessionExecutor;
    /** Calls the listeners of this SPI, one call at a time, in order. */
    private final ExecutorService events;
    private final ServingSignal servingSignal;
    /** Runs what blocks in librados (updates, configuration changes, announcements): platform threads. */
    private final ExecutorService blocking;
    private final LinkedBlockingQueue<Incoming> incoming = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicBoolean configRefreshQueued = new AtomicBoolean();
    private final RadosConfigStore config;

    private RadosCoordinator(Settings settings) {
        this.settings = settings;
        this.hubOid = settings.objectPrefix() + "members";
        this.luPrefix = settings.objectPrefix() + "lu.";
        this.luIndexOid = settings.objectPrefix() + "lu-index";
        this.joinLockOid = settings.objectPrefix() + "join";
        this.announced = Member.bare(settings.nodeId());
        String id = settings.nodeId();
        this.sessionExecutor = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tandem-rados-session-" + id).factory());
        this.events = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tandem-rados-events-" + id).factory());
        this.servingSignal = new ServingSignal(id, events);
        this.blocking = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("tandem-rados-io-" + id + "-", 0).factory());
        this.config = new RadosConfigStore(settings.objectPrefix() + "config", () -> usableSession().io, blocking, events,
                () -> announce("config"));
    }

    /**
     * Connects to the Ceph cluster, takes the lease, becomes a member and starts serving. When a
     * previous incarnation of this node id still holds a lease (a crash a moment ago), waits until
     * it lapses (and fences it) first, so the cluster never sees two members with one id.
     *
     * @throws CoordinatorException when the cluster cannot be reached or the pool does not exist,
     *                              or the node id stays in use by another live client
     */
    public static RadosCoordinator start(Settings settings) {
        RadosCoordinator c = new RadosCoordinator(settings);
        try {
            c.sessionExecutor.submit(() -> {
                c.initialize();
                return null;
            }).get();
            return c;
        } catch (ExecutionException e) {
            c.close();
            Throwable cause = e.getCause();
            throw cause instanceof CoordinatorException ce ? ce
                    : new CoordinatorException("cannot start the RADOS coordinator: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new CoordinatorException("interrupted while starting the RADOS coordinator", e);
        }
    }

    /** On the session executor. */
    private void initialize() throws Exception {
        Session s = openSession();
        session = s;
        startThread("dispatch", this::dispatchLoop);
        RadosMemberRegistry.Entry previous = readRegistry(s).get(nodeId());
        if (previous != null && !s.holds(previous)) {
            awaitPreviousIncarnation(s, previous);
        }
        // Judging "is anybody live?" and joining happen under one lock, so of nodes starting at
        // once exactly the first finds the cluster empty.
        withJoinLock(s, () -> {
            List<String> live = liveOthers(s);
            if (live.isEmpty()) {
                powerOn(s);
            } else {
                LOG.log(System.Logger.Level.DEBUG, "node {0}: joining live members {1}", nodeId(), live);
            }
            mutateRegistry(s, r -> r.with(s.entry(announced)), true);
        });
        config.refresh();
        startThread("lease", this::leaseLoop);
        startThread("probe", this::probeLoop);
        initialized = true;
        LOG.log(System.Logger.Level.INFO, "node {0} joined cluster {1} in pool {2} as {3} (lease {4} s)", nodeId(),
                settings.cluster(), settings.pool(), s, settings.leaseTimeout().toSeconds());
        if (leaseHealthy(s)) {
            synced = true;
            setServing(true);
        }
    }

    private void startThread(String what, Runnable body) {
        Thread t = Thread.ofPlatform().daemon().name("tandem-rados-" + what + "-" + nodeId()).start(body);
        threads.add(t);
    }

    /** A new client, connected, with the hub object present and watched. */
    private Session openSession() {
        Rados rados = Rados.create(settings.clientId());
        IoCtx io = null;
        try {
            if (settings.cephConf() != null) {
                rados.readConfig(settings.cephConf());
            } else {
                rados.readDefaultConfig();
            }
            if (settings.keyring() != null) {
                rados.set("keyring", settings.keyring().toString());
            }
            long opTimeout = Math.max(1, settings.updateTimeout().toSeconds());
            rados.set("objecter_tick_interval", seconds(settings.pingInterval()))
                    .set("client_mount_timeout", Long.toString(opTimeout))
                    .set("rados_osd_op_timeout", Long.toString(opTimeout))
                    .set("rados_mon_op_timeout", Long.toString(opTimeout));
            settings.clientOptions().forEach(rados::set);
            // The client is meant to be shared with this node's RBD images (one fence for both),
            // which must acknowledge a write only once the cluster has it.
            rados.set("rbd_cache", "false");
            rados.connect();
            io = rados.ioContext(settings.pool());
            Session s = new Session(rados, io);
            RadosObjects.ensureExists(io, hubOid);
            s.watch = Watch.start(io, hubOid, (int) settings.leaseTimeout().toSeconds(), new HubListener(s));
            return s;
        } catch (RuntimeException e) {
            if (io != null) {
                io.close();
            }
            rados.close();
            throw new CoordinatorException("cannot open a RADOS session (conf " + settings.cephConf() + ", pool "
                    + settings.pool() + "): " + e.getMessage(), e);
        }
    }

    private static String seconds(Duration d) {
        return Double.toString(d.toMillis() / 1000.0);
    }

    /** An entry with this node id whose watch is alive: a previous incarnation, or a duplicate id. */
    private void awaitPreviousIncarnation(Session s, RadosMemberRegistry.Entry previous) throws InterruptedException {
        long deadline = System.nanoTime() + settings.leaseTimeout().toNanos() * 2 + Duration.ofSeconds(1).toNanos();
        while (true) {
            Notify.Reply reply = Notify.send(s.io, hubOid, payload("probe"), NOTIFY_ROUND);
            if (!reaches(reply, previous)) {
                declareGone(s, previous);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CoordinatorException("node id " + nodeId() + " is in use by another live RADOS client (client."
                        + previous.instanceId() + " at " + previous.address() + "): is another node configured with the same id?");
            }
            LOG.log(System.Logger.Level.INFO, "node {0}: waiting for the lease of a previous incarnation (client.{1}) to lapse",
                    nodeId(), previous.instanceId());
            Thread.sleep(250);
        }
    }

    private static boolean reaches(Notify.Reply reply, RadosMemberRegistry.Entry e) {
        return reply.watchers().contains(new Notify.Watcher(e.instanceId(), e.cookie()));
    }

    // ---------------------------------------------------------------- joining and power on

    /** What must run while holding the join lock. */
    @FunctionalInterface
    private interface Locked {
        void run() throws Exception;
    }

    /**
     * Runs {@code body} holding the join lock: the object {@code join}, created exclusively, naming
     * this session's lease. A holder whose watch a notification no longer reaches died while
     * joining: its client is blocklisted (whatever it still had in flight must not land later)
     * and the lock removed, guarded by the version read.
     */
    private void withJoinLock(Session s, Locked body) throws Exception {
        byte[] mine = payload("tandem-join 1\n" + nodeId() + " " + s.instanceId + " " + Long.toUnsignedString(s.watch.cookie())
                + " " + URLEncoder.encode(s.address, StandardCharsets.UTF_8) + "\n");
        long deadline = System.nanoTime() + settings.leaseTimeout().multipliedBy(2).plus(settings.updateTimeout()).toNanos();
        long held;
        while (true) {
            held = RadosObjects.compareAndSet(s.io, joinLockOid, 0, mine);
            if (held > 0) {
                break;
            }
            RadosObjects.Read r = RadosObjects.read(s.io, joinLockOid);
            if (!r.exists()) {
                continue; // released meanwhile
            }
            String[] holder = joinLockHolder(r.data());
            Notify.Reply reply = Notify.send(s.io, hubOid, payload("probe"), NOTIFY_ROUND);
            boolean alive = holder != null && reply.watchers().contains(
                    new Notify.Watcher(Long.parseLong(holder[1]), Long.parseUnsignedLong(holder[2])));
            if (!alive) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: the join lock''s holder ({1}) has no live lease; "
                        + "blocklisting it and breaking the lock", nodeId(), holder == null ? "unreadable" : "node " + holder[0]);
                if (holder != null) {
                    s.rados.blocklistAdd(URLDecoder.decode(holder[3], StandardCharsets.UTF_8), BLOCKLIST_SECONDS);
                }
                removeGuarded(s, joinLockOid, r.version());
                continue;
            }
            if (System.nanoTime() > deadline) {
                throw new CoordinatorException("node " + nodeId() + ": the join lock stays held by node " + holder[0]
                        + " (client." + holder[1] + ")");
            }
            Thread.sleep(100);
        }
        try {
            body.run();
        } finally {
            removeGuarded(s, joinLockOid, held);
        }
    }

    /** The join lock's holder: node, client instance, watch cookie, URL-encoded address; null if unreadable. */
    private static String[] joinLockHolder(byte[] data) {
        String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
        if (lines.length < 2 || !lines[0].equals("tandem-join 1")) {
            return null;
        }
        String[] f = lines[1].split(" ");
        try {
            Long.parseLong(f[1]);
            Long.parseUnsignedLong(f[2]);
            return f.length == 4 ? f : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Removes an object if it still has {@code version}; nothing if it moved or is gone. */
    private static void removeGuarded(Session s, String oid, long version) {
        try {
            WriteOp.create().assertVersion(version).remove().operate(s.io, oid);
        } catch (CephException e) {
            if (e.errno() != Errno.ENOENT && e.errno() != Errno.ERANGE && e.errno() != 75 /* EOVERFLOW */) {
                throw e;
            }
        }
    }

    /** Other nodes holding a live lease: registry entries whose watch a notification reaches. */
    private List<String> liveOthers(Session s) {
        RadosMemberRegistry reg = readRegistry(s);
        Notify.Reply reply = Notify.send(s.io, hubOid, payload("probe"), NOTIFY_ROUND);
        List<String> live = new ArrayList<>();
        for (RadosMemberRegistry.Entry e : reg.entries().values()) {
            if (!e.nodeId().equals(nodeId()) && reaches(reply, e)) {
                live.add(e.nodeId());
            }
        }
        return live;
    }

    /**
     * The first node of a cluster in which no node was live starts the SCSI target device anew: a
     * power on for SPC-4. Every indexed LU's record keeps what survives a power loss
     * ({@link LuState#afterPowerLoss()}: registrations and reservation only under APTPL), as one
     * ordinary version change nobody else needs to apply (nobody is live).
     */
    private void powerOn(Session s) {
        for (String luId : readLuIndex(s)) {
            String oid = luOid(luId);
            for (int attempt = 0; ; attempt++) {
                RadosObjects.Read r = RadosObjects.read(s.io, oid);
                if (!r.exists()) {
                    break;
                }
                LuState stored = LuRecordCodec.parse(luId, r.data()).state();
                LuState after = stored.afterPowerLoss();
                if (after.sameContent(stored)) {
                    break;
                }
                long v = RadosObjects.compareAndSet(s.io, oid, r.version(),
                        LuRecordCodec.render(after.withVersion(stored.version() + 1), nodeId() + "/power-on"));
                if (v > 0) {
                    LOG.log(System.Logger.Level.INFO, "node {0}: first node of the cluster: LU {1} powered on ({2})", nodeId(), luId,
                            stored.aptpl() ? "APTPL: registrations and reservation kept" : "registrations and reservation cleared");
                    break;
                }
                if (attempt >= 10) {
                    throw new CoordinatorException("node " + nodeId() + ": powering LU " + luId + " on lost 10 races in a row,"
                            + " though no other node is live");
                }
            }
        }
    }

    /** The LU ids of the index object ({@code tandem-lus 1}, then one {@code lu <URL-encoded id>} per line). */
    private List<String> readLuIndex(Session s) {
        return parseLuIndex(RadosObjects.read(s.io, luIndexOid).data());
    }

    private static List<String> parseLuIndex(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return List.of();
        }
        if (!text.startsWith("tandem-lus 1\n")) {
            throw new CoordinatorException("the LU index has an unknown format: '" + text.lines().findFirst().orElse("") + "'");
        }
        List<String> ids = new ArrayList<>();
        for (String line : text.substring("tandem-lus 1\n".length()).split("\n")) {
            if (line.startsWith("lu ")) {
                ids.add(URLDecoder.decode(line.substring(3), StandardCharsets.UTF_8));
            }
        }
        return ids;
    }

    /** Adds an LU to the index unless it is there (before its record can hold anything a power on must clear). */
    private void indexLu(Session s, String luId) {
        while (true) {
            RadosObjects.Read r = RadosObjects.read(s.io, luIndexOid);
            List<String> ids = parseLuIndex(r.data());
            if (ids.contains(luId)) {
                return;
            }
            StringBuilder b = new StringBuilder("tandem-lus 1\n");
            for (String id : new TreeSet<>(ids)) {
                b.append("lu ").append(URLEncoder.encode(id, StandardCharsets.UTF_8)).append('\n');
            }
            b.append("lu ").append(URLEncoder.encode(luId, StandardCharsets.UTF_8)).append('\n');
            if (RadosObjects.compareAndSet(s.io, luIndexOid, r.version(), payload(b.toString())) > 0) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- records

    @Override
    public String nodeId() {
        return settings.nodeId();
    }

    private String luOid(String luId) {
        return luPrefix + URLEncoder.encode(luId, StandardCharsets.UTF_8);
    }

    /** A record as read: the stored state, the change that stored it, and the object version. */
    private record RecordRead(LuRecordCodec.Stored stored, long objectVersion) {
    }

    /** Reads an LU's record, creating it at version 0 when there is none (a join: see {@link #readJoinedRecord}). */
    private RecordRead readRecord(Session s, String luId) {
        RadosObjects.Read r = RadosObjects.read(s.io, luOid(luId));
        if (!r.exists()) {
            LuState initial = LuState.initial(luId);
            long v = RadosObjects.compareAndSet(s.io, luOid(luId), 0, LuRecordCodec.render(initial, ""));
            if (v > 0) {
                return new RecordRead(new LuRecordCodec.Stored(initial, ""), v);
            }
            r = RadosObjects.read(s.io, luOid(luId)); // another node created it first
        }
        return new RecordRead(LuRecordCodec.parse(luId, r.data()), r.version());
    }

    /**
     * The record of an LU this node follows. Its absence means the record was lost, not that the
     * LU is new: recreating it would silently drop every registration and reservation and restart
     * the versions every member has applied beyond, so the read fails instead (as the ZooKeeper
     * coordinator's does); a node that joins the LU afresh creates it.
     */
    private RecordRead readJoinedRecord(Session s, Follower f) {
        RadosObjects.Read r = RadosObjects.read(s.io, luOid(f.luId));
        if (!r.exists()) {
            throw new CoordinatorException("LU " + f.luId + ": its record " + luOid(f.luId) + " is gone from pool "
                    + settings.pool() + " (was the pool's data lost, or the object removed by hand?); this node keeps version "
                    + (f.applied == null ? "none" : f.applied.version())
                    + " and does not recreate the record; restart the nodes to start the LU afresh");
        }
        return new RecordRead(LuRecordCodec.parse(f.luId, r.data()), r.version());
    }

    @Override
    public LuState join(String luId, LuStateWatcher watcher) {
        checkOpen();
        Objects.requireNonNull(watcher, "watcher");
        synchronized (joinLock) {
            if (followers.containsKey(luId)) {
                throw new IllegalStateException("LU " + luId + " joined twice");
            }
            Follower f = new Follower(luId, watcher);
            // Registered first: from now on this node acknowledges the LU's versions only once
            // applied, so an updater that was told "not joined" wrote before the read below.
            followers.put(luId, f);
            try {
                Session s = usableSession();
                indexLu(s, luId);
                RecordRead rr = readRecord(s, luId);
                f.applied = rr.stored().state();
                f.remember(rr.stored());
                f.start();
                return rr.stored().state();
            } catch (RuntimeException e) {
                followers.remove(luId);
                f.stop();
                throw e instanceof CoordinatorException ce ? ce : new CoordinatorException("joining LU " + luId + " failed: " + e, e);
            }
        }
    }

    @Override
    public LuState cached(String luId) {
        Follower f = followers.get(luId);
        if (f == null || f.applied == null) {
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
                    + " is not serving: its RADOS lease is in doubt or being renewed"));
        }
        CompletableFuture<LuState> result = new CompletableFuture<>();
        blocking.execute(() -> {
            try {
                result.complete(change(f, change));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        // The waits are bounded; a librados call that hangs (a cluster that stopped answering) is not.
        long bound = settings.updateTimeout().multipliedBy(2).plus(settings.leaseTimeout()).toMillis();
        CompletableFuture.delayedExecutor(bound, TimeUnit.MILLISECONDS).execute(() -> result.completeExceptionally(
                new CoordinatorTimeoutException("LU " + luId + ": the Ceph cluster did not answer within " + bound + " ms")));
        return result;
    }

    private LuState change(Follower f, UnaryOperator<LuState> change) throws InterruptedException {
        long deadline = System.nanoTime() + settings.updateTimeout().toNanos();
        String changeId = nodeId() + "/" + changeCounter.incrementAndGet();
        long firstVersionSeen = -1;
        while (true) {
            Session s = usableSession();
            RecordRead rr;
            try {
                rr = readJoinedRecord(s, f);
            } catch (CephException e) {
                throw failure(s, "reading LU " + f.luId, e);
            }
            LuState current = rr.stored().state();
            if (firstVersionSeen < 0) {
                firstVersionSeen = current.version();
            } else if (f.landed(rr.stored(), firstVersionSeen, changeId)) {
                // A write reported timed out did land: running the change again would apply it twice.
                awaitApplied(f, current.version(), deadline, true);
                return current;
            }
            // No member may be handed two versions at once: the next one waits for this one everywhere.
            awaitApplied(f, current.version(), deadline, false);
            LuState next = f.nextState(current, change);
            if (next == null) {
                return current;
            }
            long stored;
            try {
                stored = RadosObjects.compareAndSet(s.io, luOid(f.luId), rr.objectVersion(), LuRecordCodec.render(next, changeId));
            } catch (CephException e) {
                if (e.errno() != Errno.ETIMEDOUT) {
                    throw failure(s, "storing version " + next.version() + " of LU " + f.luId, e);
                }
                // The write timed out and may still have landed: the change id in the record tells.
                stored = -1;
                LOG.log(System.Logger.Level.WARNING, "LU {0}: storing version {1} timed out; finding out whether it landed",
                        f.luId, next.version());
            }
            if (stored > 0) {
                awaitApplied(f, next.version(), deadline, true);
                return next;
            }
            if (System.nanoTime() > deadline) {
                throw new CoordinatorTimeoutException("LU " + f.luId + ": no compare-and-set succeeded within " + settings.updateTimeout());
            }
        }
    }

    /**
     * Waits until every live member acknowledged that it applied at least {@code version} (or has
     * not joined the LU). A member whose watch a notification no longer reaches is declared gone
     * (and fenced) and no longer waited for.
     */
    private void awaitApplied(Follower f, long version, long deadline, boolean stored) throws InterruptedException {
        byte[] payload = payload("lu " + URLEncoder.encode(f.luId, StandardCharsets.UTF_8) + " " + version);
        while (true) {
            Session s = usableSession();
            RadosMemberRegistry before = registry;
            Set<String> behind;
            try {
                Notify.Reply reply = Notify.send(s.io, hubOid, payload, NOTIFY_ROUND);
                behind = reconcile(s, before, reply);
            } catch (CephException e) {
                if (e.errno() == Errno.ESHUTDOWN) {
                    throw failure(s, "waiting for version " + version + " of LU " + f.luId, e);
                }
                if (System.nanoTime() > deadline) {
                    throw new CoordinatorTimeoutException("LU " + f.luId + ": waiting for version " + version + " failed: " + e.getMessage(), e);
                }
                LOG.log(System.Logger.Level.DEBUG, "LU {0}: a notify round failed, retrying: {1}", f.luId, e.toString());
                Thread.sleep(100);
                continue;
            }
            if (behind.isEmpty()) {
                awaitFencesKnown(s);
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new CoordinatorTimeoutException("LU " + f.luId + ": version " + version
                        + (stored ? " is stored but was not applied within " : " (the current one) was not applied within ")
                        + settings.updateTimeout() + " by " + behind
                        + " (a member is waited for until it applies or its lease lapses)" + (stored ? "" : "; nothing was changed"));
            }
        }
    }

    /**
     * Before going on without a member another node fenced: fetches the OSD map that carries its
     * blocklist entry, so whatever this node (and an RBD image sharing its client) writes from now
     * on reaches each OSD after that OSD refuses the fenced client. (The node that blocklisted has
     * it already: {@code rados_blocklist_add} waits for it.)
     */
    private void awaitFencesKnown(Session s) {
        long seen = removalsSeen.get();
        if (removalsMapped.get() >= seen) {
            return;
        }
        OsdMap.awaitLatest(s.rados);
        try {
            fencer.catchUp();
        } catch (Exception e) {
            throw new CoordinatorException("node " + nodeId() + ": a member was fenced, but this node's storage clients could not"
                    + " fetch the map that refuses it: " + e, e);
        }
        removalsMapped.accumulateAndGet(seen, Math::max);
    }

    /**
     * Compares a notify reply with the registry as it was before the notification went out:
     * entries whose watch the notification did not reach have lapsed and are declared gone;
     * members that did not answer are returned (they are still live, so still waited for).
     */
    private Set<String> reconcile(Session s, RadosMemberRegistry before, Notify.Reply reply) {
        Set<Notify.Watcher> reached = new HashSet<>(reply.watchers());
        List<RadosMemberRegistry.Entry> missing = new ArrayList<>();
        for (RadosMemberRegistry.Entry e : before.entries().values()) {
            if (!reached.contains(new Notify.Watcher(e.instanceId(), e.cookie()))) {
                missing.add(e);
            }
        }
        boolean unknown = reply.watchers().stream().anyMatch(w -> before.byWatcher(w.instanceId(), w.cookie()) == null);
        RadosMemberRegistry now = missing.isEmpty() && !unknown ? before : readRegistry(s);
        Set<String> unfenced = new TreeSet<>();
        for (RadosMemberRegistry.Entry e : missing) {
            if (!e.sameLease(now.get(e.nodeId()))) {
                continue; // left, or replaced by a newer incarnation, meanwhile
            }
            if (e.nodeId().equals(nodeId())) {
                if (s.holds(e)) {
                    sessionLost(s, "a notification no longer reaches its own watch");
                }
                continue;
            }
            if (!declareGone(s, e)) {
                unfenced.add(e.nodeId() + " (lease lapsed, not fenced yet)");
            }
        }
        RadosMemberRegistry after = registry;
        Set<String> behind = new TreeSet<>(unfenced);
        for (Notify.Watcher w : reply.timedOut()) {
            RadosMemberRegistry.Entry e = after.byWatcher(w.instanceId(), w.cookie());
            if (e != null) {
                behind.add(e.nodeId());
            }
        }
        return behind;
    }

    /**
     * Fences a member whose lease lapsed, then removes its entry: blocklisting comes first, so
     * nothing goes on without the member until its client can no longer write. The {@link Fencer}
     * fences the clients the member announced (its rbd LUNs'); when it fails, the entry stays and
     * false is returned (the member stays waited for; the next round retries).
     */
    private boolean declareGone(Session s, RadosMemberRegistry.Entry e) {
        synchronized (goneLock) {
            if (!e.sameLease(readRegistry(s).get(e.nodeId()))) {
                return true; // someone did it already
            }
            LOG.log(System.Logger.Level.WARNING, "node {0}: node {1}''s lease lapsed (client.{2}); blocklisting {3}", nodeId(),
                    e.nodeId(), e.instanceId(), e.address());
            long seen = removalsSeen.get();
            if (!e.member().fenceTargets().isEmpty()) {
                try {
                    fencer.fence(e.member()); // the clients its LUNs write through, if not this coordinator client
                } catch (Exception | Error x) {
                    LOG.log(System.Logger.Level.WARNING, "node {0}: node {1}''s lease lapsed but fencing {2} failed: {3};"
                            + " it stays waited for", nodeId(), e.nodeId(), e.member().fenceTargets(), x.toString());
                    return false;
                }
            }
            s.rados.blocklistAdd(e.address(), BLOCKLIST_SECONDS); // returns once this client has the map carrying it
            removalsMapped.accumulateAndGet(seen, Math::max);
            membersDeclaredGone.incrementAndGet();
            mutateRegistry(s, r -> e.sameLease(r.get(e.nodeId())) ? r.without(e.nodeId()) : r);
            return true;
        }
    }

    @Override
    public void setFencer(Fencer fencer) {
        this.fencer = Objects.requireNonNull(fencer);
    }

    @Override
    public void leave(String luId) {
        Follower f;
        synchronized (joinLock) {
            f = followers.remove(luId);
        }
        if (f != null) {
            f.stop();
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
            Session s = usableSession();
            mutateRegistry(s, r -> s.holds(r.get(nodeId())) ? r.with(s.entry(self)) : r, true);
        } catch (RuntimeException e) {
            // A renewed session publishes the latest announcement.
            LOG.log(System.Logger.Level.WARNING, "node {0}: publishing its member record failed ({1}); it is published again "
                    + "when its session is renewed", nodeId(), e.toString());
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

    private RadosMemberRegistry readRegistry(Session s) {
        RadosObjects.Read r = RadosObjects.read(s.io, hubOid);
        RadosMemberRegistry reg = RadosMemberRegistry.parse(r.data(), r.version());
        learnRegistry(reg);
        return reg;
    }

    /** Compare-and-set of the registry; announces a change to every node (without waiting for them). */
    private RadosMemberRegistry mutateRegistry(Session s, UnaryOperator<RadosMemberRegistry> change) {
        return mutateRegistry(s, change, false);
    }

    /**
     * Compare-and-set of the registry; announces a change to every node. With {@code awaitHeard}
     * the announcement goes out from this thread and returns once every live member re-read the
     * registry (a member acknowledges {@code members} only then) or one notify round passed: a
     * node that joins or announces new portals is then known to every node when this returns
     * (SendTargets on any node lists it).
     */
    private RadosMemberRegistry mutateRegistry(Session s, UnaryOperator<RadosMemberRegistry> change, boolean awaitHeard) {
        while (true) {
            RadosObjects.Read r = RadosObjects.read(s.io, hubOid);
            RadosMemberRegistry current = RadosMemberRegistry.parse(r.data(), r.version());
            RadosMemberRegistry next = change.apply(current);
            if (next.entries().equals(current.entries())) {
                learnRegistry(current);
                return current;
            }
            long v = RadosObjects.compareAndSet(s.io, hubOid, r.version(), next.render());
            if (v > 0) {
                next = next.atVersion(v);
                learnRegistry(next);
                if (awaitHeard) {
                    try {
                        Notify.send(s.io, hubOid, payload("members"), NOTIFY_ROUND);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.DEBUG, "announcing members failed: {0}", e.toString());
                    }
                } else {
                    announce("members");
                }
                return next;
            }
        }
    }

    /** Installs a registry read or written unless a newer one is known; tells the listeners of a new member list. */
    private synchronized void learnRegistry(RadosMemberRegistry reg) {
        if (reg.objectVersion() < registry.objectVersion()) {
            return;
        }
        RadosMemberRegistry before = registry;
        registry = reg;
        if (!reg.entries().keySet().containsAll(before.entries().keySet())
                || before.entries().values().stream().anyMatch(e -> reg.get(e.nodeId()) != null && !e.sameLease(reg.get(e.nodeId())))) {
            removalsSeen.incrementAndGet(); // an entry left or was replaced: its old client may have been fenced
        }
        List<Member> now = reg.members();
        if (now.equals(members)) {
            return;
        }
        members = now;
        events.execute(() -> {
            for (MembershipListener l : membershipListeners) {
                try {
                    l.membersChanged(now);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "membership listener failed", e);
                }
            }
        });
    }

    /** Tells every node to re-read something ("members", "config"), without waiting for them. */
    private void announce(String what) {
        Session s = session;
        if (s == null || closed) {
            return;
        }
        blocking.execute(() -> {
            try {
                Notify.send(s.io, hubOid, payload(what), NOTIFY_ROUND);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "announcing {0} failed: {1}", what, e.toString());
            }
        });
    }

    private static byte[] payload(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- notifications

    /** The hub watch's callbacks (librados threads): hand over, never block. */
    private final class HubListener implements Watch.Listener {
        private final Session owner;

        HubListener(Session owner) {
            this.owner = owner;
        }

        @Override
        public void notified(Watch watch, Watch.Notification notification) {
            if (!closed) {
                incoming.add(new Incoming(owner, watch, notification));
            }
        }

        @Override
        public void failed(Watch watch, CephException error) {
            sessionLost(owner, "its watch failed: " + error.getMessage());
        }
    }

    /** One thread, in arrival order: routes each notification; acknowledges what needs no work. */
    private void dispatchLoop() {
        while (!closed) {
            Incoming in;
            try {
                in = incoming.take();
            } catch (InterruptedException e) {
                return;
            }
            if (silenced || in.session() != session || in.session().lost) {
                continue; // a silenced node answers nothing; an old session's news are stale
            }
            String text = new String(in.notification().payload(), StandardCharsets.UTF_8);
            String[] f = text.split(" ");
            try {
                switch (f[0]) {
                    case "lu" -> {
                        String luId = URLDecoder.decode(f[1], StandardCharsets.UTF_8);
                        Follower follower = followers.get(luId);
                        if (follower == null) {
                            ack(in, nodeId() + " -"); // not joined: nothing to wait for here
                        } else {
                            follower.requested(in, Long.parseLong(f[2]));
                        }
                    }
                    case "members" -> blocking.execute(() -> {
                        // Acknowledged once re-read: an announcer that waits knows every node heard it.
                        try {
                            readRegistry(usableSession());
                        } catch (RuntimeException e) {
                            LOG.log(System.Logger.Level.DEBUG, "node {0}: re-reading the registry failed: {1}", nodeId(), e.toString());
                        } finally {
                            ack(in, nodeId());
                        }
                    });
                    case "config" -> {
                        ack(in, nodeId());
                        refreshSoon(configRefreshQueued, config::refresh);
                    }
                    default -> ack(in, nodeId()); // "probe", or news of a newer version of Tandem
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: handling notification ''{1}'' failed: {2}", nodeId(), text, e.toString());
            }
        }
    }

    private void ack(Incoming in, String text) {
        try {
            in.watch().ack(in.notification(), payload(text));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "acknowledging a notification failed: {0}", e.toString());
        }
    }

    /** Runs a refresh on the blocking pool unless one is already queued (news arriving meanwhile are covered by it). */
    private void refreshSoon(AtomicBoolean queued, Runnable refresh) {
        if (!queued.compareAndSet(false, true)) {
            return;
        }
        blocking.execute(() -> {
            queued.set(false);
            try {
                refresh.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "node {0}: refresh failed: {1}", nodeId(), e.toString());
            }
        });
    }

    // ---------------------------------------------------------------- lease and self-fencing

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

    /** Whether the OSD confirmed the lease recently enough to serve. */
    private boolean leaseHealthy(Session s) {
        try {
            return !s.lost && s.watch.checkMillis() < settings.fenceAfter().toMillis();
        } catch (CephException e) {
            return false;
        }
    }

    /** Checks the lease every {@value #LEASE_POLL_MILLIS} ms: fences on doubt, resynchronises when it is confirmed again. */
    private void leaseLoop() {
        long fenceAfter = settings.fenceAfter().toMillis();
        long lastResync = 0;
        while (!closed) {
            try {
                Thread.sleep(LEASE_POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            Session s = session;
            if (s == null || s.lost) {
                continue;
            }
            long age;
            try {
                age = s.watch.checkMillis();
            } catch (CephException e) {
                sessionLost(s, "its watch reports " + e.errnoName());
                continue;
            }
            if (age >= fenceAfter) {
                leaseInDoubt(age);
            } else if (!synced && System.nanoTime() - lastResync > TimeUnit.MILLISECONDS.toNanos(200)
                    && resyncRunning.compareAndSet(false, true)) {
                lastResync = System.nanoTime();
                long e = epoch.get();
                sessionExecutor.execute(() -> resync(s, e));
            }
        }
    }

    private synchronized void leaseInDoubt(long age) {
        if (synced || servingSignal.serving()) {
            epoch.incrementAndGet();
            synced = false;
            LOG.log(System.Logger.Level.WARNING, "node {0}: no confirmation of its lease for {1} ms (fencing after {2} ms)",
                    nodeId(), age, settings.fenceAfter().toMillis());
            setServing(false);
        }
    }

    /**
     * After a doubt, with the lease confirmed again and the same session: checks that the entry is
     * still this session's (nobody declared the node gone), has every follower catch up, then serves.
     */
    private void resync(Session s, long startedInEpoch) {
        try {
            if (closed || s.lost || s != session) {
                return;
            }
            RadosMemberRegistry.Entry mine = readRegistry(s).get(nodeId());
            if (!s.holds(mine)) {
                sessionLost(s, "its entry in the member registry is gone (it was declared gone)");
                return;
            }
            List<CompletableFuture<Void>> caughtUp = new ArrayList<>();
            followers.values().forEach(f -> caughtUp.add(f.requestCatchUp()));
            CompletableFuture.allOf(caughtUp.toArray(CompletableFuture[]::new)).get(settings.updateTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
            config.refresh();
            synchronized (this) {
                if (epoch.get() == startedInEpoch && !s.lost && s == session && leaseHealthy(s)) {
                    synced = true;
                    setServing(true);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "node {0}: resynchronisation failed, retrying: {1}", nodeId(), e.toString());
        } finally {
            resyncRunning.set(false);
        }
    }

    /** The session's watch is gone (or its entry): stop serving at once and renew the session. */
    private void sessionLost(Session s, String why) {
        synchronized (this) {
            if (s.lost || closed) {
                return;
            }
            s.lost = true;
            epoch.incrementAndGet();
            synced = false;
            LOG.log(System.Logger.Level.WARNING, "node {0}: session {1} lost: {2}; renewing it", nodeId(), s, why);
            setServing(false);
        }
        sessionExecutor.execute(this::renew);
    }

    /** On the session executor: a new client and watch, the entry rewritten, every record reloaded, then serving. */
    private void renew() {
        long backoff = 200;
        while (!closed) {
            Session old = session;
            if (old != null && !old.lost) {
                return; // renewed already
            }
            Session fresh = null;
            try {
                while (silenced && !closed) {
                    Thread.sleep(50); // a partitioned node cannot reach the cluster to renew anything
                }
                fresh = openSession();
                if (closed) {
                    closeSession(fresh);
                    return;
                }
                if (old != null) {
                    // Whatever the old client still had in flight must not land after this node
                    // resumes (a survivor may have fenced it already; doing it again is harmless).
                    try {
                        fresh.rados.blocklistAdd(old.address, BLOCKLIST_SECONDS);
                    } catch (CephException e) {
                        LOG.log(System.Logger.Level.WARNING, "node {0}: blocklisting its previous client {1} failed: {2}",
                                nodeId(), old.address, e.toString());
                    }
                    closeLater(old);
                }
                session = fresh;
                followers.values().forEach(Follower::rejoining);
                Session s = fresh;
                // Under the join lock, like a start: a node starting meanwhile judges "is anybody live?" with this entry or before it.
                withJoinLock(s, () -> mutateRegistry(s, r -> r.with(s.entry(announced)), true));
                List<CompletableFuture<Void>> caughtUp = new ArrayList<>();
                followers.values().forEach(f -> caughtUp.add(f.requestCatchUp()));
                CompletableFuture.allOf(caughtUp.toArray(CompletableFuture[]::new)).get(settings.updateTimeout().toMillis(),
                        TimeUnit.MILLISECONDS);
                config.refresh();
                LOG.log(System.Logger.Level.WARNING, "node {0}: rejoined with session {1}", nodeId(), s);
                Rados client = s.rados;
                events.execute(() -> clientListeners.forEach(l -> {
                    try {
                        l.accept(client);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.ERROR, "client listener failed", e);
                    }
                }));
                synchronized (this) {
                    if (!s.lost && s == session && leaseHealthy(s)) {
                        synced = true;
                        setServing(true);
                    }
                }
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: renewing the session failed, retrying: {1}", nodeId(), e.toString());
                if (fresh != null && fresh != session) {
                    closeLater(fresh);
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = Math.min(backoff * 2, 2000);
            }
        }
    }

    /** Periodically, while serving: a notification round that finds lapsed members, and a re-read of what may have been missed. */
    private void probeLoop() {
        long interval = settings.probeInterval().toMillis();
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            Session s = session;
            if (s == null || s.lost || silenced || !servingSignal.serving()) {
                continue; // a node whose own lease is in doubt judges nobody
            }
            try {
                RadosMemberRegistry before = registry;
                reconcile(s, before, Notify.send(s.io, hubOid, payload("probe"), NOTIFY_ROUND));
                readRegistry(s);
                config.refreshIfChanged();
            } catch (CephException e) {
                if (e.errno() == Errno.ESHUTDOWN) {
                    sessionLost(s, "its client is blocklisted");
                } else {
                    LOG.log(System.Logger.Level.DEBUG, "node {0}: probe failed: {1}", nodeId(), e.toString());
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "node {0}: probe failed: {1}", nodeId(), e.toString());
            }
        }
    }

    /** The current session, unless it is lost (then the caller fails: the node is renewing it). */
    private Session usableSession() {
        Session s = session;
        if (closed) {
            throw new CoordinatorException("coordinator closed");
        }
        if (s == null || s.lost) {
            throw new CoordinatorException("node " + nodeId() + " has no RADOS session (it is being renewed)");
        }
        return s;
    }

    /** A librados failure as a coordinator failure; a blocklisted client means the session is lost. */
    private CoordinatorException failure(Session s, String what, CephException e) {
        if (e.errno() == Errno.ESHUTDOWN) {
            sessionLost(s, "its client is blocklisted");
        }
        return new CoordinatorException(what + " failed: " + e.getMessage(), e);
    }

    // ---------------------------------------------------------------- configuration and the client

    @Override
    public ConfigStore config() {
        return config;
    }

    /**
     * This node's RADOS client: the one whose address the node publishes, so the survivor that
     * declares this node gone blocklists it. RBD images this node serves should be opened through
     * it, so the same blocklist fences their writes too. It is replaced when the session is
     * renewed (the old one is blocklisted then): see {@link #addClientListener}.
     */
    public Rados rados() {
        return usableSession().rados;
    }

    /** Hears of every new client after a session renewal (images opened on the old one must be reopened). */
    public void addClientListener(Consumer<Rados> listener) {
        clientListeners.add(Objects.requireNonNull(listener));
    }

    public void removeClientListener(Consumer<Rados> listener) {
        clientListeners.remove(listener);
    }

    // ---------------------------------------------------------------- tests

    /** How many times a follower was handed a version that skipped others while it was a member (must stay 0). */
    long versionGaps() {
        return versionGaps.get();
    }

    /** How many members this node declared gone (and blocklisted). */
    long membersDeclaredGone() {
        return membersDeclaredGone.get();
    }

    /** The current session's identity: client instance and watch cookie. */
    String session() {
        Session s = session;
        return s == null ? "none" : s.instanceId + "/" + Long.toUnsignedString(s.watch.cookie());
    }

    /** The current session's client address (what a survivor blocklists). */
    String clientAddress() {
        return usableSession().address;
    }

    /**
     * Test hook: a silent partition of this node. Its client stops pinging its watch (the OSD then
     * drops it after the lease timeout) and the node answers no notification; it sends none either
     * (an update is refused once it stopped serving).
     */
    void silence(boolean on) {
        silenced = on;
        Session s = session;
        if (s != null) {
            s.rados.set("objecter_inject_no_watch_ping", Boolean.toString(on));
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /** Leaves the cluster at once: the entry is removed first (nobody waits for or fences this node), then the watch. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (this) {
            servingSignal.close(); // under this node's lock, as setServing: no serving again once closed
        }
        threads.forEach(Thread::interrupt);
        List<Follower> all;
        synchronized (joinLock) {
            all = new ArrayList<>(followers.values());
            followers.clear();
        }
        all.forEach(Follower::stop);
        sessionExecutor.shutdownNow();
        Session s = session;
        if (s != null && !s.lost && !silenced) {
            try {
                mutateRegistry(s, r -> s.holds(r.get(nodeId())) ? r.without(nodeId()) : r);
                Notify.send(s.io, hubOid, payload("members"), NOTIFY_ROUND);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "node {0}: leaving the member registry failed: {1}", nodeId(), e.toString());
            }
        }
        blocking.shutdown();
        try {
            blocking.awaitTermination(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (s != null) {
            closeSession(s);
        }
        events.shutdown();
        try {
            events.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeLater(Session s) {
        Thread.ofPlatform().daemon().name("tandem-rados-close-" + nodeId()).start(() -> closeSession(s));
    }

    private void closeSession(Session s) {
        try {
            if (s.watch != null) {
                s.watch.close();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "unwatching: {0}", e.toString());
        }
        s.io.close();
        s.rados.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new CoordinatorException("coordinator closed");
        }
    }

    // ---------------------------------------------------------------- one LU's follower

    /** A notification asking for {@code version} of an LU, to be acknowledged once it is applied. */
    private record Request(Incoming incoming, long version) {
    }

    /**
     * Follows one LU's record on this node: on every request (and every resync) reads the record,
     * hands each new version to the node's watcher, and acknowledges the requests it satisfies —
     * one version at a time, on one thread, so the watcher is never called concurrently for the LU.
     */
    private final class Follower extends RecordFollower {

        /** Guarded by itself. */
        private final List<Request> pending = new ArrayList<>();

        Follower(String luId, LuStateWatcher watcher) {
            super(luId, watcher, versionGaps);
        }

        void start() {
            start(Thread.ofPlatform().daemon().name("tandem-rados-follow-" + nodeId() + "-" + luId));
        }

        @Override
        void stop() {
            super.stop();
            // Left: nobody needs to wait for this node on this LU any more.
            List<Request> left;
            synchronized (pending) {
                left = new ArrayList<>(pending);
                pending.clear();
            }
            left.forEach(r -> ack(r.incoming(), nodeId() + " -"));
        }

        void requested(Incoming in, long version) {
            synchronized (pending) {
                pending.add(new Request(in, version));
            }
            wake();
            if (stopped) {
                stop();
            }
        }

        /** The session was renewed: requests of the old watch are void, and the next catch-up may jump. */
        @Override
        void rejoining() {
            super.rejoining();
            synchronized (pending) {
                pending.clear();
            }
        }

        @Override
        boolean serving() {
            return servingSignal.serving();
        }

        /** Reads the record and applies it if it is newer. */
        @Override
        void catchUp() throws InterruptedException {
            Session s = usableSession();
            boolean renewed = gapExpected;
            RecordRead rr;
            try {
                rr = readJoinedRecord(s, this);
            } catch (CephException e) {
                throw failure(s, "reading LU " + luId, e);
            }
            applyIfNewer(rr.stored(), renewed);
            if (s == session) {
                gapExpected = false;
            }
        }

        /** Acknowledges every request of the current session that the applied version satisfies. */
        @Override
        void afterRound() {
            LuState now = applied;
            Session current = session;
            List<Request> due = new ArrayList<>();
            synchronized (pending) {
                pending.removeIf(r -> {
                    if (r.incoming().session() != current) {
                        return true; // an old session's watch: the notifier no longer counts it
                    }
                    if (now != null && now.version() >= r.version()) {
                        due.add(r);
                        return true;
                    }
                    return false;
                });
            }
            for (Request r : due) {
                ack(r.incoming(), nodeId() + " " + now.version());
            }
        }
    }

    @Override
    public String toString() {
        return "RadosCoordinator[" + nodeId() + " @ " + settings.pool() + "/" + settings.objectPrefix() + "]";
    }
}
