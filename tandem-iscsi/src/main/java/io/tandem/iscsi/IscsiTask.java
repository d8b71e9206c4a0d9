package io.tandem.iscsi;

import io.tandem.iscsi.pdu.PduException;
import io.tandem.scsi.ScsiTask;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * The iSCSI side of one SCSI task: where its Data-Out goes and which R2Ts are outstanding.
 *
 * <p>Unsolicited data (immediate + unsolicited Data-Out, up to FirstBurstLength) may arrive before
 * the SCSI core asks for it; it is staged and copied once into the core's buffer. Solicited data
 * lands directly in the core's buffer. Data PDUs arrive in order (DataPDUInOrder and
 * DataSequenceInOrder are negotiated Yes), so each burst is tracked by its next expected offset.
 */
final class IscsiTask {

    /** One outstanding R2T: the range [offset, offset + length) and how much of it has arrived. */
    record Burst(int ttt, int r2tSn, int offset, int length, int[] received, int[] nextDataSn) {
        boolean done() {
            return received[0] == length;
        }
    }

    final int itt;
    final long lun;
    final int expectedLength;
    final int cmdSn;
    final boolean immediate;
    ScsiTask scsiTask;
    /** Set on the reader thread when the sequencer hands the task to the SCSI core. */
    boolean delivered;
    /** Aborted while still held behind a CmdSN gap: when its turn comes, it only consumes its CmdSN. */
    boolean abortedBeforeDelivery;

    /** Bytes the initiator sends without R2T: immediate data + unsolicited Data-Out. */
    final int unsolicitedLength;
    private int unsolicitedReceived;
    private int unsolicitedNextDataSn;
    private ByteBuffer staging;

    private ByteBuffer target;
    private int targetLength;
    private int coveredBytes;
    private CompletableFuture<Void> dataOutDone;
    private int nextR2tSn;
    private int nextSolicitOffset;
    private final ArrayDeque<Burst> outstanding = new ArrayDeque<>();
    private boolean finished;
    int dataInSn;

    IscsiTask(int itt, long lun, int expectedLength, int cmdSn, boolean immediate, int unsolicitedLength) {
        this.itt = itt;
        this.lun = lun;
        this.expectedLength = expectedLength;
        this.cmdSn = cmdSn;
        this.immediate = immediate;
        this.unsolicitedLength = unsolicitedLength;
    }

    /** Stores immediate data that came with the command. */
    synchronized void immediateData(ByteBuffer data) {
        int length = data.remaining();
        if (length == 0) {
            return;
        }
        if (length == unsolicitedLength && data.position() == 0 && data.limit() == data.capacity()) {
            staging = data; // the whole first burst came as immediate data: keep its buffer, no copy
        } else {
            staging = ByteBuffer.allocate(unsolicitedLength);
            staging.put(data);
        }
        unsolicitedReceived = length;
    }

