package io.tandem.iscsi.pdu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class PduCodecTest {

    /** Collects what a PduWriter sends. */
    private static final class Sink implements GatheringByteChannel {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final WritableByteChannel out = Channels.newChannel(bytes);

        @Override public long write(ByteBuffer[] srcs, int offset, int length) throws java.io.IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += out.write(srcs[i]);
            }
            return n;
        }
        @Override public long write(ByteBuffer[] srcs) throws java.io.IOException { return write(srcs, 0, srcs.length); }
        @Override public int write(ByteBuffer src) throws java.io.IOException { return out.write(src); }
        @Override public boolean isOpen() { return true; }
        @Override public void close() { }
    }

    private static ReadableByteChannel source(byte[] bytes) {
        return Channels.newChannel(new java.io.ByteArrayInputStream(bytes));
    }

    private static byte[] send(boolean headerDigest, boolean dataDigest, int opcode, byte[] data) throws Exception {
        Sink sink = new Sink();
        PduWriter writer = new PduWriter(sink);
        writer.configure(headerDigest, dataDigest);
        writer.lock().lock();
        try {
            writer.header().opcode(opcode).flags(0x80).itt(0x1234).lun(0x0001000000000000L);
            writer.send(data == null ? null : ByteBuffer.wrap(data));
        } finally {
            writer.lock().unlock();
        }
        return sink.bytes.toByteArray();
    }

    @Test
    void writerPadsDataToFourBytesAndSetsLength() throws Exception {
        byte[] wire = send(false, false, Opcode.NOP_OUT, "hello".getBytes(StandardCharsets.US_ASCII));
        assertThat(wire).hasSize(48 + 8);
        Bhs bhs = new Bhs().wrap(ByteBuffer.wrap(wire), 0);
        assertThat(bhs.opcode()).isEqualTo(Opcode.NOP_OUT);
        assertThat(bhs.dataSegmentLength()).isEqualTo(5);
        assertThat(bhs.itt()).isEqualTo(0x1234);
        assertThat(wire[48 + 5]).isZero();
    }

    @Test
    void readerRoundTripsWithBothDigests() throws Exception {
        byte[] payload = new byte[1001];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        byte[] wire = send(true, true, Opcode.DATA_OUT, payload);
        assertThat(wire).hasSize(48 + 4 + 1004 + 4);
        PduReader reader = new PduReader(source(wire), 8192);
        reader.configure(true, true, 8192);
        Bhs bhs = reader.readHeader();
        assertThat(bhs.opcode()).isEqualTo(Opcode.DATA_OUT);
        ByteBuffer data = reader.readData();
        assertThat(data.remaining()).isEqualTo(1001);
        byte[] back = new byte[1001];
        data.get(back);
        assertThat(back).isEqualTo(payload);
        assertThatThrownBy(reader::readHeader).isInstanceOf(EOFException.class);
    }

    @Test
    void headerDigestIsCrc32cLittleEndianOnTheWire() throws Exception {
        byte[] wire = send(true, false, Opcode.NOP_OUT, null);
        CRC32C crc = new CRC32C();
        crc.update(wire, 0, 48);
        long value = crc.getValue();
        assertThat(wire[48] & 0xff).isEqualTo((int) (value & 0xff));
        assertThat(wire[51] & 0xff).isEqualTo((int) ((value >>> 24) & 0xff));
    }

    @Test
    void corruptHeaderDigestDropsTheConnection() throws Exception {
        byte[] wire = send(true, false, Opcode.NOP_OUT, null);
        wire[20] ^= 1;
        PduReader reader = new PduReader(source(wire), 8192);
        reader.configure(true, false, 8192);
        assertThatThrownBy(reader::readHeader).isInstanceOfSatisfying(PduException.class,
                e -> assertThat(e.level()).isEqualTo(PduException.Level.DROP_CONNECTION));
    }

    @Test
    void corruptDataDigestIsRejectedWithReasonDataDigestError() throws Exception {
        byte[] wire = send(false, true, Opcode.NOP_OUT, new byte[] {1, 2, 3, 4});
        wire[48] ^= 0x10;
        PduReader reader = new PduReader(source(wire), 8192);
        reader.configure(false, true, 8192);
        reader.readHeader();
        assertThatThrownBy(reader::readData).isInstanceOfSatisfying(PduException.class, e -> {
            assertThat(e.level()).isEqualTo(PduException.Level.REJECT);
            assertThat(e.rejectReason()).isEqualTo(PduException.REASON_DATA_DIGEST_ERROR);
        });
    }

    @Test
    void dataSegmentBeyondNegotiatedLimitIsRefusedBeforeReadingIt() throws Exception {
        byte[] wire = send(false, false, Opcode.SCSI_COMMAND, new byte[600]);
        PduReader reader = new PduReader(source(java.util.Arrays.copyOf(wire, 48)), 512);
        assertThatThrownBy(reader::readHeader).isInstanceOfSatisfying(PduException.class,
                e -> assertThat(e.level()).isEqualTo(PduException.Level.DROP_CONNECTION));
    }

    @Test
    void targetOpcodeFromInitiatorIsRejectedAndItsPayloadSkipped() throws Exception {
        byte[] bad = send(false, false, Opcode.SCSI_RESPONSE, new byte[10]);
        byte[] good = send(false, false, Opcode.NOP_OUT, null);
        byte[] both = new byte[bad.length + good.length];
        System.arraycopy(bad, 0, both, 0, bad.length);
        System.arraycopy(good, 0, both, bad.length, good.length);
        PduReader reader = new PduReader(source(both), 8192);
        assertThatThrownBy(reader::readHeader).isInstanceOfSatisfying(PduException.class, e -> {
            assertThat(e.level()).isEqualTo(PduException.Level.REJECT);
            assertThat(e.rejectReason()).isEqualTo(PduException.REASON_PROTOCOL_ERROR);
        });
        assertThat(reader.readHeader().opcode()).isEqualTo(Opcode.NOP_OUT);
    }

    @Test
    void truncatedPduIsAnEofNotAHang() throws Exception {
        byte[] wire = send(false, false, Opcode.NOP_OUT, new byte[100]);
        PduReader reader = new PduReader(source(java.util.Arrays.copyOf(wire, 48 + 50)), 8192);
        reader.readHeader();
        assertThatThrownBy(reader::readData).isInstanceOf(EOFException.class);
    }

    @Test
    void extendedCdbComesFromTheAhs() throws Exception {
        ByteBuffer wire = ByteBuffer.allocate(48 + 20);
        Bhs bhs = new Bhs().wrap(wire, 0);
        bhs.opcode(Opcode.SCSI_COMMAND);
        wire.put(4, (byte) 5); // 20 bytes of AHS
        for (int i = 0; i < 16; i++) {
            wire.put(32 + i, (byte) i);
        }
        wire.putShort(48, (short) 17); // reserved byte + 16 extra CDB bytes
        wire.put(50, (byte) 1);
        for (int i = 0; i < 16; i++) {
            wire.put(52 + i, (byte) (16 + i));
        }
        PduReader reader = new PduReader(source(wire.array()), 8192);
        reader.readHeader();
        byte[] cdb = reader.cdb();
        assertThat(cdb).hasSize(32);
        for (int i = 0; i < 32; i++) {
            assertThat(cdb[i]).isEqualTo((byte) i);
        }
    }

    @Test
    void isidAndSerialArithmetic() {
        Bhs bhs = new Bhs().wrap(ByteBuffer.allocate(48), 0);
        bhs.isid(0x23d000000001L);
        assertThat(bhs.isid()).isEqualTo(0x23d000000001L);
        assertThat(Bhs.serialLess(0xfffffff0, 5)).isTrue();
        assertThat(Bhs.serialLess(5, 0xfffffff0)).isFalse();
        assertThat(Bhs.serialLess(7, 7)).isFalse();
    }
}
