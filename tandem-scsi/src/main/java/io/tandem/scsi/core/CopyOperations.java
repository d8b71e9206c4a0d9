package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;
import io.tandem.scsi.ScsiResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The copy manager's bookkeeping for EXTENDED COPY (LID1) on one logical unit: the operations in
 * progress, and the results held for RECEIVE COPY RESULTS, per I_T nexus and list identifier
 * (SPC-4 6.4 and 6.20). Results are held only for lists that asked for it (LIST ID USAGE 00b);
 * they are dropped when read back as the SPC-4 rules allow, when the nexus goes away, when the
 * same list identifier is used again, and beyond {@link #HELD_PER_NEXUS} per nexus, oldest first.
 */
public final class CopyOperations {

    /** Copies processed at once on this LU (RECEIVE COPY RESULTS: TOTAL CONCURRENT COPIES). */
    public static final int MAX_CONCURRENT = 32;
    /** Completed operations whose results one nexus may have held at a time. */
    public static final int HELD_PER_NEXUS = 16;

    /** COPY STATUS: COPY MANAGER STATUS values (SPC-4 6.20.2). */
    public static final int STATUS_IN_PROGRESS = 0x00;
    public static final int STATUS_COMPLETED = 0x01;
    public static final int STATUS_COMPLETED_WITH_ERRORS = 0x02;

    /** One EXTENDED COPY command's progress and outcome. */
    public static final class Operation {
        private final Nexus nexus;
        private final int listId;
        private final boolean hold;
        private int status = STATUS_IN_PROGRESS;   // guarded by the owning CopyOperations
        private int segmentsProcessed;
        private long bytesTransferred;
        private byte[] failureSense;
        private int failureStatus;

        private Operation(Nexus nexus, int listId, boolean hold) {
            this.nexus = nexus;
            this.listId = listId;
            this.hold = hold;
        }

        public int listId() { return listId; }
    }

    /** A snapshot of an operation for RECEIVE COPY RESULTS. */
    public record Snapshot(int status, int segmentsProcessed, long bytesTransferred, int scsiStatus, byte[] sense) {
    }

    private record Key(Nexus nexus, int listId) {
    }

    private final Map<Key, Operation> byList = new HashMap<>();      // guarded by this
    private final Map<Nexus, Deque<Operation>> held = new HashMap<>(); // completed, oldest first
    private int running;                                               // guarded by this

    /**
     * Registers a new copy. {@code listed} is false for LIST ID USAGE 11b (the list identifier is
     * not used); otherwise a copy with the same list identifier still in progress on this nexus is
     * refused with OPERATION IN PROGRESS, and held results of an earlier one are dropped.
     *
     * @return the operation, or null when {@link #MAX_CONCURRENT} copies are already running
     */
    public synchronized Operation begin(Nexus nexus, int listId, boolean listed, boolean hold) {
        if (listed) {
            Operation previous = byList.get(new Key(nexus, listId));
            if (previous != null && previous.status == STATUS_IN_PROGRESS) {
                throw ScsiException.of(SenseReason.OPERATION_IN_PROGRESS);
            }
        }
        if (running >= MAX_CONCURRENT) {
            return null;
        }
        Operation op = new Operation(nexus, listId, hold && listed);
        if (listed) {
            Operation previous = byList.put(new Key(nexus, listId), op);
            if (previous != null) {
                unhold(previous);
            }
        }
        running++;
        return op;
    }

    public synchronized void segmentDone(Operation op, long bytes) {
        op.segmentsProcessed++;
        op.bytesTransferred += bytes;
    }

    /** The copy ended with this SCSI status (and, for CHECK CONDITION, its sense data). */
    public synchronized void end(Operation op, int scsiStatus, byte[] sense) {
        running--;
        op.failureStatus = scsiStatus;
        op.failureSense = sense;
        op.status = scsiStatus == ScsiResponse.GOOD ? STATUS_COMPLETED : STATUS_COMPLETED_WITH_ERRORS;
        Key key = new Key(op.nexus, op.listId);
        if (!op.hold) {
            byList.remove(key, op);
            return;
        }
        Deque<Operation> list = held.computeIfAbsent(op.nexus, n -> new ArrayDeque<>());
        list.addLast(op);
        while (list.size() > HELD_PER_NEXUS) {
            Operation oldest = list.pollFirst();
            byList.remove(new Key(oldest.nexus, oldest.listId), oldest);
        }
    }

    /** The operation of this nexus and list identifier, running or held; null if there is none. */
    public synchronized Snapshot find(Nexus nexus, int listId) {
        Operation op = byList.get(new Key(nexus, listId));
        if (op == null) {
            return null;
        }
        return new Snapshot(op.status, op.segmentsProcessed, op.bytesTransferred, op.failureStatus, op.failureSense);
    }

    /** Drops held results once reported (a running operation is never dropped). */
    public synchronized void discard(Nexus nexus, int listId) {
        Operation op = byList.get(new Key(nexus, listId));
        if (op != null && op.status != STATUS_IN_PROGRESS) {
            byList.remove(new Key(nexus, listId));
            unhold(op);
        }
    }

    /** The nexus is gone: its held results with it. */
    public synchronized void forget(Nexus nexus) {
        held.remove(nexus);
        for (Iterator<Map.Entry<Key, Operation>> it = byList.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Operation> e = it.next();
            if (e.getKey().nexus().equals(nexus) && e.getValue().status != STATUS_IN_PROGRESS) {
                it.remove();
            }
        }
    }

    private void unhold(Operation op) {
        Deque<Operation> list = held.get(op.nexus);
        if (list != null) {
            list.remove(op);
            if (list.isEmpty()) {
                held.remove(op.nexus);
            }
        }
    }
}