    /**
     * Where the payload of an unsolicited Data-Out at {@code offset} of {@code length} bytes goes.
     * Returns the sink positioned at offset, or null to discard it.
     */
    synchronized ByteBuffer unsolicitedSink(int offset, int length, int dataSn) throws PduException {
        if (offset != unsolicitedReceived || offset + length > unsolicitedLength) {
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "unsolicited Data-Out at offset "
                    + offset + "+" + length + ", expected " + unsolicitedReceived + " within first burst " + unsolicitedLength);
        }
        if (dataSn != unsolicitedNextDataSn) {
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "Data-Out DataSN " + dataSn
                    + ", expected " + unsolicitedNextDataSn);
        }
        unsolicitedNextDataSn++;
        if (target != null) {
            // null: the payload runs past what the core wants; the caller copies the overlap
            return offset + length <= targetLength ? target.duplicate().limit(offset + length).position(offset) : null;
        }
        if (staging == null) {
            staging = ByteBuffer.allocate(unsolicitedLength);
        }
        return staging.duplicate().limit(offset + length).position(offset);
    }

    /** Copies the part of an unsolicited payload at {@code offset} that the task keeps (the rest is surplus). */
    synchronized void keepOverlap(int offset, ByteBuffer payload) {
        ByteBuffer into = target != null ? target : staging;
        int limit = target != null ? targetLength : unsolicitedLength;
        int keep = Math.min(payload.remaining(), limit - offset);
        if (into != null && keep > 0) {
            into.put(offset, payload, payload.position(), keep);
        }
    }

    /** Records unsolicited data that arrived; returns true when the task's Data-Out is now complete. */
    synchronized boolean unsolicitedArrived(int offset, int length) {
        unsolicitedReceived += length;
        if (target != null) {
            coveredBytes += Math.max(0, Math.min(offset + length, targetLength) - offset);
        }
        return checkDone();
    }

    /**
     * The core wants the Data-Out in {@code into}. Copies staged data, returns the first R2Ts to
     * send (the caller sends them), and sets the future completed when everything arrived.
     */
    synchronized java.util.List<Burst> start(ByteBuffer into, CompletableFuture<Void> done, int maxBurst,
                                             int maxOutstanding, IntSupplier tttSource) {
        this.target = into.slice();
        this.targetLength = into.remaining();
        this.dataOutDone = done;
        if (staging != null) {
            int copy = Math.min(unsolicitedReceived, targetLength);
            target.put(0, staging, 0, copy);
            coveredBytes = copy;
            staging = null; // unsolicited PDUs still to come land in target directly
        }
        nextSolicitOffset = unsolicitedLength;
        java.util.List<Burst> first = new java.util.ArrayList<>();
        while (outstanding.size() < maxOutstanding && nextSolicitOffset < targetLength) {
            first.add(newBurst(maxBurst, tttSource));
        }
        checkDone();
        return first;
    }

    private Burst newBurst(int maxBurst, IntSupplier tttSource) {
        int length = Math.min(maxBurst, targetLength - nextSolicitOffset);
        Burst burst = new Burst(tttSource.getAsInt(), nextR2tSn++, nextSolicitOffset, length, new int[1], new int[1]);
        nextSolicitOffset += length;
        outstanding.add(burst);
        return burst;
    }

    /** Finds the outstanding R2T a solicited Data-Out answers, validating order and bounds. */
    synchronized Burst burstFor(int ttt, int offset, int length, int dataSn) throws PduException {
        for (Burst burst : outstanding) {
            if (burst.ttt() == ttt) {
                int expectedOffset = burst.offset() + burst.received()[0];
                if (offset != expectedOffset || length > burst.length() - burst.received()[0]) {
                    throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "Data-Out offset " + offset + "+"
                            + length + " does not continue R2T " + burst.r2tSn() + " at " + expectedOffset);
                }
                if (dataSn != burst.nextDataSn()[0]) {
                    throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "Data-Out DataSN " + dataSn
                            + ", expected " + burst.nextDataSn()[0]);
                }
                burst.nextDataSn()[0]++;
                return burst;
            }
        }
        return null;
    }

    synchronized ByteBuffer solicitedSink(int offset, int length) {
        return target.duplicate().limit(offset + length).position(offset);
    }

    /**
     * Records solicited data; returns R2Ts to send next (when a burst finished), possibly empty.
     */
    synchronized java.util.List<Burst> solicitedArrived(Burst burst, int length, int maxBurst, int maxOutstanding,
                                                        IntSupplier tttSource) {
        burst.received()[0] += length;
        coveredBytes += length;
        java.util.List<Burst> next = java.util.List.of();
        if (burst.done()) {
            outstanding.remove(burst);
            if (nextSolicitOffset < targetLength && outstanding.size() < maxOutstanding) {
                next = java.util.List.of(newBurst(maxBurst, tttSource));
            }
        }
        checkDone();
        return next;
    }

    private boolean checkDone() {
        if (target != null && !finished && coveredBytes >= targetLength) {
            finished = true;
            dataOutDone.complete(null);
            return true;
        }
        return false;
    }

    /** Fails a pending Data-Out wait (connection lost, task aborted). */
    synchronized void fail(Throwable cause) {
        if (dataOutDone != null && !dataOutDone.isDone()) {
            finished = true;
            dataOutDone.completeExceptionally(cause);
        }
    }

    @FunctionalInterface
    interface IntSupplier {
        int getAsInt();
    }
}
