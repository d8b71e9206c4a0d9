package io.tandem.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;

/**
 * A real, single-server ZooKeeper running inside this JVM (ZooKeeper's own server classes), for
 * {@code tandem cluster-demo}: a cluster on one machine without installing anything. Its data
 * (snapshots and transaction log) lives under a directory, so the cluster's state survives a
 * restart of the demo. Not for production: one server is no ensemble.
 */
final class EmbeddedZooKeeper implements AutoCloseable {

    /** ZooKeeper's time unit; session timeouts may range over 2..20 ticks. */
    private static final int TICK_MILLIS = 1000;
    private static final int MAX_CLIENT_CONNECTIONS = 1000;

    private final ZooKeeperServer server;
    private final ServerCnxnFactory connections;

    private EmbeddedZooKeeper(ZooKeeperServer server, ServerCnxnFactory connections) {
        this.server = server;
        this.connections = connections;
    }

    /** Starts a server on {@code address} (port 0: any free port) keeping its data under {@code dir}. */
    static EmbeddedZooKeeper start(Path dir, InetSocketAddress address) throws IOException {
        Path snapshots = Files.createDirectories(dir.resolve("snapshots"));
        Path log = Files.createDirectories(dir.resolve("log"));
        ZooKeeperServer server = new ZooKeeperServer(snapshots.toFile(), log.toFile(), TICK_MILLIS);
        ServerCnxnFactory connections = ServerCnxnFactory.createFactory(address, MAX_CLIENT_CONNECTIONS);
        try {
            connections.startup(server);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connections.shutdown();
            throw new IOException("interrupted starting ZooKeeper", e);
        }
        return new EmbeddedZooKeeper(server, connections);
    }

    /** The connect string clients use. */
    String connectString() {
        return "127.0.0.1:" + connections.getLocalPort();
    }

    @Override
    public void close() {
        connections.shutdown();
        server.shutdown();
    }
}
