package io.tandem.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between one client (a node's ZooKeeper client) and one server, that a test can cut
 * silently: while {@link #partition partitioned} no byte passes in either direction and new
 * connections hang unanswered, as when a network drops packets (no reset: the client notices only
 * by its own timeouts). {@link #heal} closes every connection that lived through the partition, so
 * the client reconnects afresh, and relays normally again.
 */
public final class PartitionableLink implements AutoCloseable {

    private final InetSocketAddress upstream;
    private final ServerSocket listener;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Object gate = new Object();
    private volatile boolean partitioned;
    private volatile boolean closed;

    public PartitionableLink(InetSocketAddress upstream) throws IOException {
        this.upstream = upstream;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("link-accept-" + upstream.getPort()).start(this::acceptLoop);
    }

    /** Where the client connects instead of the server. */
    public String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    public void partition() {
        partitioned = true;
    }

    public void heal() {
        synchronized (gate) {
            for (Socket s : open) {
                closeQuietly(s);
            }
            open.clear();
            partitioned = false;
            gate.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            open.add(client);
            Thread.ofVirtual().start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        try {
            awaitOpen();
            if (client.isClosed()) {
                return;
            }
            Socket server = new Socket(upstream.getAddress(), upstream.getPort());
            open.add(server);
            Thread.ofVirtual().start(() -> pump(client, server));
            Thread.ofVirtual().start(() -> pump(server, client));
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
        }
    }

    /** Copies bytes one way; each chunk waits while the link is partitioned (so nothing passes). */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                awaitOpen();
                if (from.isClosed() || to.isClosed()) {
                    return;
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (partitioned && !closed) {
                gate.wait();
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        heal();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
