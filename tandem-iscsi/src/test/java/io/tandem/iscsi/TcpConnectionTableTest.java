package io.tandem.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class TcpConnectionTableTest {

    @Test
    @EnabledOnOs(OS.LINUX)
    void aConnectionReadsClosedOnceTheInitiatorClosedItsSideAndNotBefore() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel initiator = SocketChannel.open(listener.getLocalAddress());
            try (SocketChannel target = listener.accept()) {
                InetSocketAddress local = (InetSocketAddress) target.getLocalAddress();
                InetSocketAddress remote = (InetSocketAddress) target.getRemoteAddress();
                assertThat(TcpConnectionTable.peerClosed(local, remote)).as("open connection").isFalse();

                initiator.close();
                long deadline = System.nanoTime() + 5_000_000_000L;
                boolean closed = false;
                while (!closed && System.nanoTime() < deadline) {
                    closed = TcpConnectionTable.peerClosed(local, remote);
                    Thread.sleep(1);
                }
                assertThat(closed).as("after the initiator's FIN, with nothing read here").isTrue();
                assertThat(TcpConnectionTable.peerClosed(local, new InetSocketAddress(remote.getAddress(), remote.getPort() ^ 1)))
                        .as("another connection's port").isFalse();
            }
        }
    }

    @Test
    void addressesDecodeFromHostOrderWordsIncludingIpv4MappedIpv6() {
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        assertThat(TcpConnectionTable.decode(little ? "0100007F" : "7F000001").getHostAddress()).isEqualTo("127.0.0.1");
        String mapped = little ? "0000000000000000FFFF00000100007F" : "00000000000000000000FFFF7F000001";
        assertThat(TcpConnectionTable.decode(mapped).getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(TcpConnectionTable.decode("0100")).isNull();
    }

    @Test
    void aTableLineGivesItsStateOnlyForItsOwnConnection() throws Exception {
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        String loopback = little ? "0100007F" : "7F000001";
        String line = "   3: " + loopback + ":0CBC " + loopback + ":D2F0 08 00000000:00000000 00:00000000 00000000     0        0 1";
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        assertThat(TcpConnectionTable.stateOf(line, new InetSocketAddress(lo, 3260), new InetSocketAddress(lo, 54000)))
                .isEqualTo(0x08);
        assertThat(TcpConnectionTable.stateOf(line, new InetSocketAddress(lo, 3260), new InetSocketAddress(lo, 54001)))
                .isNull();
    }
}
