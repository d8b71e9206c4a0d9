package io.tandem.server;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tandem serve}: runs one node until SIGTERM or SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve LUNs over iSCSI. With no options: a sparse 1 GiB file LUN under ./tandem-data on 127.0.0.1:3260.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--portal", paramLabel = "ADDR:PORT", description = "Address to listen on (repeatable). Default 127.0.0.1:3260.")
    List<String> portals;

    @Option(names = "--data", paramLabel = "DIR", description = "Data directory for LUN files and state. Default ./tandem-data.")
    Path data;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration file (flags override it).")
    Path config;

    @Option(names = "--target-name", paramLabel = "IQN", description = "Target name. Default " + NodeConfig.DEFAULT_TARGET_NAME + ".")
    String targetName;

    @Option(names = "--target-alias", paramLabel = "ALIAS", description = "TargetAlias reported at login.")
    String targetAlias;

    @Option(names = "--luns", paramLabel = "N", description = "Number of file LUNs (lun0..lunN-1) when no config file lists LUNs. Default 1.")
    Integer lunCount;

    @Option(names = "--lun-size", paramLabel = "SIZE", description = "Size of each new LUN file, e.g. 1G, 256M. Default 1G.")
    String lunSize;

    @Option(names = "--block-size", paramLabel = "BYTES", description = "Logical block size: 512 or 4096. Default 512.")
    Integer blockSize;

    @Option(names = "--physical-block-size", paramLabel = "BYTES",
            description = "Physical block size reported to initiators, e.g. 4096 with 512-byte blocks (512e). Default: the block size.")
    Integer physicalBlockSize;

    @Option(names = "--removable",
            description = "Make the LUNs removable media (INQUIRY RMB=1): initiators can eject, load and lock them.")
    boolean removable;

    @Option(names = "--memory", description = "Keep LUNs in memory instead of files (contents lost on exit).")
    boolean memory;

    @Option(names = "--chap-user", paramLabel = "NAME", description = "Require CHAP: the initiator's user name.")
    String chapUser;

    @Option(names = "--chap-secret", paramLabel = "SECRET", description = "The initiator's CHAP secret (or env TANDEM_CHAP_SECRET).")
    String chapSecret;

    @Option(names = "--mutual-chap-user", paramLabel = "NAME", description = "Mutual CHAP: the name the target answers with.")
    String mutualUser;

    @Option(names = "--mutual-chap-secret", paramLabel = "SECRET", description = "Mutual CHAP: the target's secret (or env TANDEM_MUTUAL_CHAP_SECRET).")
    String mutualSecret;

    @Option(names = "--nop-interval", paramLabel = "SECONDS", description = "Ping an idle initiator after this long. Default 5; 0 disables.")
    Integer nopInterval;

    @Option(names = "--node-id", paramLabel = "N",
            description = "This node's id in its cluster, 1..65535 (also its ALUA target port group). Default 1.")
    Integer nodeId;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]",
            description = "Join a cluster through this ZooKeeper ensemble: LUNs, target and ACLs then come from the cluster.")
    String zookeeper;

    @Option(names = "--rados-pool", paramLabel = "POOL",
            description = "Join a cluster coordinated through Ceph RADOS instead of ZooKeeper, keeping its state in this pool.")
    String radosPool;

    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "With --rados-pool: the Ceph cluster's ceph.conf. Default: librados' search.")
    Path cephConf;

    @Option(names = "--client-id", paramLabel = "ID", description = "With --rados-pool: the Ceph user client.ID. Default admin.")
    String clientId;

    @Option(names = "--keyring", paramLabel = "FILE", description = "With --rados-pool: that user's keyring. Default: the one ceph.conf names.")
    Path keyring;

    @Option(names = "--cluster-name", paramLabel = "NAME", description = "The cluster's name in its coordinator. Default tandem.")
    String clusterName;

    @Option(names = "--nop-timeout", paramLabel = "SECONDS", description = "Drop an initiator that leaves a ping unanswered this long. Default 15.")
    Integer nopTimeout;

    @Override
    public Integer call() throws Exception {
        NodeConfig nodeConfig = buildConfig();
        CountDownLatch stop = new CountDownLatch(1);
        installSignalHandlers(stop);
        TandemNode node = TandemNode.start(nodeConfig, ServeCommand::event);
        installReloadHandler(node);
        System.out.println("target: " + node.targetName());
        if (nodeConfig.cluster() != null) {
            System.out.println("node " + nodeConfig.nodeId() + " of cluster " + nodeConfig.cluster().name() + " ("
                    + nodeConfig.cluster().where() + ")");
        }
        for (LunConfig lun : node.config().luns()) {
            // the device's size: an rbd image (or an existing file) decides its own
            var unit = node.scsiTarget().logicalUnit(lun.number());
            long bytes = unit != null ? unit.blockCount() * lun.blockSize() : lun.sizeBytes();
            System.out.println("lun " + lun.number() + ": " + node.url(lun.number()) + "  (" + bytes / (1 << 20)
                    + " MiB, " + lun.blockSize() + "-byte blocks, " + lun.backend().name().toLowerCase()
                    + (lun.removable() ? ", removable" : "") + ")");
        }
        for (var portal : node.portals()) {
            System.out.println("listening on " + portal.getAddress().getHostAddress() + ":" + portal.getPort());
        }
        System.out.println("ready");
        System.out.flush();
        stop.await();
        event("shutting down: finishing in-flight commands, flushing LUNs");
        node.close();
        event("stopped");
        return 0;
    }

    NodeConfig buildConfig() {
        NodeConfig.Builder builder = NodeConfig.builder();
        boolean lunsFromFile = false;
        if (config != null) {
            ConfigFile.apply(config, builder);
            lunsFromFile = builder.hasLuns();
        }
        if (portals != null) {
            builder.clearPortals(); // flags replace the file's portal list rather than add to it
            for (String portal : portals) {
                builder.portal(Portals.parse("--portal", portal));
            }
        }
        if (data != null) {
            builder.dataDir(data);
        }
        if (targetName != null) {
            builder.targetName(targetName);
        }
        if (targetAlias != null) {
            builder.targetAlias(targetAlias);
        }
        if (nodeId != null) {
            builder.nodeId(nodeId);
        }
        if (zookeeper != null && radosPool != null) {
            throw new ConfigException("--rados-pool", "a cluster has one coordinator: give --zookeeper or --rados-pool");
        }
        if (radosPool == null && (cephConf != null || clientId != null || keyring != null)) {
            throw new ConfigException(cephConf != null ? "--ceph-conf" : clientId != null ? "--client-id" : "--keyring",
                    "is for the rados coordinator: needs --rados-pool");
        }
        if (zookeeper != null) {
            builder.cluster(ClusterSettings.of(zookeeper, clusterName));
        } else if (radosPool != null) {
            builder.cluster(ClusterSettings.rados(new ClusterSettings.Ceph(cephConf, radosPool, clientId, keyring), clusterName, null));
        } else if (clusterName != null) {
            throw new ConfigException("--cluster-name", "needs --zookeeper or --rados-pool (or a cluster section in the config file)");
        }
        boolean lunFlags = lunCount != null || lunSize != null || blockSize != null || physicalBlockSize != null || memory
                || removable;
        if (lunsFromFile && lunFlags) {
            throw new ConfigException("--luns/--lun-size/--block-size/--physical-block-size/--memory/--removable",
                    "the config file already lists LUNs; set them there");
        }
        // A cluster node takes its LUNs from the cluster; flags only seed a cluster that has none.
        if (!lunsFromFile && (!builder.clustered() || lunFlags)) {
            int count = lunCount == null ? 1 : lunCount;
            if (count < 1 || count > 256) {
                throw new ConfigException("--luns", "must be 1..256, got " + count);
            }
            long size = lunSize == null ? NodeConfig.DEFAULT_LUN_SIZE : Sizes.parse("--lun-size", lunSize);
            int bs = blockSize == null ? 512 : blockSize;
            if (bs != 512 && bs != 4096) {
                throw new ConfigException("--block-size", "must be 512 or 4096, got " + bs);
            }
            if (size % bs != 0) {
                throw new ConfigException("--lun-size", "must be a multiple of the block size " + bs + ", got " + size);
            }
            int physical = physicalBlockSize == null ? 0 : physicalBlockSize;
            for (int i = 0; i < count; i++) {
                LunConfig lun = memory ? LunConfig.memory(i, size, bs) : LunConfig.file(i, size, bs);
                try {
                    builder.lun(physical == 0 && !removable ? lun : new LunConfig(lun.number(), lun.name(), lun.backend(),
                            lun.file(), lun.sizeBytes(), lun.blockSize(), false, List.of(), physical, removable));
                } catch (ConfigException e) {
                    throw new ConfigException("--physical-block-size", e.getMessage().substring(e.field().length() + 2));
                }
            }
        }
        String secret = chapSecret != null ? chapSecret : System.getenv("TANDEM_CHAP_SECRET");
        if (chapUser != null || chapSecret != null) {
            if (chapUser == null || secret == null) {
                throw new ConfigException("--chap-user/--chap-secret", "both are needed to require CHAP");
            }
            builder.chap(chapUser, secret);
        }
        String mSecret = mutualSecret != null ? mutualSecret : System.getenv("TANDEM_MUTUAL_CHAP_SECRET");
        if (mutualUser != null || mutualSecret != null) {
            if (mutualUser == null || mSecret == null) {
                throw new ConfigException("--mutual-chap-user/--mutual-chap-secret", "both are needed for mutual CHAP");
            }
            builder.mutualChap(mutualUser, mSecret);
        }
        if (nopInterval != null || nopTimeout != null) {
            int interval = nopInterval == null ? 5 : nopInterval;
            int timeout = nopTimeout == null ? 15 : nopTimeout;
            if (interval < 0 || timeout < 1) {
                throw new ConfigException("--nop-interval/--nop-timeout", "interval must be >= 0 and timeout >= 1 seconds");
            }
            builder.nop(Duration.ofSeconds(interval), Duration.ofSeconds(timeout));
        }
        return builder.build();
    }

    /**
     * SIGHUP re-reads the configuration file and applies what can change live: LUNs added or
     * removed and LUN initiator lists (one log line per change). A bad file changes nothing.
     */
    private void installReloadHandler(TandemNode node) {
        try {
            var previous = sun.misc.Signal.handle(new sun.misc.Signal("HUP"),
                    signal -> Thread.ofVirtual().start(() -> reload(node)));
            if (previous == sun.misc.SignalHandler.SIG_IGN) {
                // Started with SIGHUP ignored (nohup): the JVM keeps ignoring it, as nohup asked.
                event("SIGHUP is ignored by this process (started under nohup?): configuration reload unavailable");
            }
        } catch (IllegalArgumentException e) {
            // No SIGHUP here, or it is ignored (started under nohup): reloading is not available.
            event("configuration reload on SIGHUP unavailable: " + e.getMessage());
        }
    }

    void reload(TandemNode node) {
        if (config == null) {
            event("SIGHUP: nothing to reload (started without --config)");
            return;
        }
        event("SIGHUP: reloading " + config);
        try {
            node.reconfigure(buildConfig());
        } catch (ConfigException e) {
            event("reload refused, bad configuration: " + e.getMessage());
        } catch (RuntimeException e) {
            event("reload failed: " + e);
        }
    }

    private static void installSignalHandlers(CountDownLatch stop) {
        // Handling TERM/INT ourselves (rather than in a shutdown hook) lets the JVM exit with 0
        // after a clean stop, which is what service managers and scripts expect.
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.countDown());
            } catch (IllegalArgumentException e) {
                // signal not available on this platform
            }
        }
    }

    static void event(String line) {
        System.out.println(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 19) + " " + line);
        System.out.flush();
    }
}
