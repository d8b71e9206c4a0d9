package io.tandem.server;

import io.tandem.cluster.EmbeddedZooKeeper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tandem cluster-demo}: a whole cluster on one machine, in one process. An embedded
 * ZooKeeper server (unless {@code --zookeeper} names one, or {@code --rados-pool} has the nodes
 * coordinated through a Ceph cluster) and N nodes on 127.0.0.1:P..P+N-1, all
 * exporting one LUN backed by one file under the data directory, i.e. N paths to the same LU.
 * Each node is a real cluster node: its state goes through ZooKeeper exactly as it would across
 * machines; only the process is shared. Runs until SIGTERM or SIGINT.
 */
@Command(name = "cluster-demo", mixinStandardHelpOptions = true,
        description = "Run an N-node cluster on 127.0.0.1 with an embedded ZooKeeper, sharing one LUN file.")
final class ClusterDemoCommand implements Callable<Integer> {

    @Option(names = "--nodes", paramLabel = "N", description = "Number of nodes (1..16). Default 2.")
    int nodes = 2;

    @Option(names = "--base-port", paramLabel = "P", description = "Node i listens on 127.0.0.1:P+i-1. Default 3260.")
    int basePort = 3260;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory for the LUN file (lun0.img), the nodes' data and ZooKeeper's. Default ./tandem-cluster.")
    Path data = Path.of("tandem-cluster");

    @Option(names = "--lun-size", paramLabel = "SIZE", description = "Size of the LUN file when it is created. Default 1G.")
    String lunSize = "1G";

    @Option(names = "--block-size", paramLabel = "BYTES", description = "Logical block size: 512 or 4096. Default 512.")
    int blockSize = 512;

