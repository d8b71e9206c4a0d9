package io.tandem.server;

import io.tandem.cluster.Coordinator;
import io.tandem.cluster.LocalCoordinator;
import io.tandem.iscsi.IscsiServer;
import io.tandem.iscsi.IscsiTargetConfig;
import io.tandem.scsi.LunSpec;
import io.tandem.scsi.ScsiTarget;
import io.tandem.scsi.core.LuIdentity;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** One running Tandem node: its LUN devices, SCSI target and iSCSI portals. */
public final class TandemNode implements AutoCloseable {
    /** Subdirectory of the data directory where the local coordinator keeps LU state (APTPL reservations). */
    public static final String STATE_DIRECTORY = "state";

    private final NodeConfig config;
    private final Coordinator coordinator;
    private final ScsiTarget scsiTarget;
    private final IscsiServer iscsi;
    private volatile boolean closed;

    private TandemNode(NodeConfig config, Coordinator coordinator, ScsiTarget scsiTarget, IscsiServer iscsi) {
        this.config = config;
        this.coordinator = coordinator;
        this.scsiTarget = scsiTarget;
        this.iscsi = iscsi;
    }

    public static TandemNode start(NodeConfig config) throws IOException {
        return start(config, line -> { });
    }

    /** Opens every LUN, then listens. {@code events} gets one line per login, logout and dropped connection. */
    public static TandemNode start(NodeConfig config, Consumer<String> events) throws IOException {
        Files.createDirectories(config.dataDir());
        List<LunSpec> specs = new ArrayList<>();
        Coordinator coordinator = LocalCoordinator.persistent(config.dataDir().resolve(STATE_DIRECTORY));
        try {
            for (LunConfig lun : config.luns()) {
                specs.add(new LunSpec(lun.number(), lun.name(), open(config.dataDir(), lun), lun.readOnly()));
            }
            ScsiTarget scsiTarget = new ScsiTarget(config.targetName(), specs, LuIdentity.DEFAULT_COMPANY_ID, coordinator);
            IscsiTargetConfig iscsiConfig = new IscsiTargetConfig(config.targetName(), config.targetAlias(), 1, 1, 1,
                    config.portals(), 128, config.nopInterval(), config.nopTimeout(), config.chap(), config.mutualChap());
            IscsiServer iscsi = new IscsiServer(iscsiConfig, scsiTarget, events);
            try {
                iscsi.start();
            } catch (IOException e) {
                scsiTarget.close();
                throw e;
            }
            return new TandemNode(config, coordinator, scsiTarget, iscsi);
        } catch (IOException | RuntimeException e) {
            coordinator.close();
            for (LunSpec spec : specs) {
                spec.device().close();
            }
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

    public NodeConfig config() {
        return config;
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
