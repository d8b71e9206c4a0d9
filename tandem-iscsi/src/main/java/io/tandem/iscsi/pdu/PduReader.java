package io.tandem.iscsi.pdu;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Receives PDUs from a blocking channel as an explicit state machine: BHS, AHS, header digest,
 * header validation, then the data segment (into a sink the caller picks after seeing the header,
 * so Data-Out payload can land straight in the command's buffer), padding and data digest.
 *
 * <p>The header is validated before a single payload byte is read: a data segment longer than
 * the negotiated MaxRecvDataSegmentLength is refused without buffering it.
 */
public final class PduReader {

    enum State { HEADER, DATA }

    private final ReadableByteChannel channel;
    /** BHS + up to 255 words of AHS + header digest. */
    private final ByteBuffer header = ByteBuffer.allocateDirect(Bhs.LENGTH + 1020 + Digests.LENGTH);
    private final ByteBuffer trailer = ByteBuffer.allocateDirect(3 + Digests.LENGTH);
    private final Bhs bhs = new Bhs();
    private State state = State.HEADER;
    private boolean headerDigest;
    private boolean dataDigest;
    private int maxDataSegmentLength;

    public PduReader(ReadableByteChannel channel, int maxDataSegmentLength) {
        this.channel = channel;
        this.maxDataSegmentLength = maxDataSegmentLength;
    }

    /** Applies negotiated parameters; takes effect from the next PDU. */
    public void configure(boolean headerDigest, boolean dataDigest, int maxDataSegmentLength) {
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.maxDataSegmentLength = maxDataSegmentLength;
    }

    public int maxDataSegmentLength() {
        return maxDataSegmentLength;
    }

    /**
     * Reads and checks the next header. The returned flyweight stays valid until the next call.
     *
     * @throws EOFException on a clean close between PDUs
     */
    public Bhs readHeader() throws IOException, PduException {
        if (state != State.HEADER) {
            throw new IllegalStateException("data segment of the previous PDU not consumed");
        }
        header.clear().limit(Bhs.LENGTH);
        if (!fill(header, true)) {
            throw new EOFException("connection closed");
        }
        bhs.wrap(header, 0);
        // Sanity limits on the bare BHS, before reading another byte: garbage declaring a huge data
        // segment or an AHS must drop the connection, not make us wait for bytes that never come.
        int length = bhs.dataSegmentLength();
        if (length > maxDataSegmentLength) {
            throw PduException.drop("data segment of " + length + " bytes exceeds MaxRecvDataSegmentLength "
                    + maxDataSegmentLength);
        }
        int ahs = bhs.totalAhsLength();
        if (ahs > 0 && bhs.opcode() != Opcode.SCSI_COMMAND) {
            throw PduException.drop("AHS of " + ahs + " bytes on opcode 0x" + Integer.toHexString(bhs.opcode()));
        }
        header.limit(Bhs.LENGTH + ahs + (headerDigest ? Digests.LENGTH : 0));
        fill(header, false);
        if (headerDigest) {
            int expected = Digests.crc32c(header, 0, Bhs.LENGTH + ahs, 0);
            int actual = Digests.readWire(header.slice(Bhs.LENGTH + ahs, Digests.LENGTH));
            if (expected != actual) {
                // A corrupt header may carry a corrupt length: framing is lost, so drop.
                throw PduException.drop("header digest mismatch");
            }
        }
        state = State.DATA;
        if (!Opcode.isInitiatorOpcode(bhs.opcode())) {
            // The length is plausible: skip the payload and reject, keeping the connection.
            skipData();
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR,
                    "opcode 0x" + Integer.toHexString(bhs.opcode()) + " is not an initiator opcode");
        }
        return bhs;
    }

    /** Whether the last header's data segment has not been consumed yet. */
    public boolean dataPending() {
        return state == State.DATA;
    }

    /**
     * The CDB of a SCSI Command header: the 16 bytes in the BHS, extended by an Extended CDB AHS
     * (type 1) when the initiator sent one.
     */
    public byte[] cdb() throws PduException {
        int ahsEnd = Bhs.LENGTH + bhs.totalAhsLength();
        int at = Bhs.LENGTH;
        while (at + 4 <= ahsEnd) {
            int length = header.getShort(at) & 0xffff;
            int type = header.get(at + 2) & 0xff;
            if (at + 3 + length > ahsEnd) {
                throw PduException.reject(PduException.REASON_INVALID_PDU_FIELD, "AHS length " + length + " past header");
            }
            if (type == AHS_EXTENDED_CDB) {
                // AHSLength counts the reserved byte plus the CDB bytes beyond the first 16.
                int extra = length - 1;
                byte[] cdb = new byte[Bhs.CDB_LENGTH + extra];
                bhs.copyCdb(cdb);
                header.get(at + 4, cdb, Bhs.CDB_LENGTH, extra);
                return cdb;
            }
            at += (3 + length + 3) & ~3;
        }
        byte[] cdb = new byte[Bhs.CDB_LENGTH];
        bhs.copyCdb(cdb);
        return cdb;
    }

    private static final int AHS_EXTENDED_CDB = 1;

    /** The last header's bytes (BHS only), e.g. to quote in a Reject. */
    public byte[] headerBytes() {
        byte[] copy = new byte[Bhs.LENGTH];
        header.get(0, copy, 0, Bhs.LENGTH);
        return copy;
    }

    /** Reads the data segment into a fresh heap buffer (flipped), or returns an empty buffer. */
    public ByteBuffer readData() throws IOException, PduException {
        int length = bhs.dataSegmentLength();
        ByteBuffer data = ByteBuffer.allocate(length);
        readData(data);
        data.flip();
        return data;
    }

    /**
     * Reads the data segment into {@code sink} at its position (sink.remaining() must be at least
     * the segment length), then padding and data digest.
     */
    public void readData(ByteBuffer sink) throws IOException, PduException {
        int length = bhs.dataSegmentLength();
        if (state != State.DATA) {
            throw new IllegalStateException("no header read");
        }
        int start = sink.position();
        ByteBuffer window = sink.slice(start, length);
        fill(window, false);
        sink.position(start + length);
        finishData(window, length);
    }

    /** Reads and discards the data segment (still checking its digest). */
    public void skipData() throws IOException, PduException {
        int length = bhs.dataSegmentLength();
        ByteBuffer scratch = ByteBuffer.allocate(Math.min(Math.max(length, 1), 64 * 1024));
        CrcAccumulator crc = dataDigest ? new CrcAccumulator() : null;
        int left = length;
        while (left > 0) {
            scratch.clear().limit(Math.min(left, scratch.capacity()));
            fill(scratch, false);
            scratch.flip();
            if (crc != null) {
                crc.update(scratch);
            }
            left -= scratch.limit();
        }
        state = State.HEADER;
        int pad = Digests.padding(length);
        // An empty data segment carries no data digest (RFC 7143 §11.2.4).
        boolean digest = dataDigest && length > 0;
        trailer.clear().limit(pad + (digest ? Digests.LENGTH : 0));
        fill(trailer, false);
        if (digest) {
            crc.pad(pad);
            if (crc.value() != Digests.readWire(trailer.slice(pad, Digests.LENGTH))) {
                throw PduException.reject(PduException.REASON_DATA_DIGEST_ERROR, "data digest mismatch");
            }
        }
    }

    private void finishData(ByteBuffer window, int length) throws IOException, PduException {
        state = State.HEADER;
        int pad = Digests.padding(length);
        boolean digest = dataDigest && length > 0;
        trailer.clear().limit(pad + (digest ? Digests.LENGTH : 0));
        fill(trailer, false);
        if (digest) {
            int expected = Digests.crc32c(window, 0, length, pad);
            if (expected != Digests.readWire(trailer.slice(pad, Digests.LENGTH))) {
                throw PduException.reject(PduException.REASON_DATA_DIGEST_ERROR, "data digest mismatch");
            }
        }
    }

    /**
     * Fills {@code buffer} to its limit, from the read-ahead buffer first. Returns false on EOF
     * before the first byte if allowed.
     *
     * <p>Small PDUs (headers, 4 KiB writes) arrive several per socket read through the read-ahead
     * buffer, so one syscall serves many; a large remainder is read straight into its destination,
     * so bulk Data-Out is never copied twice.
     */
    private boolean fill(ByteBuffer buffer, boolean eofAllowedAtStart) throws IOException {
        boolean first = true;
        while (buffer.hasRemaining()) {
            if (readAhead.hasRemaining()) {
                int n = Math.min(readAhead.remaining(), buffer.remaining());
                buffer.put(buffer.position(), readAhead, readAhead.position(), n);
                buffer.position(buffer.position() + n);
                readAhead.position(readAhead.position() + n);
                first = false;
                continue;
            }
            int n;
            if (buffer.remaining() >= READ_AHEAD_BYTES / 2) {
                n = channel.read(buffer);
            } else {
                readAhead.clear();
                n = channel.read(readAhead);
                readAhead.flip();
            }
            if (n < 0) {
                if (first && eofAllowedAtStart) {
                    return false;
                }
                throw new EOFException("connection closed inside a PDU");
            }
            if (n > 0) {
                first = false;
            }
        }
        return true;
    }

    private static final int READ_AHEAD_BYTES = 64 * 1024;
    /** Bytes received but not yet parsed, in read mode (empty: position == limit). */
    private final ByteBuffer readAhead = ByteBuffer.allocateDirect(READ_AHEAD_BYTES).limit(0);

    private static final class CrcAccumulator {
        private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();

        void update(ByteBuffer b) {
            crc.update(b.duplicate());
        }

        void pad(int n) {
            for (int i = 0; i < n; i++) {
                crc.update(0);
            }
        }

        int value() {
            return (int) crc.getValue();
        }
    }
}
