package io.tandem.it.initiator;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One TCP connection carrying iSCSI PDUs: framing, padding, digests and bounded reads.
 *
 * <p>Reads go through the socket adaptor's input stream so that SO_TIMEOUT applies; a read that
 * exceeds its deadline throws {@link SocketTimeoutException} and the caller decides what that means.
 * Writes are serialised by a lock so that whole PDUs never interleave.
 */
public final class PduChannel implements AutoCloseable {
    /** -Dtandem.it.trace=true or TANDEM_IT_TRACE=true prints every PDU (login text decoded) to stderr. */
    private static final boolean TRACE = Boolean.getBoolean("tandem.it.trace")
            || "true".equals(System.getenv("TANDEM_IT_TRACE"));
    /** Slice of blocking time between deadline checks. */
    private static final int POLL_MILLIS = 200;

    private final SocketChannel channel;
    private final InputStream in;
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile boolean headerDigest;
    private volatile boolean dataDigest;
    private volatile boolean closed;

    private PduChannel(SocketChannel channel) throws IOException {
        this.channel = channel;
        this.channel.socket().setSoTimeout(POLL_MILLIS);
        this.in = channel.socket().getInputStream();
    }

    public static PduChannel connect(InetSocketAddress address, Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.socket().setTcpNoDelay(true);
            ch.socket().connect(address, (int) timeout.toMillis());
            return new PduChannel(ch);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Turns CRC32C digests on or off for subsequent PDUs in both directions (after login). */
    public void digests(boolean header, boolean data) {
        this.headerDigest = header;
        this.dataDigest = data;
    }

    public boolean headerDigest() { return headerDigest; }
    public boolean dataDigest() { return dataDigest; }

    /** Encodes a PDU exactly as {@link #send} would put it on the wire. Lengths come from the header. */
    public byte[] encode(Pdu pdu) {
        return encode(pdu, headerDigest, dataDigest);
    }

    public static byte[] encode(Pdu pdu, boolean withHeaderDigest, boolean withDataDigest) {
        byte[] ahs = pdu.ahs();
        byte[] data = pdu.data();
        int headerLen = Pdu.BHS_LENGTH + ahs.length;
        int total = headerLen + (withHeaderDigest ? 4 : 0);
        int dataStart = total;
        if (data.length > 0) {
            total += Digests.padded(data.length) + (withDataDigest ? 4 : 0);
        }
        byte[] out = new byte[total];
        System.arraycopy(pdu.bhs(), 0, out, 0, Pdu.BHS_LENGTH);
        System.arraycopy(ahs, 0, out, Pdu.BHS_LENGTH, ahs.length);
        if (withHeaderDigest) {
            Digests.put(out, 0, headerLen, out, headerLen);
        }
        if (data.length > 0) {
            System.arraycopy(data, 0, out, dataStart, data.length);
            if (withDataDigest) {
                int padded = Digests.padded(data.length);
                Digests.put(out, dataStart, padded, out, dataStart + padded);
            }
        }
        return out;
    }

    /** Sends a PDU after filling TotalAHSLength and DataSegmentLength from its segments. */
    public void send(Pdu pdu) throws IOException {
        pdu.fillLengths();
        trace("->", pdu);
        sendRaw(encode(pdu));
    }

    /** Sends a PDU with whatever lengths its header already claims (for forged PDUs). */
    public void sendAsIs(Pdu pdu) throws IOException {
        trace("->", pdu);
        sendRaw(encode(pdu));
    }

    /** Writes arbitrary bytes. */
    public void sendRaw(byte[] bytes) throws IOException {
        writeLock.lock();
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Reads one PDU, waiting at most {@code timeout} for it to start and complete.
     *
     * @throws SocketTimeoutException nothing (or only part of a PDU) arrived in time
     * @throws EOFException           the peer closed the connection
     * @throws DigestMismatchException a header or data digest did not verify
     */
    public Pdu receive(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] bhs = new byte[Pdu.BHS_LENGTH];
        readFully(bhs, 0, Pdu.BHS_LENGTH, deadline);
        return readRest(bhs, deadline);
    }

    /**
     * Reads one PDU. Waits indefinitely for its first byte (checking {@code stop} between polls),
     * then gives the rest of the PDU {@code bodyTimeout}.
     */
    public Pdu receiveIdle(Duration bodyTimeout, java.util.function.BooleanSupplier stop) throws IOException {
        byte[] first = new byte[1];
        while (true) {
            if (stop.getAsBoolean() || closed) {
                throw new EOFException("channel closed locally");
            }
            try {
                int n = in.read(first, 0, 1);
                if (n < 0) {
                    throw new EOFException("connection closed by peer");
                }
                if (n == 1) {
                    break;
                }
            } catch (SocketTimeoutException e) {
                // idle: keep waiting
            }
        }
        long deadline = System.nanoTime() + bodyTimeout.toNanos();
        byte[] bhs = new byte[Pdu.BHS_LENGTH];
        bhs[0] = first[0];
        readFully(bhs, 1, Pdu.BHS_LENGTH - 1, deadline);
        return readRest(bhs, deadline);
    }

    private Pdu readRest(byte[] bhs, long deadline) throws IOException {
        int ahsLen = (bhs[Pdu.OFF_TOTAL_AHS_LENGTH] & 0xff) * 4;
        int dataLen = ((bhs[5] & 0xff) << 16) | ((bhs[6] & 0xff) << 8) | (bhs[7] & 0xff);
        byte[] ahs = new byte[ahsLen];
        readFully(ahs, 0, ahsLen, deadline);
        if (headerDigest) {
            byte[] digest = new byte[4];
            readFully(digest, 0, 4, deadline);
            byte[] header = new byte[Pdu.BHS_LENGTH + ahsLen];
            System.arraycopy(bhs, 0, header, 0, Pdu.BHS_LENGTH);
            System.arraycopy(ahs, 0, header, Pdu.BHS_LENGTH, ahsLen);
            int expected = Digests.crc32c(header, 0, header.length);
            int actual = Digests.read(digest, 0);
            if (expected != actual) {
                throw new DigestMismatchException("header", expected, actual);
            }
        }
        byte[] data = new byte[dataLen];
        if (dataLen > 0) {
            int padded = Digests.padded(dataLen);
            byte[] buf = new byte[padded];
            readFully(buf, 0, padded, deadline);
            if (dataDigest) {
                byte[] digest = new byte[4];
                readFully(digest, 0, 4, deadline);
                int expected = Digests.crc32c(buf, 0, padded);
                int actual = Digests.read(digest, 0);
                if (expected != actual) {
                    throw new DigestMismatchException("data", expected, actual);
                }
            }
            System.arraycopy(buf, 0, data, 0, dataLen);
        }
        Pdu pdu = Pdu.wrap(bhs, ahs, data);
        trace("<-", pdu);
        return pdu;
    }

    private void readFully(byte[] buf, int off, int len, long deadline) throws IOException {
        int done = 0;
        while (done < len) {
            if (closed) {
                throw new EOFException("channel closed locally");
            }
            try {
                int n = in.read(buf, off + done, len - done);
                if (n < 0) {
                    throw new EOFException("connection closed by peer after " + done + " of " + len + " bytes");
                }
                done += n;
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new SocketTimeoutException("read timed out after " + done + " of " + len + " bytes");
                }
            }
        }
    }

