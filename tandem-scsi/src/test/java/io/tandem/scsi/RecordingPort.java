package io.tandem.scsi;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fabric for tests: hands out Data-Out registered per task and records every completion and
 * abort, failing loudly if a task ends twice.
 */
final class RecordingPort implements TransportPort {

    /** How a task ended. Exactly one of response / aborted. */
    record Outcome(ScsiResponse response, boolean aborted) {
    }

    private final Map<ScsiTask, byte[]> dataOut = new ConcurrentHashMap<>();
    private final Map<ScsiTask, CompletableFuture<Outcome>> outcomes = new ConcurrentHashMap<>();
    private final Map<ScsiTask, CompletableFuture<Void>> pendingDataOut = new ConcurrentHashMap<>();
    private final AtomicInteger duplicateEndings = new AtomicInteger();
    /** When set, receiveDataOut waits for {@link #releaseDataOut} (to test aborts during transfer). */
    private volatile boolean holdDataOut;

    void dataOut(ScsiTask task, byte[] data) {
        dataOut.put(task, data);
    }

    void holdDataOut(boolean hold) {
        this.holdDataOut = hold;
    }

    void releaseDataOut(ScsiTask task) {
        CompletableFuture<Void> f = pendingDataOut.remove(task);
        if (f != null) {
            f.complete(null);
        }
    }

    @Override
    public CompletableFuture<Void> receiveDataOut(ScsiTask task, ByteBuffer into) {
        byte[] data = dataOut.getOrDefault(task, new byte[0]);
        if (into.remaining() > task.expectedDataTransferLength()) {
            return CompletableFuture.failedFuture(new AssertionError("asked for more than the EDTL"));
        }
        int n = Math.min(into.remaining(), data.length);
        into.put(into.position(), data, 0, n);
        if (holdDataOut) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            pendingDataOut.put(task, f);
            return f;
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void complete(ScsiTask task, ScsiResponse response) {
        end(task, new Outcome(response, false));
    }

    @Override
    public void aborted(ScsiTask task) {
        CompletableFuture<Void> f = pendingDataOut.remove(task);
        if (f != null) {
            f.completeExceptionally(new IllegalStateException("aborted"));
        }
        end(task, new Outcome(null, true));
    }

    private void end(ScsiTask task, Outcome outcome) {
        if (!outcomes.computeIfAbsent(task, t -> new CompletableFuture<>()).complete(outcome)) {
            duplicateEndings.incrementAndGet();
        }
    }

    CompletableFuture<Outcome> outcome(ScsiTask task) {
        return outcomes.computeIfAbsent(task, t -> new CompletableFuture<>());
    }

    Outcome await(ScsiTask task) {
        try {
            return outcome(task).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("task " + task + " did not end", e);
        }
    }

    boolean ended(ScsiTask task) {
        return outcome(task).isDone();
    }

    int duplicateEndings() {
        return duplicateEndings.get();
    }
}