    @Option(names = "--target-name", paramLabel = "IQN", description = "Target name. Default " + NodeConfig.DEFAULT_TARGET_NAME + ".")
    String targetName = NodeConfig.DEFAULT_TARGET_NAME;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]",
            description = "Use this ZooKeeper ensemble instead of starting one in-process.")
    String zookeeper;

    @Option(names = "--rados-pool", paramLabel = "POOL",
            description = "Coordinate the nodes through Ceph RADOS (objects in this pool) instead of ZooKeeper.")
    String radosPool;

    @Option(names = "--ceph-conf", paramLabel = "FILE", description = "With --rados-pool: the Ceph cluster's ceph.conf. "
            + "Default: librados' search.")
    Path cephConf;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "The cluster's name in its coordinator. Default demo. With --rados-pool the cluster's state "
                    + "(objects tandem.NAME.*) stays in the pool between runs: a new name starts afresh.")
    String clusterName = "demo";

    @Option(names = "--conformance-luns",
            description = "Also export LUN 1 write-protected, LUN 2 with 4 KiB physical blocks and LUN 3 removable "
                    + "(64 MiB files beside lun0.img), the LUs scripts/conformance.sh's tagged suites need.")
    boolean conformanceLuns;

    @Option(names = "--nop-timeout", paramLabel = "SECONDS",
            description = "Drop an initiator that leaves a NOP-In ping unanswered this long. Default 15.")
    int nopTimeout = 15;

    @Option(names = "--rbd-conf", paramLabel = "CEPH_CONF",
            description = "Serve the LUNs from Ceph RBD images in pool rbd of this cluster (demo-<lun name>, created"
                    + " when missing) instead of files.")
    Path rbdConf;

    @Option(names = "--session-timeout", paramLabel = "SECONDS",
            description = "Session timeout: ZooKeeper's (the embedded server accepts 1..10), or the RADOS lease. Default 10.")
    int sessionTimeout = 10;

    @Override
    public Integer call() throws Exception {
        if (nodes < 1 || nodes > 16) {
            throw new ConfigException("--nodes", "must be 1..16, got " + nodes);
        }
        if (basePort < 1 || basePort + nodes - 1 > 65535) {
            throw new ConfigException("--base-port", "the nodes' ports must fit in 1..65535");
        }
        Path dir = Files.createDirectories(data).toAbsolutePath();
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.countDown());
            } catch (IllegalArgumentException e) {
                // signal not available here
            }
        }
        if (radosPool != null && zookeeper != null) {
            throw new ConfigException("--rados-pool", "a cluster has one coordinator: give --zookeeper or --rados-pool");
        }
        if (cephConf != null && radosPool == null) {
            throw new ConfigException("--ceph-conf", "is for the rados coordinator: needs --rados-pool");
        }
        EmbeddedZooKeeper embedded = null;
        List<TandemNode> running = new ArrayList<>();
        try {
            ClusterSettings cluster;
            if (radosPool != null) {
                cluster = ClusterSettings.rados(new ClusterSettings.Ceph(cephConf, radosPool, null, null), clusterName,
                        Duration.ofSeconds(sessionTimeout));
                System.out.println("coordinator: " + cluster.where());
            } else {
                String connect = zookeeper;
                if (connect == null) {
                    embedded = EmbeddedZooKeeper.start(dir.resolve("zookeeper"), 0);
                    connect = embedded.connectString();
                    System.out.println("zookeeper: " + connect + " (embedded, data in " + dir.resolve("zookeeper") + ")");
                }
                cluster = new ClusterSettings(connect, clusterName, Duration.ofSeconds(sessionTimeout));
            }
            long size = Sizes.parse("--lun-size", lunSize);
            LunConfig lun = new LunConfig(0, "lun0", LunConfig.Backend.FILE, dir.resolve("lun0.img"), size, blockSize, false);
            List<LunConfig> luns = new ArrayList<>(List.of(lun));
            if (rbdConf != null) {
                luns = rbdLuns(size);
            } else if (conformanceLuns) {
                long small = 64L << 20;
                Path protectedFile = dir.resolve("write-protected.img");
                if (!Files.exists(protectedFile)) {
                    // A write-protected LU is opened read-only, so its file must exist first: an empty sparse one.
                    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(protectedFile.toFile(), "rw")) {
                        file.setLength(small);
                    }
                }
                luns.add(new LunConfig(1, "write-protected", LunConfig.Backend.FILE, dir.resolve("write-protected.img"),
                        small, 512, true));
                luns.add(new LunConfig(2, "physical-4k", LunConfig.Backend.FILE, dir.resolve("physical-4k.img"),
                        small, 512, false, List.of(), 4096));
                luns.add(new LunConfig(3, "removable", LunConfig.Backend.FILE, dir.resolve("removable.img"),
                        small, 512, false, List.of(), 0, true));
            }
            for (int i = 1; i <= nodes; i++) {
                // Every node names the same LUN (the first one seeds the cluster's configuration) and
                // keeps its own files in its own directory.
                NodeConfig.Builder builder = NodeConfig.builder();
                luns.forEach(builder::lun);
                NodeConfig config = builder
                        .nodeId(i).cluster(cluster).targetName(targetName)
                        .portal("127.0.0.1", basePort + i - 1)
                        .dataDir(dir.resolve("node-" + i))
                        .nop(Duration.ofSeconds(5), Duration.ofSeconds(nopTimeout))
                        .shutdownGrace(Duration.ofSeconds(2))
                        .build();
                int id = i;
                TandemNode node = TandemNode.start(config, line -> ServeCommand.event("node " + id + ": " + line));
                running.add(node);
                System.out.println("node " + i + ": " + node.url(0));
                for (int extra = 1; extra < luns.size(); extra++) {
                    System.out.println("node " + i + " lun " + extra + " (" + luns.get(extra).name() + "): " + node.url(extra));
                }
            }
            System.out.println("target: " + targetName);
            System.out.println("ready");
            System.out.flush();
            stop.await();
            ServeCommand.event("shutting down: " + nodes + " nodes" + (embedded != null ? ", then ZooKeeper" : ""));
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                running.get(i).close();
            }
            if (embedded != null) {
                embedded.close();
            }
        }
        ServeCommand.event("stopped");
        return 0;
    }

    /** LUN 0 (and the conformance LUs) on RBD images demo-NAME; the write-protected one is made here. */
    private List<LunConfig> rbdLuns(long size) throws java.io.IOException {
        List<LunConfig> luns = new ArrayList<>();
        luns.add(rbdLun(0, "lun0", size, blockSize, false, 0, false));
        if (conformanceLuns) {
            long small = 64L << 20;
            io.tandem.storage.rbd.RbdBlockDevice.createImage(TandemNode.rbdSettings(
                    new LunConfig.Rbd("rbd", "demo-write-protected", rbdConf, null, null, 0)), small);
            luns.add(rbdLun(1, "write-protected", 0, 512, true, 0, false));
            luns.add(rbdLun(2, "physical-4k", small, 512, false, 4096, false));
            luns.add(rbdLun(3, "removable", small, 512, false, 0, true));
        }
        return luns;
    }

    private LunConfig rbdLun(int number, String name, long create, int blocks, boolean readOnly, int physical,
                             boolean removable) {
        return new LunConfig(number, name, LunConfig.Backend.RBD, null, 0, blocks, readOnly, List.of(), physical, removable,
                null, new LunConfig.Rbd("rbd", "demo-" + name, rbdConf, null, null, create));
    }
}
