package io.tandem.server;

import io.tandem.cluster.ConfigConflictException;
import io.tandem.cluster.ConfigEntry;
import io.tandem.cluster.ConfigStore;
import io.tandem.cluster.Coordinator;
import io.tandem.cluster.CoordinatorException;
import io.tandem.cluster.LocalCoordinator;
import io.tandem.cluster.Member;
import io.tandem.cluster.MembershipListener;
import io.tandem.cluster.ServingListener;
import io.tandem.iscsi.IscsiServer;
import io.tandem.iscsi.IscsiTargetConfig;
import io.tandem.scsi.LunAcl;
import io.tandem.scsi.LunSpec;
import io.tandem.scsi.ScsiTarget;
import io.tandem.scsi.TargetPortGroup;
import io.tandem.scsi.alua.AluaMode;
import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.LuIdentity;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import io.tandem.storage.rbd.RbdBlockDevice;
import io.tandem.storage.rbd.RbdSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One running Tandem node: its LUN devices, SCSI target and iSCSI portals. LUNs and their
 * initiator lists can change while sessions run ({@link #addLun}, {@link #removeLun},
 * {@link #changeLunInitiators}, or all at once from an edited configuration with
 * {@link #reconfigure}); initiators learn of it through REPORTED LUNS DATA HAS CHANGED.
 *
 * <p>A node standing alone keeps its LU state with the {@link LocalCoordinator}. A cluster node
 * ({@link NodeConfig#cluster()}) keeps it in ZooKeeper and is one target port group of the cluster
 * (its id, portal group tag and relative target port id are its node id). It takes the target, LUN
 * and ACL configuration from the cluster ({@link ClusterDocument}) and follows every change of it;
 * LUN changes made through this class are published to the cluster, so every node makes them. It
 * publishes its portals as a member (SendTargets on any node lists every live node's), records its
 * group in the cluster's node registry ({@link ClusterNodes}: REPORT TARGET PORT GROUPS lists every
 * node, a dead one as Unavailable), and brings the LUs' ALUA states in line with the membership
 * whenever it changes. While its coordinator is not {@linkplain Coordinator#serving() serving}
 * the SCSI target refuses commands (self-fencing, see {@link ScsiTarget#fence}).
 */
public final class TandemNode implements AutoCloseable {
    /** Subdirectory of the data directory where the local coordinator keeps LU state (APTPL reservations). */
    public static final String STATE_DIRECTORY = "state";
    private static final System.Logger LOG = System.getLogger(TandemNode.class.getName());

    /** Longest a LUN removal waits for its device to drain and close. */
    private static final long REMOVAL_WAIT_SECONDS = 60;
    /** Longest a cluster configuration change may take to be stored and applied on this node. */
    private static final long PUBLISH_WAIT_SECONDS = 60;

    private volatile NodeConfig config;
    private final Coordinator coordinator;
    private final ScsiTarget scsiTarget;
    private final IscsiServer iscsi;
    private final Consumer<String> events;
    private final Function<BlockDevice, BlockDevice> deviceDecorator;
    /** Cluster events (membership, configuration) are handled here, in order, off the coordinator's thread. */
    private final ExecutorService clusterEvents;
    /** Version of the cluster configuration document this node applied last; guarded by this. */
    private long appliedClusterVersion;
    private volatile boolean closed;
    private MembershipListener membershipListener;
    /** The live groups last reported (cluster events thread only). */
    private Set<Integer> lastLiveGroups = Set.of();
    private ConfigStore.ConfigListener configListener;
    private ServingListener servingListener;
    /** Fences lost nodes' rbd clients, and lists this node's own. */
    private final RbdFencer rbdFencer;
    /** What this node announces, less its fence targets (set once its portals are bound). */
    private volatile Member announcedBase;

    private TandemNode(NodeConfig config, Coordinator coordinator, ScsiTarget scsiTarget, IscsiServer iscsi,
                       Consumer<String> events, Function<BlockDevice, BlockDevice> deviceDecorator,
                       long appliedClusterVersion, RbdFencer rbdFencer) {
        this.rbdFencer = rbdFencer;
        this.config = config;
        this.coordinator = coordinator;
        this.scsiTarget = scsiTarget;
        this.iscsi = iscsi;
        this.events = events;
        this.deviceDecorator = deviceDecorator;
        this.appliedClusterVersion = appliedClusterVersion;
        this.clusterEvents = config.cluster() == null ? null
                : Executors.newSingleThreadExecutor(Thread.ofVirtual().name("cluster-events-" + config.nodeId()).factory());
    }

    public static TandemNode start(NodeConfig config) throws IOException {
        return start(config, line -> { });
    }

    /** Opens every LUN, then listens. {@code events} gets one line per login, logout and dropped connection. */
    public static TandemNode start(NodeConfig config, Consumer<String> events) throws IOException {
        return start(config, events, Function.identity());
    }

    /**
     * As {@link #start(NodeConfig, Consumer)}, with every LUN's opened device passed through
     * {@code deviceDecorator} before the SCSI target sees it. For embedding (instrumentation, fault
     * injection) and tests (a backend that holds I/O so commands are in flight on purpose); no
     * configuration file or flag reaches it. LUNs added later ({@link #addLun}) are wrapped too.
     * The decorator must keep the device's geometry.
     */
    public static TandemNode start(NodeConfig config, Consumer<String> events,
                                   Function<BlockDevice, BlockDevice> deviceDecorator) throws IOException {
        Files.createDirectories(config.dataDir());
        List<LunSpec> specs = new ArrayList<>();
        Coordinator coordinator = config.cluster() == null
                ? LocalCoordinator.persistent(config.dataDir().resolve(STATE_DIRECTORY))
                : Coordinators.open(config);
        // Set before any LUN is announced: a lost node's rbd clients are blocklisted before the
        // cluster goes on without it.
        RbdFencer rbdFencer = new RbdFencer();
        coordinator.setFencer(rbdFencer);
        try {
            long clusterVersion = 0;
            if (config.cluster() != null) {
                ConfigEntry shared = clusterConfiguration(config, coordinator, events);
                if (shared != null) {
                    config = ClusterDocument.apply(config, shared.value());
                    clusterVersion = shared.version();
                } else {
                    config = config.withLuns(List.of());
                }
            }
            for (LunConfig lun : config.luns()) {
                specs.add(spec(lun, open(config.dataDir(), lun, deviceDecorator, rbdFencer)));
            }
            ScsiTarget scsiTarget = new ScsiTarget(config.targetName(), specs, LuIdentity.DEFAULT_COMPANY_ID, coordinator);
            for (LunConfig lun : config.luns()) {
                scsiTarget.changeAcl(lun.number(), LunAcl.only(lun.initiators()));
                scsiTarget.changeAluaMode(lun.number(), lun.alua());
            }
            int group = config.targetPortGroup();
            IscsiTargetConfig iscsiConfig = new IscsiTargetConfig(config.targetName(), config.targetAlias(), group,
                    group, group, config.portals(), 128, config.nopInterval(),
                    config.nopTimeout(), config.chap(), config.mutualChap(), new HashSet<>(config.initiators()));
            // This node is one target port group holding its one target port (REPORT TARGET PORT GROUPS,
            // VPD 83h); a cluster adds the other nodes' groups as it learns of them.
            scsiTarget.targetPortGroups(List.of(ownGroup(config)));
            scsiTarget.localTargetPortGroup(group);
            IscsiServer iscsi = new IscsiServer(iscsiConfig, scsiTarget, events);
            try {
                iscsi.start();
            } catch (IOException e) {
                scsiTarget.close();
                throw e;
            }
            TandemNode node = new TandemNode(config, coordinator, scsiTarget, iscsi, events, deviceDecorator, clusterVersion, rbdFencer);
            node.joinCluster();
            return node;
        } catch (IOException | RuntimeException e) {
            coordinator.close();
            for (LunSpec spec : specs) {
                spec.device().close();
            }
            throw e;
        }
    }

    private static TargetPortGroup ownGroup(NodeConfig config) {
        return new TargetPortGroup(config.targetPortGroup(), List.of(config.targetPortGroup()));
    }

    /**
     * The cluster's configuration, seeding it from this node's file if the cluster has none yet (the
     * first node to get there wins; the others apply its document). Null when neither exists: the
     * node then serves no LUN until the cluster gets a configuration.
     */
    private static ConfigEntry clusterConfiguration(NodeConfig node, Coordinator coordinator, Consumer<String> events) {
        ConfigStore store = coordinator.config();
        ConfigEntry stored = store.get(ClusterDocument.KEY).orElse(null);
        if (stored == null && !node.luns().isEmpty()) {
            try {
                stored = store.put(ClusterDocument.KEY, ClusterDocument.render(node), ConfigStore.ABSENT)
                        .get(PUBLISH_WAIT_SECONDS, TimeUnit.SECONDS);
                events.accept("cluster configuration created from this node's file (version " + stored.version() + ")");
                return stored;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ConfigConflictException)) {
                    throw new CoordinatorException("cannot store the cluster configuration: " + e.getCause(), e.getCause());
                }
                stored = awaitEntry(store, ClusterDocument.KEY); // another node was first
            } catch (TimeoutException e) {
                throw new CoordinatorException("storing the cluster configuration timed out", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CoordinatorException("interrupted storing the cluster configuration", e);
            }
        }
        if (stored == null) {
            events.accept("the cluster has no configuration yet: serving no LUN until it gets one");
            return null;
        }
        NodeConfig shared = ClusterDocument.apply(node, stored.value());
        if (!node.luns().isEmpty() && !shared.sameClusterWide(node)) {
            events.accept("this node's file differs from the cluster configuration (version " + stored.version()
                    + "), which applies; reload (SIGHUP) to publish the file's");
        }
        return stored;
    }

    /** An entry another node just stored: this node's cache may take a moment to show it. */
    private static ConfigEntry awaitEntry(ConfigStore store, String key) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PUBLISH_WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            var entry = store.get(key);
            if (entry.isPresent()) {
                return entry.get();
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new CoordinatorException("the cluster configuration was stored by another node but never showed here");
    }

    // ------------------------------------------------------------------ cluster membership

    /**
     * Becomes a visible member: records this node's group in the registry, publishes its portals,
     * and from then on follows the membership (target port groups, ALUA states, SendTargets) and
     * the cluster configuration. A node standing alone is its own, only member.
     */
    private void joinCluster() {
        NodeConfig c = config;
        int group = c.targetPortGroup();
        List<Member.Portal> portals = new ArrayList<>();
        for (InetSocketAddress p : iscsi.portals()) {
            portals.add(new Member.Portal(p.getAddress().getHostAddress(), p.getPort()));
        }
        if (c.cluster() != null) {
            membershipListener = members -> clusterEvents.execute(this::membershipChanged);
            coordinator.addMembershipListener(membershipListener);
            // Back in the cluster after a suspension: judge the membership afresh (a fenced node judged nobody).
            servingListener = serving -> {
                if (serving) {
                    clusterEvents.execute(this::membershipChanged);
                    // Back after the cluster declared this node lost? Its rbd clients were fenced.
                    Thread.ofVirtual().name("rbd-renew-" + config.nodeId()).start(this::renewFencedRbdClients);
                }
            };
            coordinator.addServingListener(servingListener);
            configListener = (key, entry) -> clusterEvents.execute(() -> configChanged(key, entry));
            coordinator.config().addListener(configListener);
            iscsi.advertise(() -> ClusterNodes.portals(coordinator.members(), iscsi.ownPortals(), group));
        }
        announcedBase = new Member(coordinator.nodeId(), portals, group, group, List.of(group));
        announceSelf();
        if (c.cluster() != null) {
            // Recorded after announcing: a group the others learn of is then live from the start,
            // never Unavailable for the moment between the two.
            registerGroup(ownGroup(c));
            clusterEvents.execute(this::membershipChanged);
            // A change stored between reading the configuration and registering the listener.
            clusterEvents.execute(() -> coordinator.config().get(ClusterDocument.KEY)
                    .ifPresent(e -> configChanged(ClusterDocument.KEY, e)));
        } else {
            scsiTarget.membership(Set.of(group));
        }
    }

    /**
     * Reopens, through new Ceph clients, the rbd LUNs whose clients the cluster blocklisted (this
     * node was declared lost and is back), then publishes the new clients as fence targets.
     */
    private void renewFencedRbdClients() {
        try {
            if (!closed && rbdFencer.renewFenced()) {
                announceSelf();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "renewing fenced rbd clients failed (the LUNs answer FENCED until the"
                    + " node restarts): " + e, e);
        }
    }

    /** Publishes this node's member record with the fence targets of the LUNs it has open now. */
    private void announceSelf() {
        Member base = announcedBase;
        if (base != null) {
            coordinator.announce(base.withFenceTargets(rbdFencer.targets()));
        }
    }

    private void registerGroup(TargetPortGroup group) {
        String key = ClusterNodes.key(config.nodeId());
        byte[] wanted = ClusterNodes.render(group);
        var stored = coordinator.config().get(key);
        if (stored.isPresent() && java.util.Arrays.equals(stored.get().value(), wanted)) {
            return;
        }
        try {
            coordinator.config().put(key, wanted, ConfigStore.ANY).get(PUBLISH_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new CoordinatorException("cannot record node " + config.nodeId() + " in the cluster: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoordinatorException("interrupted recording this node in the cluster", e);
        }
    }

    /** The membership changed: every group known, live ones marked, ALUA states reconciled. */
    private void membershipChanged() {
        if (closed) {
            return;
        }
        List<Member> members = updateGroups();
        Set<Integer> live = ClusterNodes.liveGroups(members);
        if (!live.equals(lastLiveGroups)) {
            events.accept("cluster members: live target port groups " + live + " (known: "
                    + scsiTarget.targetPortGroups().stream().map(TargetPortGroup::id).toList() + ")");
            lastLiveGroups = live;
        }
        if (coordinator.serving()) {
            // Only a node that is itself in the cluster may judge who else is: a fenced node's view is stale.
            scsiTarget.membership(live);
        }
    }

    /**
     * Lists every known group for REPORT TARGET PORT GROUPS; returns the members it saw. Alone this
     * judges nobody: a node records its group only after announcing itself, but this node's view
     * of the registry may run ahead of its view of the membership, and judging then would flap a
     * joining node's group to Unavailable and back. Liveness is judged on membership changes only.
     */
    private List<Member> updateGroups() {
        List<Member> members = coordinator.members();
        List<TargetPortGroup> known = new ArrayList<>(ClusterNodes.knownGroups(coordinator.config().entries(), members));
        if (known.stream().noneMatch(g -> g.id() == config.targetPortGroup())) {
            known.add(ownGroup(config));
        }
        scsiTarget.targetPortGroups(known);
        return members;
    }

    private void configChanged(String key, ConfigEntry entry) {
        if (closed) {
            return;
        }
        if (key.startsWith(ClusterNodes.KEY_PREFIX)) {
            updateGroups();
        } else if (key.equals(ClusterDocument.KEY) && entry != null) {
            applyClusterConfiguration(entry);
        }
    }

    /** Applies a version of the cluster configuration document (once, in version order; older ones are skipped). */
    private synchronized void applyClusterConfiguration(ConfigEntry entry) {
        if (entry.version() <= appliedClusterVersion) {
            return;
        }
        NodeConfig wanted;
        try {
            wanted = ClusterDocument.apply(config, entry.value());
        } catch (ConfigException e) {
            events.accept("cluster configuration version " + entry.version() + " refused: " + e.getMessage());
            appliedClusterVersion = entry.version();
            notifyAll();
            return;
        }
        events.accept("applying cluster configuration version " + entry.version());
        applyLocally(wanted);
        appliedClusterVersion = entry.version();
        notifyAll();
    }

    /**
     * Stores a new cluster-wide configuration (compare-and-set on the version this node applied) and
     * returns once this node has applied it; the other nodes apply it as they hear of it.
     */
    private synchronized String publish(NodeConfig wanted) {
        long base = appliedClusterVersion;
        ConfigEntry stored;
        try {
            stored = coordinator.config().put(ClusterDocument.KEY, ClusterDocument.render(wanted),
                    base == 0 ? ConfigStore.ABSENT : base).get(PUBLISH_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConfigConflictException) {
                throw new IllegalStateException("the cluster configuration changed meanwhile (this node applied version "
                        + base + "); try again");
            }
            throw new CoordinatorException("cannot store the cluster configuration: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new CoordinatorException("storing the cluster configuration timed out", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoordinatorException("interrupted storing the cluster configuration", e);
        }
        // Apply it here now (the listener would too, later; whichever comes second finds nothing to do).
        applyClusterConfiguration(stored);
        return "cluster configuration version " + stored.version() + " published";
    }

    private static LunSpec spec(LunConfig lun, BlockDevice device) {
        return new LunSpec(lun.number(), lun.name(), device, lun.readOnly(), lun.physicalBlockSize(), lun.removable());
    }

    /** Opens the LUN's device and wraps it with the decorator (closing it if that fails). */
    private static BlockDevice open(Path dataDir, LunConfig lun, Function<BlockDevice, BlockDevice> decorator, RbdFencer fencer)
            throws IOException {
        BlockDevice opened = open(dataDir, lun);
        if (opened instanceof RenewableRbdDevice rbd) {
            fencer.register(rbd);
        }
        try {
            return decorator.apply(opened);
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    private static BlockDevice open(Path dataDir, LunConfig lun) throws IOException {
        return switch (lun.backend()) {
            case MEMORY -> new MemoryBlockDevice(lun.blockSize(), lun.sizeBytes() / lun.blockSize());
            case FILE -> {
                Path file = lun.file() != null ? dataDir.resolve(lun.file()) : dataDir.resolve(lun.name() + ".img");
                try {
                    yield FileBlockDevice.open(file, lun.sizeBytes(), lun.blockSize(), lun.readOnly());
                } catch (IllegalArgumentException e) {
                    throw new ConfigException("luns[" + lun.number() + "]", e.getMessage());
                }
            }
            case RBD -> openRbd(lun);
        };
    }

    /** The rbd LUN's image, created first if the configuration asks for it and it does not exist. */
    private static BlockDevice openRbd(LunConfig lun) throws IOException {
        RbdSettings settings = rbdSettings(lun.rbd());
        try {
            if (lun.rbd().createBytes() > 0 && !lun.readOnly()) {
                RbdBlockDevice.createImage(settings, lun.rbd().createBytes());
            }
            return new RenewableRbdDevice(settings, lun.blockSize(), lun.readOnly());
        } catch (RuntimeException e) {
            // e.g. CephUnavailableException (the client libraries are not installed) or a connection failure
            throw new IOException("LUN " + lun.number() + " (rbd " + settings.spec() + "): " + e.getMessage(), e);
        }
    }

    static RbdSettings rbdSettings(LunConfig.Rbd rbd) {
        return new RbdSettings(rbd.pool(), rbd.image(), rbd.cephConf(), rbd.clientId(), rbd.keyring());
    }

    /** The configuration as currently applied (LUN changes included). */
    public NodeConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ ALUA

    /**
     * An implicit ALUA transition of this node's target port group for every LUN (e.g. Standby or
     * Unavailable to drain the node before maintenance, Active/Optimized to bring it back). Every
     * session gets ASYMMETRIC ACCESS STATE CHANGED; returns once the change is applied.
     */
    public void changeAccessState(AluaState state) {
        int group = config.targetPortGroup();
        scsiTarget.changeAccessState(group, state).join();
        events.accept("target port group " + group + " is now " + state);
    }

    /** The SCSI target (for embedding and tests: its fence, LUs and groups). */
    public ScsiTarget scsiTarget() {
        return scsiTarget;
    }

    /** This node's coordinator (local, or the cluster's). */
    public Coordinator coordinator() {
        return coordinator;
    }

    // ------------------------------------------------------------------ live LUN changes

    /**
     * Opens the LUN's device and exports it; sessions that see it get REPORTED LUNS DATA HAS CHANGED.
     * In a cluster the change is published, and every node makes it; this returns once this node has.
     */
    public synchronized void addLun(LunConfig lun) throws IOException {
        if (config.cluster() != null) {
            List<LunConfig> luns = new ArrayList<>(config.luns());
            luns.add(lun);
            events.accept(publish(config.withLuns(luns)));
            requireApplied(lun.number(), true);
            return;
        }
        events.accept(add(lun));
    }

    /** After publishing: whether this node's share of the change took effect (a failure here is only logged). */
    private void requireApplied(int number, boolean present) throws IOException {
        if ((scsiTarget.logicalUnit(number) != null) != present) {
            throw new IOException("LUN " + number + " could not be " + (present ? "added" : "removed")
                    + " on this node; see its log");
        }
    }

    private String add(LunConfig lun) throws IOException {
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.add(lun);
        NodeConfig updated = config.withLuns(luns); // validates: number and name unused
        BlockDevice device = open(config.dataDir(), lun, deviceDecorator, rbdFencer);
        try {
            scsiTarget.addLogicalUnit(spec(lun, device), LunAcl.only(lun.initiators()), lun.alua());
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        config = updated;
        announceSelf(); // an rbd LUN adds a Ceph client to fence
        return "lun " + lun.number() + " (" + lun.name() + ") added: " + describe(lun);
    }

    /**
     * Stops exporting a LUN: it disappears for every session at once; commands running on it finish
     * (or are aborted after the SCSI target's drain time), then its device is flushed and closed
     * before this returns. Its backing file is left in place.
     */
    public synchronized void removeLun(int number) throws IOException {
        if (config.cluster() != null) {
            LunConfig lun = lun(number);
            List<LunConfig> luns = new ArrayList<>(config.luns());
            luns.remove(lun);
            events.accept(publish(config.withLuns(luns)));
            requireApplied(number, false);
            return;
        }
        events.accept(remove(number));
    }

    private String remove(int number) throws IOException {
        LunConfig lun = lun(number);
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.remove(lun);
        NodeConfig updated = config.withLuns(luns); // refuses to remove the last LUN (of a node standing alone)
        var removed = scsiTarget.removeLogicalUnit(number);
        config = updated;
        try {
            removed.get(REMOVAL_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("LUN " + number + " removed, but its device did not close cleanly: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for LUN " + number + " to drain", e);
        }
        return "lun " + number + " (" + lun.name() + ") removed";
    }

    /** Changes which initiators see a LUN (empty: everyone); sessions whose view changes get REPORTED LUNS DATA HAS CHANGED. */
    public synchronized void changeLunInitiators(int number, List<String> initiators) {
        if (config.cluster() != null) {
            LunConfig lun = lun(number);
            List<LunConfig> luns = new ArrayList<>(config.luns());
            luns.set(luns.indexOf(lun), lun.withInitiators(initiators));
            events.accept(publish(config.withLuns(luns)));
            return;
        }
        events.accept(changeInitiators(number, initiators));
    }

    /**
     * Grows a LUN (its file grows sparsely; shrinking is refused): every session that sees it gets
     * CAPACITY DATA HAS CHANGED. In a cluster the change is published and every node grows its view
     * of the shared file; this returns once this node has.
     */
    public synchronized void resizeLun(int number, long sizeBytes) throws IOException {
        LunConfig lun = lun(number);
        if (lun.backend() == LunConfig.Backend.MEMORY) {
            throw new IllegalArgumentException("LUN " + number + " is held in memory: it cannot grow");
        }
        if (sizeBytes < lun.sizeBytes() || sizeBytes % lun.blockSize() != 0) {
            throw new IllegalArgumentException("LUN " + number + " can grow to a multiple of " + lun.blockSize()
                    + " bytes above " + lun.sizeBytes() + ", not " + sizeBytes);
        }
        if (config.cluster() != null) {
            List<LunConfig> luns = new ArrayList<>(config.luns());
            luns.set(luns.indexOf(lun), lun.withSize(sizeBytes));
            events.accept(publish(config.withLuns(luns)));
            if (scsiTarget.logicalUnit(number).blockCount() * lun.blockSize() < sizeBytes) {
                throw new IOException("LUN " + number + " did not grow on this node; see its log");
            }
            return;
        }
        events.accept(grow(lun.withSize(sizeBytes)));
    }

    private String grow(LunConfig lun) throws IOException {
        LunConfig old = lun(lun.number());
        try {
            scsiTarget.resizeLogicalUnit(lun.number(), lun.sizeBytes() / lun.blockSize())
                    .get(PUBLISH_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("LUN " + lun.number() + " did not grow: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted growing LUN " + lun.number(), e);
        }
        if (scsiTarget.logicalUnit(lun.number()).blockCount() * lun.blockSize() < lun.sizeBytes()) {
            throw new IOException("its device cannot grow (a memory LUN, or a block device too small)");
        }
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.set(luns.indexOf(old), lun);
        config = config.withLuns(luns);
        return "lun " + lun.number() + " (" + lun.name() + ") grown: " + old.sizeBytes() / (1 << 20) + " -> "
                + lun.sizeBytes() / (1 << 20) + " MiB";
    }

    private String changeAlua(int number, AluaMode mode) {
        LunConfig lun = lun(number);
        LunConfig changed = lun.withAlua(mode);
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.set(luns.indexOf(lun), changed);
        NodeConfig updated = config.withLuns(luns);
        scsiTarget.changeAluaMode(number, mode);
        config = updated;
        return "lun " + number + " (" + lun.name() + ") ALUA: " + lun.alua().configName() + " -> " + mode.configName();
    }

    private String changeInitiators(int number, List<String> initiators) {
        LunConfig lun = lun(number);
        LunConfig changed = lun.withInitiators(initiators);
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.set(luns.indexOf(lun), changed);
        NodeConfig updated = config.withLuns(luns);
        scsiTarget.changeAcl(number, LunAcl.only(changed.initiators()));
        config = updated;
        return "lun " + number + " (" + lun.name() + ") initiators: " + initiatorList(lun) + " -> "
                + initiatorList(changed);
    }

    /**
     * Applies an edited configuration: LUNs added, removed, or with a changed initiator list or ALUA
     * mode take effect at once (one event line per change); other differences (portals, CHAP, target
     * name, a LUN's backing or size) need a restart and are reported as ignored. Returns the event lines.
     *
     * <p>In a cluster, the node's own settings are compared as above, and a file that lists LUNs
     * publishes its target, CHAP and LUN sections as the cluster's new configuration, which every
     * node then applies (this one before this returns).
     */
    public synchronized List<String> reconfigure(NodeConfig wanted) {
        if (config.cluster() == null) {
            return applyLocally(wanted);
        }
        List<String> lines = new ArrayList<>();
        Consumer<String> report = line -> {
            lines.add(line);
            events.accept(line);
        };
        for (String setting : restartOnlyDifferences(config, wanted.withClusterWide(config))) {
            report.accept(setting + " changed: takes effect after a restart; ignored");
        }
        if (!wanted.luns().isEmpty() && !wanted.sameClusterWide(config)) {
            try {
                report.accept(publish(wanted));
            } catch (RuntimeException e) {
                report.accept("publishing the cluster configuration failed: " + e.getMessage());
            }
        }
        if (lines.isEmpty()) {
            report.accept("configuration unchanged");
        }
        return lines;
    }

    /** Makes this node's LUNs, ACLs and ALUA modes what {@code wanted} says (see {@link #reconfigure}). */
    private synchronized List<String> applyLocally(NodeConfig wanted) {
        List<String> lines = new ArrayList<>();
        Consumer<String> report = line -> {
            lines.add(line);
            events.accept(line);
        };
        NodeConfig current = config;
        for (String setting : restartOnlyDifferences(current, wanted)) {
            report.accept(setting + " changed: takes effect after a restart; ignored");
        }
        Map<Integer, LunConfig> have = byNumber(current.luns());
        Map<Integer, LunConfig> want = byNumber(wanted.luns());
        for (LunConfig lun : have.values()) {
            if (!want.containsKey(lun.number())) {
                tryChange(report, "removing lun " + lun.number(), () -> remove(lun.number()));
            }
        }
        for (LunConfig lun : want.values()) {
            LunConfig old = have.get(lun.number());
            if (old == null) {
                tryChange(report, "adding lun " + lun.number(), () -> add(lun));
            } else if (!old.sameDeviceAs(lun) && old.sameDeviceAs(lun.withSize(old.sizeBytes()))
                    && lun.sizeBytes() > old.sizeBytes() && lun.backend() != LunConfig.Backend.MEMORY) {
                tryChange(report, "growing lun " + lun.number(), () -> grow(lun));
            } else if (!old.sameDeviceAs(lun)) {
                report.accept("lun " + lun.number() + " (" + old.name() + ") changed its device settings: remove it and "
                        + "add it again (or restart) to apply; ignored");
            } else {
                if (!old.initiators().equals(lun.initiators())) {
                    tryChange(report, "changing lun " + lun.number() + " initiators",
                            () -> changeInitiators(lun.number(), lun.initiators()));
                }
                if (old.alua() != lun.alua()) {
                    tryChange(report, "changing lun " + lun.number() + " ALUA mode", () -> changeAlua(lun.number(), lun.alua()));
                }
            }
        }
        if (lines.isEmpty()) {
            report.accept("configuration unchanged");
        }
        return lines;
    }

    private interface Change {
        String apply() throws IOException;
    }

    /** Applies one change and reports its line; a failure is reported and the other changes still go ahead. */
    private static void tryChange(Consumer<String> report, String what, Change change) {
        try {
            report.accept(change.apply());
        } catch (IOException | RuntimeException e) {
            report.accept(what + " failed: " + e.getMessage());
        }
    }

    private static List<String> restartOnlyDifferences(NodeConfig a, NodeConfig b) {
        List<String> changed = new ArrayList<>();
        if (!a.targetName().equals(b.targetName())) changed.add("target.name");
        if (!Objects.equals(a.targetAlias(), b.targetAlias())) changed.add("target.alias");
        if (!new HashSet<>(a.initiators()).equals(new HashSet<>(b.initiators()))) changed.add("target.initiators");
        if (!a.portals().equals(b.portals())) changed.add("portals");
        if (!a.dataDir().equals(b.dataDir())) changed.add("data");
        if (!Objects.equals(a.chap(), b.chap()) || !Objects.equals(a.mutualChap(), b.mutualChap())) changed.add("chap");
        if (!a.nopInterval().equals(b.nopInterval()) || !a.nopTimeout().equals(b.nopTimeout())) changed.add("nop");
        return changed;
    }

    private static Map<Integer, LunConfig> byNumber(List<LunConfig> luns) {
        Map<Integer, LunConfig> map = new TreeMap<>();
        for (LunConfig lun : luns) {
            map.put(lun.number(), lun);
        }
        return map;
    }

    private LunConfig lun(int number) {
        return config.luns().stream().filter(l -> l.number() == number).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no LUN " + number));
    }

    private static String describe(LunConfig lun) {
        return lun.sizeBytes() / (1 << 20) + " MiB, " + lun.blockSize() + "-byte blocks, "
                + lun.backend().name().toLowerCase() + ", initiators: " + initiatorList(lun);
    }

    private static String initiatorList(LunConfig lun) {
        return lun.initiators().isEmpty() ? "any" : String.join(", ", lun.initiators());
    }

    /** The first portal's bound address. */
    public InetSocketAddress portal() {
        return iscsi.portals().getFirst();
    }

    public List<InetSocketAddress> portals() {
        return iscsi.portals();
    }

    public String targetName() {
        return config.targetName();
    }

    /** An iscsi:// URL for a LUN on the first portal, as libiscsi and QEMU take it. */
    public String url(int lun) {
        InetSocketAddress p = portal();
        String host = p.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "iscsi://" + host + ":" + p.getPort() + "/" + targetName() + "/" + lun;
    }

    /** Asks initiators to log out, lets in-flight commands finish, flushes and closes every LUN. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (clusterEvents != null) {
            coordinator.removeMembershipListener(membershipListener);
            coordinator.removeServingListener(servingListener);
            coordinator.config().removeListener(configListener);
            clusterEvents.shutdown();
        }
        iscsi.shutdown(config.shutdownGrace());
        scsiTarget.close();
        // Leaving the coordinator ends the membership: the other nodes mark this node's group Unavailable.
        coordinator.close();
        if (clusterEvents != null) {
            try {
                clusterEvents.awaitTermination(REMOVAL_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
