package io.tandem.server;

import io.tandem.cluster.Coordinator;
import io.tandem.cluster.LocalCoordinator;
import io.tandem.iscsi.IscsiServer;
import io.tandem.iscsi.IscsiTargetConfig;
import io.tandem.scsi.LunAcl;
import io.tandem.scsi.LunSpec;
import io.tandem.scsi.ScsiTarget;
import io.tandem.scsi.TargetPortGroup;
import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.LuIdentity;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One running Tandem node: its LUN devices, SCSI target and iSCSI portals. LUNs and their
 * initiator lists can change while sessions run ({@link #addLun}, {@link #removeLun},
 * {@link #changeLunInitiators}, or all at once from an edited configuration with
 * {@link #reconfigure}); initiators learn of it through REPORTED LUNS DATA HAS CHANGED.
 */
public final class TandemNode implements AutoCloseable {
    /** Subdirectory of the data directory where the local coordinator keeps LU state (APTPL reservations). */
    public static final String STATE_DIRECTORY = "state";

    /** This node's relative target port id and ALUA target port group (a cluster gives each node its own). */
    static final int RELATIVE_TARGET_PORT = 1;
    static final int TARGET_PORT_GROUP = 1;
    /** Longest a LUN removal waits for its device to drain and close. */
    private static final long REMOVAL_WAIT_SECONDS = 60;

    private volatile NodeConfig config;
    private final Coordinator coordinator;
    private final ScsiTarget scsiTarget;
    private final IscsiServer iscsi;
    private final Consumer<String> events;
    private final Function<BlockDevice, BlockDevice> deviceDecorator;
    private volatile boolean closed;

    private TandemNode(NodeConfig config, Coordinator coordinator, ScsiTarget scsiTarget, IscsiServer iscsi,
                       Consumer<String> events, Function<BlockDevice, BlockDevice> deviceDecorator) {
        this.config = config;
        this.coordinator = coordinator;
        this.scsiTarget = scsiTarget;
        this.iscsi = iscsi;
        this.events = events;
        this.deviceDecorator = deviceDecorator;
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
        Coordinator coordinator = LocalCoordinator.persistent(config.dataDir().resolve(STATE_DIRECTORY));
        try {
            for (LunConfig lun : config.luns()) {
                specs.add(spec(lun, open(config.dataDir(), lun, deviceDecorator)));
            }
            ScsiTarget scsiTarget = new ScsiTarget(config.targetName(), specs, LuIdentity.DEFAULT_COMPANY_ID, coordinator);
            for (LunConfig lun : config.luns()) {
                scsiTarget.changeAcl(lun.number(), LunAcl.only(lun.initiators()));
            }
            IscsiTargetConfig iscsiConfig = new IscsiTargetConfig(config.targetName(), config.targetAlias(), 1,
                    RELATIVE_TARGET_PORT, TARGET_PORT_GROUP, config.portals(), 128, config.nopInterval(),
                    config.nopTimeout(), config.chap(), config.mutualChap(), new HashSet<>(config.initiators()));
            // One node, one target port group holding its one target port (REPORT TARGET PORT GROUPS, VPD 83h).
            scsiTarget.targetPortGroups(List.of(new TargetPortGroup(TARGET_PORT_GROUP, List.of(RELATIVE_TARGET_PORT))));
            IscsiServer iscsi = new IscsiServer(iscsiConfig, scsiTarget, events);
            try {
                iscsi.start();
            } catch (IOException e) {
                scsiTarget.close();
                throw e;
            }
            return new TandemNode(config, coordinator, scsiTarget, iscsi, events, deviceDecorator);
        } catch (IOException | RuntimeException e) {
            coordinator.close();
            for (LunSpec spec : specs) {
                spec.device().close();
            }
            throw e;
        }
    }

    private static LunSpec spec(LunConfig lun, BlockDevice device) {
        return new LunSpec(lun.number(), lun.name(), device, lun.readOnly(), lun.physicalBlockSize(), lun.removable());
    }

    /** Opens the LUN's device and wraps it with the decorator (closing it if that fails). */
    private static BlockDevice open(Path dataDir, LunConfig lun, Function<BlockDevice, BlockDevice> decorator)
            throws IOException {
        BlockDevice opened = open(dataDir, lun);
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
        };
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
        scsiTarget.changeAccessState(TARGET_PORT_GROUP, state).join();
        events.accept("target port group " + TARGET_PORT_GROUP + " is now " + state);
    }

    // ------------------------------------------------------------------ live LUN changes

    /** Opens the LUN's device and exports it; sessions that see it get REPORTED LUNS DATA HAS CHANGED. */
    public synchronized void addLun(LunConfig lun) throws IOException {
        events.accept(add(lun));
    }

    private String add(LunConfig lun) throws IOException {
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.add(lun);
        NodeConfig updated = config.withLuns(luns); // validates: number and name unused
        BlockDevice device = open(config.dataDir(), lun, deviceDecorator);
        try {
            scsiTarget.addLogicalUnit(spec(lun, device), LunAcl.only(lun.initiators()));
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        config = updated;
        return "lun " + lun.number() + " (" + lun.name() + ") added: " + describe(lun);
    }

    /**
     * Stops exporting a LUN: it disappears for every session at once; commands running on it finish
     * (or are aborted after the SCSI target's drain time), then its device is flushed and closed
     * before this returns. Its backing file is left in place.
     */
    public synchronized void removeLun(int number) throws IOException {
        events.accept(remove(number));
    }

    private String remove(int number) throws IOException {
        LunConfig lun = lun(number);
        List<LunConfig> luns = new ArrayList<>(config.luns());
        luns.remove(lun);
        NodeConfig updated = config.withLuns(luns); // refuses to remove the last LUN
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
        events.accept(changeInitiators(number, initiators));
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
     * Applies an edited configuration: LUNs added, removed, or with a changed initiator list take
     * effect at once (one event line per change); other differences (portals, CHAP, target name,
     * a LUN's backing or size) need a restart and are reported as ignored. Returns the event lines.
     */
    public synchronized List<String> reconfigure(NodeConfig wanted) {
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
            } else if (!old.sameDeviceAs(lun)) {
                report.accept("lun " + lun.number() + " (" + old.name() + ") changed its device settings: remove it and "
                        + "add it again (or restart) to apply; ignored");
            } else if (!old.equals(lun)) {
                tryChange(report, "changing lun " + lun.number() + " initiators",
                        () -> changeInitiators(lun.number(), lun.initiators()));
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
        iscsi.shutdown(config.shutdownGrace());
        scsiTarget.close();
        coordinator.close();
    }
}
