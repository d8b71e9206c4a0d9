package io.tandem.iscsi;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Text requests in the full feature phase (RFC 7143 §11.10): SendTargets, plus the continuation
 * of a reply too long for one PDU (the initiator fetches the rest with empty requests carrying our
 * Target Transfer Tag).
 */
final class TextExchange {

    private static final int CONTINUATION_TAG = 0x7e000001;

    private final IscsiConnection connection;
    private byte[] pending;
    private int sentOffset;

    TextExchange(IscsiConnection connection) {
        this.connection = connection;
    }

    /** Returns the whole reply for this request (the caller sends it from {@link #sentOffset()}). */
    synchronized byte[] onRequest(byte[] request, boolean continued, int ttt) throws IOException {
        if (pending != null && ttt == CONTINUATION_TAG) {
            return pending;
        }
        pending = null;
        sentOffset = 0;
        Map<String, String> keys = io.tandem.iscsi.login.TextParameters.decodeLenient(request);
        StringBuilder reply = new StringBuilder();
        for (Map.Entry<String, String> key : keys.entrySet()) {
            if (key.getKey().equals("SendTargets")) {
                sendTargets(key.getValue(), reply);
            } else {
                reply.append(key.getKey()).append("=NotUnderstood").append('\0');
            }
        }
        pending = reply.toString().getBytes(StandardCharsets.UTF_8);
        return pending;
    }

    private void sendTargets(String which, StringBuilder reply) throws IOException {
        IscsiServer server = connection.server();
        String targetName = server.config().targetName();
        boolean match = which.equals("All") ? connection.sessionTargetName() == null
                : which.isEmpty() ? connection.sessionTargetName() != null : which.equals(targetName);
        if (which.equals("All") && connection.sessionTargetName() != null) {
            match = true; // RFC 7143 allows All in a normal session too
        }
        if (!match) {
            return;
        }
        reply.append("TargetName=").append(targetName).append('\0');
        InetSocketAddress local = connection.localAddress();
        for (InetSocketAddress portal : server.portals()) {
            InetSocketAddress shown = portal.getAddress().isAnyLocalAddress()
                    ? new InetSocketAddress(local.getAddress(), portal.getPort()) : portal;
            reply.append("TargetAddress=").append(formatAddress(shown)).append(',')
                    .append(server.config().portalGroupTag()).append('\0');
        }
    }

    static String formatAddress(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return host + ":" + address.getPort();
    }

    synchronized int sentOffset() {
        return sentOffset;
    }

    synchronized int continuationTag() {
        return CONTINUATION_TAG;
    }

    synchronized void sent(int length, boolean more) {
        sentOffset += length;
        if (!more) {
            pending = null;
            sentOffset = 0;
        }
    }
}
