package io.tandem.server;

import java.net.InetSocketAddress;

/** Parses {@code ADDR:PORT}, {@code [v6]:PORT} and {@code ADDR} (port 3260). */
final class Portals {
    private Portals() {
    }

    static InetSocketAddress parse(String field, String text) {
        String host = text;
        int port = 3260;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new ConfigException(field, "unterminated [IPv6] address: " + text);
            }
            host = text.substring(1, close);
            if (close + 1 < text.length()) {
                if (text.charAt(close + 1) != ':') {
                    throw new ConfigException(field, "expected [ADDR]:PORT, got " + text);
                }
                port = port(field, text.substring(close + 2));
            }
        } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
            host = text.substring(0, text.indexOf(':'));
            port = port(field, text.substring(text.indexOf(':') + 1));
        }
        if (host.isEmpty()) {
            throw new ConfigException(field, "missing address in " + text);
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new ConfigException(field, "cannot resolve address " + host);
        }
        return address;
    }

    private static int port(String field, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 0 || port > 65535) {
                throw new ConfigException(field, "port must be 0..65535, got " + text);
            }
            return port;
        } catch (NumberFormatException e) {
            throw new ConfigException(field, "port is not a number: " + text);
        }
    }
}
