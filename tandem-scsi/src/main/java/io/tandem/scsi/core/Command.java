package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.ScsiTask;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One task as the core executes it: the fabric's {@link ScsiTask}, the decoded CDB fields, and
 * the task's life cycle. The life cycle is the abort engine's half of the contract: a task ends
 * exactly once, either completed or aborted, and every backend operation it starts goes through
 * {@link #io} so an abort can (a) refuse operations not yet started and (b) wait for the ones
 * already in flight before the abort is reported done.
 *
 * <p>A command whose row is flagged {@link CommandFlag#WRITES_MEDIUM} is <em>committed</em> by its
 * first backend operation: from then on an abort no longer refuses its later operations but waits
 * until the whole command has run (then reports it aborted). So an aborted command that writes the
 * medium has either changed nothing or done all of its work, never a part of it (see docs/scsi.md).
 */
public final class Command {

    private enum State { ACTIVE, COMPLETED, ABORTED }

    private final ScsiTask task;
    private final LogicalUnit lu;
    private final CommandDescriptor descriptor;
    private final TargetContext target;
    private final long lba;
    private final long transferBlocks;
    private ByteBuffer dataOut;
    private final java.util.List<ByteBuffer> bulk = new java.util.ArrayList<>(2);
    private Runnable start;

    private State state = State.ACTIVE;              // guarded by this
    private boolean committed;                       // guarded by this
    private final List<CompletableFuture<?>> inFlight = new ArrayList<>(1); // guarded by this
    /** Completes when the execution pipeline is done with the task (its handler's future ended). */
    private final CompletableFuture<Void> pipelineEnded = new CompletableFuture<>();

    public Command(ScsiTask task, LogicalUnit lu, CommandDescriptor descriptor, TargetContext target,
                   long lba, long transferBlocks) {
        this.task = task;
        this.lu = lu;
        this.descriptor = descriptor;
        this.target = target;
        this.lba = lba;
        this.transferBlocks = transferBlocks;
    }

    public ScsiTask task() { return task; }
    public Nexus nexus() { return task.nexus(); }
    public byte[] cdb() { return task.cdb(); }
    /** The addressed LU; null only for commands flagged {@link CommandFlag#ALLOWED_WITHOUT_LUN} sent to a missing LUN. */
    public LogicalUnit lu() { return lu; }
    public CommandDescriptor descriptor() { return descriptor; }
    public TargetContext target() { return target; }
    /** Decoded LBA (block commands); for 16-byte CDBs already known to be inside the LU. */
    public long lba() { return lba; }
    /** Decoded transfer length in blocks (block commands). */
    public long transferBlocks() { return transferBlocks; }

    /**
     * The Data-Out received for this command, position 0: at most the CDB's length and at most the
     * expected data transfer length (an overflowing initiator sends less than the CDB says).
     */
    /** A pooled direct buffer for this command's bulk data, returned by {@link #releaseBulk()}. */
    public synchronized ByteBuffer bulk(int bytes) {
        ByteBuffer pooled = target().bufferPool().acquire(bytes);
        bulk.add(pooled);
        // An exact-size view: handlers may clear() or flip() it without exposing the pooled capacity.
        return pooled.slice(0, bytes);
    }

    /** Gives the command's bulk buffers back; only after the fabric has sent everything. */
    public synchronized void releaseBulk() {
        for (ByteBuffer buffer : bulk) {
            target().bufferPool().release(buffer);
        }
        bulk.clear();
    }

    public ByteBuffer dataOut() { return dataOut; }
    public void dataOut(ByteBuffer buffer) { this.dataOut = buffer; }

    /** Whether descriptor-format sense is in effect for this command's LU. */
    public boolean descriptorSense() {
        return lu != null && lu.modeParameters().descriptorSense();
    }

    /** Data-in cut to the CDB's allocation length: the response never carries more than asked for. */
    public CompletableFuture<ScsiResponse> dataIn(byte[] data, int length, long allocationLength) {
        int n = (int) Math.min(length, allocationLength);
        return CompletableFuture.completedFuture(ScsiResponse.good(ByteBuffer.wrap(data, 0, n).slice()));
    }

    public CompletableFuture<ScsiResponse> dataIn(byte[] data, long allocationLength) {
        return dataIn(data, data.length, allocationLength);
    }

    public static CompletableFuture<ScsiResponse> good() {
        return CompletableFuture.completedFuture(ScsiResponse.good());
    }

    /**
     * Starts a backend operation on behalf of this task, unless the task was aborted before it
     * committed, in which case the operation is not started and the returned future fails with
     * {@link TaskAbortedException}. The first operation of a medium-writing command commits it.
     * On a fenced node ({@link TargetContext#fenced()}) an uncommitted task starts nothing either:
     * the future fails with ASYMMETRIC ACCESS STATE TRANSITION; nor does an uncommitted medium write
     * once the LU is sanitizing (SANITIZE IN PROGRESS).
     */
    public <T> CompletableFuture<T> io(Supplier<CompletableFuture<T>> operation) {
        CompletableFuture<T> f;
        synchronized (this) {
            if (state == State.ABORTED && !committed) {
                return CompletableFuture.failedFuture(TaskAbortedException.INSTANCE);
            }
            // A fenced node starts nothing new on the medium; a committed write still runs to its
            // end (all or nothing, as for aborts). The initiator retries on another path.
            if (!committed && lu != null && target.fenced()) {
                return CompletableFuture.failedFuture(ScsiException.of(SenseReason.ASYMMETRIC_ACCESS_STATE_TRANSITION));
            }
            if (descriptor.has(CommandFlag.WRITES_MEDIUM)) {
                // A sanitize began (on any node) after this write was admitted: it does not start.
                // Checked under this task's lock, the lock isCommitted() takes, so a sanitize's drain
                // either sees this write committed (and waits for it) or this write sees the sanitize.
                ScsiException sanitizing = lu == null || descriptor.has(CommandFlag.SANITIZE) ? null : lu.sanitize().refusal(false);
                if (!committed && sanitizing != null) {
                    return CompletableFuture.failedFuture(sanitizing);
                }
                committed = true;
            }
            f = operation.get();
            if (f.isDone()) {
                return f;
            }
            inFlight.add(f);
        }
        f.whenComplete((r, e) -> {
            synchronized (this) {
                inFlight.remove(f);
            }
        });
        return f;
    }

    public synchronized boolean isAborted() {
        return state == State.ABORTED;
    }

    /** Whether the task was aborted and will start no more backend work (aborted and not committed). */
    public synchronized boolean isStopped() {
        return state == State.ABORTED && !committed;
    }

    /** Whether a medium-writing backend operation has started (the command will run to its end). */
    public synchronized boolean isCommitted() {
        return committed;
    }

    /** Claims the right to report completion; false if the task was already aborted (or completed). */
    public synchronized boolean markCompleted() {
        if (state != State.ACTIVE) {
            return false;
        }
        state = State.COMPLETED;
        return true;
    }

    /**
     * Claims the task for an abort. Returns null when the task already completed (nothing to
     * abort); otherwise a future that completes once the task does no more backend work: at once
     * when nothing is in flight, when its in-flight operations end, or, for a committed task, when
     * its whole execution has ended.
     */
    public CompletableFuture<Void> markAborted() {
        List<CompletableFuture<?>> wait;
        synchronized (this) {
            if (state != State.ACTIVE) {
                return null;
            }
            state = State.ABORTED;
            if (committed) {
                return pipelineEnded.copy();
            }
            wait = List.copyOf(inFlight);
        }
        if (wait.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.allOf(wait.stream().map(f -> f.handle((r, e) -> null))
                .toArray(CompletableFuture[]::new));
    }

    /** Completes once the execution pipeline is done with this task, completed or aborted. */
    public CompletableFuture<Void> whenEnded() {
        return pipelineEnded.copy();
    }

    /** The execution pipeline is done with this task (called once, completed or aborted). */
    public void pipelineEnded() {
        pipelineEnded.complete(null);
    }

    /** How a parked task is started when the task set lets it run (ordering). */
    public void onStart(Runnable start) { this.start = start; }
    public void start() { start.run(); }

    @Override
    public String toString() {
        return descriptor.name() + " " + task;
    }
}
