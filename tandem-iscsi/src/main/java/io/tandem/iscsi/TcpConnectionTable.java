package io.tandem.iscsi;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Asks the kernel whether the initiator already closed its side of a TCP connection: the state of
 * the connection in Linux's socket tables ({@code /proc/net/tcp}, {@code /proc/net/tcp6}).
 *
 * <p>Why: an initiator that drops a connection and logs in again with a new ISID is a new I_T
 * nexus; what the old one held (a medium removal prevention, an SPC-2 reservation) ends when the
 * target notices the old connection is gone. The kernel knows that as soon as the FIN arrives, which
 * is before the new connection's SYN; the thread reading the old connection may learn it later than
 * the new login completes. Consulted only at login, only for other sessions of the same initiator.
 *
 * <p>Table line (fields separated by blanks): {@code sl local_address rem_address st ...}, addresses
 * as {@code HEXADDR:HEXPORT} with the address in 32-bit words of host byte order, state in hex.
 * Where the tables cannot be read (not Linux) the answer is "not known to be closed".
 */
final class TcpConnectionTable {

    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

    /** Received the peer's FIN, not yet closed here. */
    private static final int CLOSE_WAIT = 0x08;

    private TcpConnectionTable() {
    }

    /** True when the kernel lists the connection as closed by its peer. */
    static boolean peerClosed(InetSocketAddress local, InetSocketAddress remote) {
        for (Path table : TABLES) {
            try (Stream<String> lines = Files.lines(table)) {
                Integer state = lines.skip(1).map(line -> stateOf(line, local, remote))
                        .filter(s -> s != null).findFirst().orElse(null);
                if (state != null) {
                    return state == CLOSE_WAIT;
                }
            } catch (IOException | RuntimeException e) {
                // Not Linux, or no procfs: nothing is known.
            }
        }
        return false;
    }

    /** The state on {@code line} if it is the connection from {@code local} to {@code remote}, else null. */
    static Integer stateOf(String line, InetSocketAddress local, InetSocketAddress remote) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !matches(f[1], local) || !matches(f[2], remote)) {
            return null;
        }
        return Integer.parseInt(f[3], 16);
    }

    private static boolean matches(String field, InetSocketAddress address) {
        int colon = field.indexOf(':');
        if (colon < 0 || Integer.parseInt(field.substring(colon + 1), 16) != address.getPort()) {
            return false;
        }
        InetAddress listed = decode(field.substring(0, colon));
        return listed != null && listed.equals(address.getAddress());
    }

    /** An address of the table (IPv4, IPv6, or IPv4-mapped IPv6, which InetAddress turns into IPv4). */
    static InetAddress decode(String hex) {
        if (hex.length() != 8 && hex.length() != 32) {
            return null;
        }
        byte[] words = HexFormat.of().parseHex(hex);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            for (int w = 0; w < words.length; w += 4) {
                byte b0 = words[w];
                byte b1 = words[w + 1];
                words[w] = words[w + 3];
                words[w + 1] = words[w + 2];
                words[w + 2] = b1;
                words[w + 3] = b0;
            }
        }
        try {
            return InetAddress.getByAddress(words);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
