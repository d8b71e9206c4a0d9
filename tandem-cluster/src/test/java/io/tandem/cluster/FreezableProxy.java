package io.tandem.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP relay between a ZooKeeper client and one server, to partition the client without
 * touching the server: {@link #freeze()} stops relaying in both directions while the connections
 * stay open (a silent partition: the client notices only by its read timeout, the server only by
 * the session timeout); {@link #cut()} closes every relayed connection (the client notices at
 * once). While frozen, new connections are accepted but relay nothing.
 */
final class FreezableProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private boolean frozen; // guarded by gate
    private boolean repliesFrozen; // guarded by gate: only the server-to-client direction
    private volatile boolean closed;

    FreezableProxy(int targetPort) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("proxy-accept").start(this::acceptLoop);
    }

    String connectString() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    void freeze() {
        synchronized (gate) {
            frozen = true;
        }
    }

    /** Stops relaying the server's replies only: requests still reach the server (and keep the session alive). */
    void freezeReplies() {
        synchronized (gate) {
            repliesFrozen = true;
        }
    }

    void thaw() {
        synchronized (gate) {
            frozen = false;
            repliesFrozen = false;
            gate.notifyAll();
        }
    }

    /** Closes every relayed connection (both sides see the connection drop). */
    void cut() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private void awaitThawed(boolean reply) throws InterruptedException {
        synchronized (gate) {
            while ((frozen || (reply && repliesFrozen)) && !closed) {
                gate.wait(100);
            }
        }
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                sockets.add(client);
                Thread.ofVirtual().start(() -> relay(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        Socket server = null;
        try {
            awaitThawed(false);
            server = new Socket();
            server.connect(target, 2000);
            sockets.add(server);
            Socket s = server;
            Thread.ofVirtual().start(() -> pump(client, s, false));
            pump(server, client, true);
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
            if (server != null) {
                closeQuietly(server);
            }
        }
    }

    private void pump(Socket from, Socket to, boolean reply) {
        byte[] buf = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                awaitThawed(reply);
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // connection over
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        thaw();
        closeQuietly(listener);
        cut();
    }

    private static void closeQuietly(ServerSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
