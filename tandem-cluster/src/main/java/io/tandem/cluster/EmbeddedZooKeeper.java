package io.tandem.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A standalone ZooKeeper server inside this JVM, on a loopback port, keeping its data under a
 * directory: for demonstrations and single-machine clusters ({@code tandem cluster-demo}), never
 * for production (one server is no quorum: when it stops, every node fences itself). Sessions
 * between 2 and 20 ticks are accepted (tick 500 ms: 1..10 s).
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EmbeddedZooKeeper.class.getName());

    /** The server's tick; with ZooKeeper's defaults it accepts session timeouts of 2..20 ticks. */
    public static final int TICK_MILLIS = 500;

    private final ZooKeeperServer server;
    private final ServerCnxnFactory connections;

    private EmbeddedZooKeeper(ZooKeeperServer server, ServerCnxnFactory connections) {
        this.server = server;
        this.connections = connections;
    }

    /**
     * Starts a server on 127.0.0.1:{@code port} (0: any free port) with its snapshots and
     * transaction log under {@code dataDir} (created if missing; reused across restarts).
     */
    public static EmbeddedZooKeeper start(Path dataDir, int port) {
        try {
            Files.createDirectories(dataDir);
            ZooKeeperServer server = new ZooKeeperServer(dataDir.toFile(), dataDir.toFile(), TICK_MILLIS);
            ServerCnxnFactory connections = ServerCnxnFactory.createFactory(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            connections.startup(server);
            EmbeddedZooKeeper zk = new EmbeddedZooKeeper(server, connections);
            LOG.log(System.Logger.Level.INFO, "embedded ZooKeeper serving at {0} (data {1})", zk.connectString(), dataDir);
            return zk;
        } catch (IOException e) {
            throw new CoordinatorException("cannot start an embedded ZooKeeper on port " + port + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CoordinatorException("interrupted while starting an embedded ZooKeeper", e);
        }
    }

    public int port() {
        return connections.getLocalPort();
    }

    /** {@code 127.0.0.1:<port>}, for {@link ZooKeeperCoordinator.Settings#connectString()}. */
    public String connectString() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() {
        connections.shutdown();
        server.shutdown();
    }
}
