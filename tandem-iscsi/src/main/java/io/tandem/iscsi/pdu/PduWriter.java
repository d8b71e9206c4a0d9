package io.tandem.iscsi.pdu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sends PDUs on a connection. Callers build the BHS in {@link #header()} while holding
 * {@link #lock()} (so sequence numbers are assigned in wire order) and then call {@link #send}.
 * Header, digests, payload and padding go out in one gathering write; the payload is never copied.
 */
public final class PduWriter {

    private final GatheringByteChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer headerBuffer = ByteBuffer.allocateDirect(Bhs.LENGTH + Digests.LENGTH);
    private final ByteBuffer trailerBuffer = ByteBuffer.allocateDirect(3 + Digests.LENGTH);
    private final Bhs header = new Bhs().wrap(headerBuffer, 0);
    private final ByteBuffer[] vector = new ByteBuffer[3];
    private volatile boolean headerDigest;
    private volatile boolean dataDigest;

    public PduWriter(GatheringByteChannel channel) {
        this.channel = channel;
    }

    public void configure(boolean headerDigest, boolean dataDigest) {
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
    }

    public ReentrantLock lock() {
        return lock;
    }

    /** The reusable header, cleared: build a PDU in it (lock held), then {@link #send}. */
    public Bhs header() {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("PduWriter.header() requires the writer lock");
        }
        return header.clear();
    }

    /** Sends the built header with {@code data} (position..limit; may be null). Lock must be held. */
    public void send(ByteBuffer data) throws IOException {
        int length = data == null ? 0 : data.remaining();
        header.dataSegmentLength(length);
        headerBuffer.clear();
        int headerLength = Bhs.LENGTH;
        if (headerDigest) {
            Digests.writeWire(headerBuffer, Bhs.LENGTH, Digests.crc32c(headerBuffer, 0, Bhs.LENGTH, 0));
            headerLength += Digests.LENGTH;
        }
        headerBuffer.limit(headerLength);
        int count = 1;
        vector[0] = headerBuffer;
        if (length > 0) {
            ByteBuffer payload = data.duplicate();
            vector[count++] = payload;
            int pad = Digests.padding(length);
            trailerBuffer.clear();
            for (int i = 0; i < pad; i++) {
                trailerBuffer.put(i, (byte) 0);
            }
            int trailerLength = pad;
            if (dataDigest) {
                Digests.writeWire(trailerBuffer, pad, Digests.crc32c(payload, payload.position(), length, pad));
                trailerLength += Digests.LENGTH;
            }
            if (trailerLength > 0) {
                trailerBuffer.limit(trailerLength);
                vector[count++] = trailerBuffer;
            }
        }
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += vector[i].remaining();
        }
        while (total > 0) {
            total -= channel.write(vector, 0, count);
        }
        for (int i = 0; i < count; i++) {
            vector[i] = null;
        }
    }
}
