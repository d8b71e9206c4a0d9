package io.tandem.it.initiator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The initiator's own encoding pieces, checked against published vectors and independent computations. */
@Timeout(30)
class InitiatorCodecTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void crc32cMatchesTheRfc3720AppendixVectorsInWireOrder() {
        byte[] zeros = new byte[32];
        byte[] ones = new byte[32];
        Arrays.fill(ones, (byte) 0xff);
        byte[] up = new byte[32];
        byte[] down = new byte[32];
        for (int i = 0; i < 32; i++) {
            up[i] = (byte) i;
            down[i] = (byte) (31 - i);
        }
        assertThat(wireDigest(zeros)).isEqualTo(hex("aa36918a"));
        assertThat(wireDigest(ones)).isEqualTo(hex("43aba862"));
        assertThat(wireDigest(up)).isEqualTo(hex("4e79dd46"));
        assertThat(wireDigest(down)).isEqualTo(hex("5cdb3f11"));
    }

    private static byte[] wireDigest(byte[] data) {
        byte[] out = new byte[4];
        Digests.put(data, 0, data.length, out, 0);
        return out;
    }

    @Test
    void encodingPadsTheDataSegmentAndDigestsThePadding() {
        Pdu pdu = Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(7).data(new byte[] {1, 2, 3, 4, 5}).fillLengths();
        byte[] wire = PduChannel.encode(pdu, true, true);
        assertThat(wire).hasSize(48 + 4 + 8 + 4);
        assertThat(pdu.dataSegmentLengthField()).isEqualTo(5);
        assertThat(Arrays.copyOfRange(wire, 57, 60)).as("pad bytes").containsOnly(0);
        assertThat(Digests.read(wire, 48)).isEqualTo(Digests.crc32c(wire, 0, 48));
        assertThat(Digests.read(wire, 60)).isEqualTo(Digests.crc32c(wire, 52, 8));
    }

    @Test
    void channelFramesDigestedPdusAndDetectsCorruption() throws Exception {
        Pdu pdu = Pdu.create(Opcode.NOP_IN).setFinal(true).itt(42).ttt(Pdu.RESERVED_TAG)
                .data("seventeen bytes!!".getBytes(StandardCharsets.US_ASCII)).fillLengths();
        byte[] good = PduChannel.encode(pdu, true, true);
        byte[] badData = good.clone();
        badData[good.length - 6] ^= 1; // a data byte
        byte[] badHeader = good.clone();
        badHeader[20] ^= 1; // the TTT
        byte[] stream = concat(good, badData);

        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> feeder = CompletableFuture.runAsync(() -> feed(server, stream, badHeader));
            try (PduChannel ch = PduChannel.connect((InetSocketAddress) server.getLocalSocketAddress(),
                    Duration.ofSeconds(5))) {
                ch.digests(true, true);
                Pdu back = ch.receive(Duration.ofSeconds(5));
                assertThat(back.itt()).isEqualTo(42);
                assertThat(new String(back.data(), StandardCharsets.US_ASCII)).isEqualTo("seventeen bytes!!");
                assertThatThrownBy(() -> ch.receive(Duration.ofSeconds(5)))
                        .isInstanceOf(PduChannel.DigestMismatchException.class).hasMessageContaining("data");
            }
            try (PduChannel ch = PduChannel.connect((InetSocketAddress) server.getLocalSocketAddress(),
                    Duration.ofSeconds(5))) {
                ch.digests(true, true);
                assertThatThrownBy(() -> ch.receive(Duration.ofSeconds(5)))
                        .isInstanceOf(PduChannel.DigestMismatchException.class).hasMessageContaining("header");
            }
            feeder.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void receiveGivesUpAtItsDeadlineOnAPartialPdu() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> feeder = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    s.getOutputStream().write(new byte[20]); // less than a BHS, then silence
                    Thread.sleep(1500);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (PduChannel ch = PduChannel.connect((InetSocketAddress) server.getLocalSocketAddress(),
                    Duration.ofSeconds(5))) {
                long start = System.nanoTime();
                assertThatThrownBy(() -> ch.receive(Duration.ofMillis(500)))
                        .isInstanceOf(java.net.SocketTimeoutException.class).hasMessageContaining("20 of 48");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            }
            feeder.get(5, TimeUnit.SECONDS);
        }
    }

    private static void feed(ServerSocket server, byte[] first, byte[] second) {
        try {
            try (Socket s = server.accept()) {
                OutputStream out = s.getOutputStream();
                out.write(first);
                out.flush();
                awaitClientClose(s);
            }
            try (Socket s = server.accept()) {
                s.getOutputStream().write(second);
                awaitClientClose(s);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static void awaitClientClose(Socket s) {
        try {
            s.getInputStream().read();
        } catch (IOException e) {
            // a reset is a close too
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void textParametersKeepOrderAndRepeatsAndRefuseMalformedPairs() {
        TextParameters t = new TextParameters().add("TargetName", "iqn.a").add("TargetAddress", "1.2.3.4:3260,1")
                .add("TargetName", "iqn.b");
        byte[] wire = t.encode();
        assertThat(new String(wire, StandardCharsets.UTF_8))
                .isEqualTo("TargetName=iqn.a\0TargetAddress=1.2.3.4:3260,1\0TargetName=iqn.b\0");
        TextParameters back = TextParameters.decode(wire);
        assertThat(back.pairs()).isEqualTo(t.pairs());
        assertThat(DiscoveredTarget.parse(back)).containsExactly(
                new DiscoveredTarget("iqn.a", java.util.List.of("1.2.3.4:3260,1")),
                new DiscoveredTarget("iqn.b", java.util.List.of()));
        assertThat(TextParameters.decode("A=1\0\0B=\0".getBytes(StandardCharsets.UTF_8)).asMap())
                .containsEntry("A", "1").containsEntry("B", "");
        assertThatThrownBy(() -> TextParameters.decode("novalue\0".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ProtocolViolationException.class);
    }

    @Test
    void chapResponsesMatchIndependentlyComputedDigests() {
        // H(0x07 || "tandem-secret" || 00..0f), computed with Python's hashlib
        byte[] challenge = new byte[16];
        for (int i = 0; i < 16; i++) {
            challenge[i] = (byte) i;
        }
        byte[] secret = "tandem-secret".getBytes(StandardCharsets.US_ASCII);
        assertThat(ChapAlgorithm.MD5.response(7, secret, challenge)).isEqualTo(hex("00ede8e9f083538650af484977a1012c"));
        assertThat(ChapAlgorithm.SHA1.response(7, secret, challenge))
                .isEqualTo(hex("7d953ba2c76eec15588ede5ffe5ab2c3a1e1e89a"));
        assertThat(ChapAlgorithm.SHA256.response(7, secret, challenge))
                .isEqualTo(hex("145d1265ee07eed5a35c8e80bdf11e686dd67cc9c31f4d21e8d10b867f03aae7"));
        assertThat(ChapAlgorithm.SHA3_256.response(7, secret, challenge))
                .isEqualTo(hex("2c1e9f55a0e05dea978499147a00cea16df88c38e42f618d0818bff892681057"));
        assertThat(ChapAlgorithm.ofCode(7)).isEqualTo(ChapAlgorithm.SHA256);
    }

    @Test
    void binaryValuesDecodeFromHexAndBase64() {
        assertThat(LoginNegotiator.decodeBinary("0x0a0B")).isEqualTo(new byte[] {10, 11});
        assertThat(LoginNegotiator.decodeBinary("0xabc")).isEqualTo(new byte[] {0x0a, (byte) 0xbc});
        assertThat(LoginNegotiator.decodeBinary("0bAQID")).isEqualTo(new byte[] {1, 2, 3});
        assertThatThrownBy(() -> LoginNegotiator.decodeBinary("1234")).isInstanceOf(ProtocolViolationException.class);
    }

    @Test
    void senseDecodesFixedAndDescriptorFormats() {
        byte[] fixed = new byte[18];
        fixed[0] = 0x70;
        fixed[2] = 0x05;
        fixed[7] = 10;
        fixed[12] = 0x25;
        Sense f = Sense.decode(fixed);
        assertThat(f.descriptorFormat()).isFalse();
        assertThat(f.is(Sense.ILLEGAL_REQUEST, 0x25, 0x00)).isTrue();

        byte[] descriptor = {0x72, 0x06, 0x29, 0x03, 0, 0, 0, 0};
        Sense d = Sense.decode(descriptor);
        assertThat(d.descriptorFormat()).isTrue();
        assertThat(d.is(Sense.UNIT_ATTENTION, 0x29, 0x03)).isTrue();
        assertThat(Sense.decode(new byte[0])).isNull();
        assertThatThrownBy(() -> Sense.decode(new byte[] {0x10})).isInstanceOf(ProtocolViolationException.class);
    }

    @Test
    void lunFieldUsesPeripheralThenFlatAddressing() {
        assertThat(Lun.encode(0)).isZero();
        assertThat(Lun.encode(1)).isEqualTo(0x0001_0000_0000_0000L);
        assertThat(Lun.encode(255)).isEqualTo(0x00ff_0000_0000_0000L);
        assertThat(Lun.encode(256)).isEqualTo(0x4100_0000_0000_0000L);
        assertThat(Lun.encode(0x3fff)).isEqualTo(0x7fff_0000_0000_0000L);
        for (int lun : new int[] {0, 1, 200, 255, 256, 1023, 0x3fff}) {
            assertThat(Lun.decode(Lun.encode(lun))).isEqualTo(lun);
        }
    }

    @Test
    void serialNumberComparisonWrapsAround() {
        assertThat(IscsiSession.serialGreater(1, 0)).isTrue();
        assertThat(IscsiSession.serialGreater(0, 0xffffffff)).isTrue();
        assertThat(IscsiSession.serialGreater(0xffffffff, 0)).isFalse();
        assertThat(IscsiSession.serialGreater(5, 5)).isFalse();
    }
}
