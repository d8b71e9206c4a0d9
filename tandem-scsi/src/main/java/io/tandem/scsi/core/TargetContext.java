package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/** What handlers may know about the target device as a whole. */
public interface TargetContext {

    String targetName();

    /** Every logical unit, ordered by LUN. */
    List<LogicalUnit> logicalUnits();

    /** The opcode table (REPORT SUPPORTED OPERATION CODES renders it). */
    CommandSet commands();

    /** A buffer for bulk data (READ data-in, WRITE data-out), position 0, limit = capacity = {@code bytes}. */
    BufferPool bufferPool();

    /**
     * The abort engine, for commands that abort other tasks (PREEMPT AND ABORT): aborts the live
     * tasks of {@code lu} that {@code victims} selects, on behalf of {@code issuer}. Tasks of other
     * nexuses end with TASK ABORTED status when the LU's TAS bit is set; when it is clear,
     * {@code othersUnitAttention} (may be null) is established for every other nexus that lost a task.
     * A medium write already started runs to its end first. The future completes once every victim
     * has ended; the calling command must exclude itself from {@code victims}.
     */
    CompletableFuture<Void> abortTasks(LogicalUnit lu, Predicate<Command> victims, Nexus issuer,
                                       SenseReason othersUnitAttention);
}