    /**
     * Waits until the peer closes the connection, discarding anything it sends meanwhile.
     *
     * @return true if the peer closed (EOF or reset) within the timeout
     */
    public boolean awaitPeerClose(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] sink = new byte[8192];
        while (System.nanoTime() - deadline < 0) {
            try {
                if (in.read(sink) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // keep waiting
            } catch (IOException e) {
                return true; // reset counts as closed
            }
        }
        return false;
    }

    private static void trace(String direction, Pdu pdu) {
        if (!TRACE) {
            return;
        }
        int op = pdu.opcode();
        boolean text = op == Opcode.LOGIN_REQUEST || op == Opcode.LOGIN_RESPONSE || op == Opcode.TEXT_REQUEST
                || op == Opcode.TEXT_RESPONSE;
        String keys = text ? " " + new String(pdu.data(), java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ') : "";
        System.err.println(direction + " " + pdu + keys);
    }

    public boolean isOpen() {
        return !closed && channel.isOpen();
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to recover on close
        }
    }

    /** A received digest did not match the one computed over the received bytes. */
    public static final class DigestMismatchException extends IOException {
        public DigestMismatchException(String which, int expected, int actual) {
            super(String.format("%s digest mismatch: computed %08x, received %08x", which, expected, actual));
        }
    }
}
