package io.tandem.scsi;

import io.tandem.scsi.core.BlockAddressing;
import io.tandem.scsi.core.BufferPool;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.CommandSet;
import io.tandem.scsi.core.DataDirection;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.LuIdentity;
import io.tandem.scsi.core.LunAddress;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseData;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.core.TargetContext;
import io.tandem.scsi.core.TaskAbortedException;
import io.tandem.storage.StorageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The SCSI target device: the logical units one target name exports, and the scsi layer's entry
 * point for fabrics.
 *
 * <p>{@link #submit} runs the one precheck (in this order: LUN exists, opcode known, CDB reserved
 * bits, unit attention, ALUA state, reservation, sanitize state, transfer length and LBA range,
 * write protection),
 * admits the task to its LU's task set (task-attribute ordering), fetches Data-Out, runs the
 * table's handler and reports the outcome exactly once. Execution is a chain of futures: nothing
 * blocks a thread, and the fabric may see {@code complete} on the thread that called
 * {@code submit} (when everything finished synchronously) or on a backend's thread.
 *
 * <p>Task management aborts through one engine ({@link #abort}): an aborted task never starts
 * another backend operation, the ones it already started are waited for, and only then is
 * {@link TransportPort#aborted} called and the task function reported complete.
 */
public final class ScsiTarget implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ScsiTarget.class.getName());
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final String targetName;
    private final List<LogicalUnit> units;
    private final Map<Integer, LogicalUnit> byNumber = new HashMap<>();
    private final Set<Nexus> nexuses = ConcurrentHashMap.newKeySet();
    private final CommandSet table = CommandTable.TABLE;
    private final Context context = new Context();
    /** Up to 256 MiB of idle bulk buffers are kept for reuse. */
    private final BufferPool bufferPool = new BufferPool(256L << 20);
    private final Object liveLock = new Object();
    private int liveTasks;          // guarded by liveLock
    private volatile boolean closed;

    public ScsiTarget(String targetName, List<LunSpec> luns) {
        this(targetName, luns, LuIdentity.DEFAULT_COMPANY_ID);
    }

    /**
     * @param ieeeCompanyId the 24-bit IEEE company id placed in every LU's NAA designator
     */
    public ScsiTarget(String targetName, List<LunSpec> luns, int ieeeCompanyId) {
        this.targetName = Objects.requireNonNull(targetName, "targetName");
        List<LogicalUnit> list = new ArrayList<>();
        for (LunSpec spec : luns) {
            LogicalUnit lu = new LogicalUnit(targetName, spec, ieeeCompanyId);
            if (byNumber.putIfAbsent(spec.number(), lu) != null) {
                throw new IllegalArgumentException("LUN " + spec.number() + " configured twice");
            }
            list.add(lu);
        }
        list.sort(Comparator.comparingInt(LogicalUnit::number));
        this.units = List.copyOf(list);
    }

    public String targetName() {
        return targetName;
    }

    /** The logical unit with this number, or null (for the iSCSI layer and management). */
    public LogicalUnit logicalUnit(int number) {
        return byNumber.get(number);
    }

    public List<LogicalUnit> logicalUnits() {
        return units;
    }

    // ------------------------------------------------------------------ commands

    /** Accepts a command. Never throws; the outcome reaches {@code task.port()} exactly once. */
    public void submit(ScsiTask task) {
        LogicalUnit lu = null;
        try {
            int number = LunAddress.decode(task.lun());
            lu = number == LunAddress.UNADDRESSABLE ? null : byNumber.get(number);
            Command command = precheck(task, lu);
            if (!begin()) {
                // Shutting down: BUSY makes the initiator retry, on another path if it has one.
                task.port().complete(task, new ScsiResponse(ScsiResponse.BUSY, null, null));
                return;
            }
            if (lu == null) {
                run(command);
                return;
            }
            command.onStart(() -> run(command));
            switch (lu.taskSet().enter(command)) {
                case RUN_NOW -> run(command);
                case WAIT -> { } // started by the task that ends last before it
                case DUPLICATE_TAG -> {
                    end();
                    throw ScsiException.of(SenseReason.OVERLAPPED_COMMANDS_ATTEMPTED);
                }
            }
        } catch (ScsiException e) {
            task.port().complete(task, checkCondition(e, lu));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "submit failed for " + task, e);
            task.port().complete(task, checkCondition(ScsiException.of(SenseReason.INTERNAL_TARGET_FAILURE), lu));
        }
    }

    /**
     * The precheck. Each concern is decided from the opcode table's flags, in SPC/SAM order, before
     * the task joins the task set. Returns the decoded command or throws the first failure.
     */
    private Command precheck(ScsiTask task, LogicalUnit lu) {
        byte[] cdb = task.cdb();
        if (cdb.length == 0) {
            throw ScsiException.withCdbField(SenseReason.INVALID_COMMAND_OPERATION_CODE, 0, 7);
        }
        int opcode = cdb[0] & 0xFF;
        CommandDescriptor d = table.find(opcode, cdb.length > 1 ? cdb[1] : 0);

        // 1. The logical unit exists (INQUIRY, REPORT LUNS and REQUEST SENSE answer regardless).
        if (lu == null && (d == null || !d.has(CommandFlag.ALLOWED_WITHOUT_LUN))) {
            throw ScsiException.of(SenseReason.LOGICAL_UNIT_NOT_SUPPORTED);
        }
        // 2. The operation code (and service action) is implemented.
        if (d == null) {
            throw table.usesServiceActions(opcode)
                    ? ScsiException.invalidCdbField(1, 4)
                    : ScsiException.withCdbField(SenseReason.INVALID_COMMAND_OPERATION_CODE, 0, 7);
        }
        // 3. No bit outside the CDB usage mask is set.
        checkReservedBits(d, cdb);
        BlockAddressing addressing = d.addressing();
        long lba = addressing.lba(cdb);
        long blocks = addressing.transferLength(cdb);
        long dataOut = d.direction() == DataDirection.OUT ? d.dataOutLength().bytes(cdb, lu, blocks) : 0;
        task.commandDataOutLength((int) Math.min(dataOut, Integer.MAX_VALUE));

        if (lu != null) {
            // 4. Unit attention: reported (and cleared) by the first command not exempt from it.
            if (!d.has(CommandFlag.UA_EXEMPT)) {
                SenseReason ua = lu.unitAttentions(task.nexus()).poll();
                if (ua != null) {
                    throw ScsiException.of(ua);
                }
            }
            // 5. ALUA access state of the target port group.
            checkAccessState(lu, d);
            // 6. Reservations: the LU's policy reads the row's PR_ALLOWED_* / SPC2 flags.
            if (lu.reservations().conflicts(task.nexus(), d)) {
                throw ScsiException.reservationConflict();
            }
            // 6a. A sanitize operation in progress (or failed) keeps the medium off limits.
            if (!d.has(CommandFlag.RUNS_DURING_SANITIZE)) {
                lu.sanitize().check(d.has(CommandFlag.SANITIZE));
            }
            // 7. Transfer length and LBA range.
            if (addressing != BlockAddressing.NONE) {
                if (d.has(CommandFlag.TRANSFER_LIMITED) && blocks > lu.maxTransferBlocks()) {
                    throw ScsiException.invalidCdbField(addressing.lengthOffset(), 7);
                }
                long capacity = lu.blockCount();
                if (Long.compareUnsigned(lba, capacity) > 0 || blocks > capacity - lba) {
                    throw ScsiException.of(SenseReason.LBA_OUT_OF_RANGE);
                }
            }
            // 8. Write protection: configured read-only, refused by the backend, or SWP in the Control page.
            if (d.has(CommandFlag.WRITES_MEDIUM)) {
                if (lu.readOnly()) {
                    throw ScsiException.of(SenseReason.WRITE_PROTECTED);
                }
                if (lu.modeParameters().softwareWriteProtect()) {
                    throw ScsiException.of(SenseReason.SOFTWARE_WRITE_PROTECTED);
                }
            }
            // An initiator expecting less Data-Out than the CDB implies gets the command run on
            // what it sends, which for block commands must be whole blocks.
            if (dataOut > task.expectedDataTransferLength() && addressing != BlockAddressing.NONE
                    && task.expectedDataTransferLength() % lu.blockSize() != 0) {
                throw ScsiException.of(SenseReason.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
            }
        }
        return new Command(task, lu, d, context, lba, blocks);
    }

    private static void checkReservedBits(CommandDescriptor d, byte[] cdb) {
        byte[] usage = d.usage();
        if (cdb.length < usage.length) {
            throw ScsiException.withCdbField(SenseReason.INVALID_FIELD_IN_CDB, cdb.length - 1, -1);
        }
        for (int i = 1; i < usage.length; i++) {
            int reserved = cdb[i] & ~usage[i] & 0xFF;
            if (reserved != 0) {
                throw ScsiException.invalidCdbField(i, 31 - Integer.numberOfLeadingZeros(reserved));
            }
        }
    }

    private static void checkAccessState(LogicalUnit lu, CommandDescriptor d) {
        switch (lu.aluaState()) {
            case ACTIVE_OPTIMIZED, ACTIVE_NON_OPTIMIZED -> { }
            case STANDBY -> {
                if (!d.has(CommandFlag.ALUA_STANDBY_OK)) {
                    throw ScsiException.of(SenseReason.TARGET_PORT_IN_STANDBY_STATE);
                }
            }
            case UNAVAILABLE -> {
                if (!d.has(CommandFlag.ALUA_UNAVAILABLE_OK)) {
                    throw ScsiException.of(SenseReason.TARGET_PORT_IN_UNAVAILABLE_STATE);
                }
            }
            case TRANSITIONING -> {
                if (!d.has(CommandFlag.ALUA_TRANSITIONING_OK)) {
                    throw ScsiException.of(SenseReason.ASYMMETRIC_ACCESS_STATE_TRANSITION);
                }
            }
        }
    }

    /** Runs an admitted command: Data-Out, handler, completion. */
    private void run(Command c) {
        if (c.isAborted()) {
            return; // the abort engine reports it
        }
        ScsiTask task = c.task();
        CompletableFuture<ScsiResponse> result;
        // Once admitted the pipeline owns the task: every failure below ends it through finish().
        try {
            int transfer = Math.min(task.commandDataOutLength(), Math.max(0, task.expectedDataTransferLength()));
            if (transfer > 0) {
                ByteBuffer buffer = c.descriptor().addressing() != BlockAddressing.NONE
                        ? c.bulk(transfer) : ByteBuffer.allocate(transfer);
                c.dataOut(buffer);
                result = task.port().receiveDataOut(task, buffer.duplicate())
                        .thenCompose(v -> invoke(c));
            } else {
                result = invoke(c);
            }
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((response, error) -> finish(c, response, error));
    }

    private static CompletableFuture<ScsiResponse> invoke(Command c) {
        if (c.isAborted()) {
            return CompletableFuture.failedFuture(TaskAbortedException.INSTANCE);
        }
        try {
            return c.descriptor().handler().execute(c);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void finish(Command c, ScsiResponse response, Throwable error) {
        if (error != null) {
            if (c.isAborted()) {
                return; // the fabric failing an aborted task's transfer is expected; the abort engine reports it
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof TaskAbortedException) {
                return;
            }
            response = failure(cause, c);
        }
        if (!c.markCompleted()) {
            return; // aborted meanwhile: the abort engine owns the ending
        }
        try {
            c.task().port().complete(c.task(), response);
            c.releaseBulk(); // complete() has sent the data-in; nothing refers to the buffers now
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "fabric failed completing " + c, e);
        } finally {
            leave(c);
        }
    }

    private ScsiResponse failure(Throwable cause, Command c) {
        if (cause instanceof ScsiException e) {
            return checkCondition(e, c.lu());
        }
        if (cause instanceof StorageException e) {
            LOG.log(System.Logger.Level.WARNING, c + " failed in the backend: " + e.getMessage());
            return checkCondition(ScsiException.of(SenseReason.of(e.kind())), c.lu());
        }
        LOG.log(System.Logger.Level.ERROR, c + " failed", cause);
        return checkCondition(ScsiException.of(SenseReason.INTERNAL_TARGET_FAILURE), c.lu());
    }

    private static ScsiResponse checkCondition(ScsiException e, LogicalUnit lu) {
        if (e.isReservationConflict()) {
            return new ScsiResponse(ScsiResponse.RESERVATION_CONFLICT, null, null);
        }
        boolean descriptor = lu != null && lu.modeParameters().descriptorSense();
        return new ScsiResponse(ScsiResponse.CHECK_CONDITION, null, SenseData.build(e, descriptor));
    }

    /** The task left the task set: start whatever its ending unblocked. */
    private void leave(Command c) {
        try {
            if (c.lu() != null) {
                for (Command next : c.lu().taskSet().leave(c)) {
                    next.start();
                }
            }
        } finally {
            end();
        }
    }

    /** Counts a task as live; false once {@link #close} has begun. */
    private boolean begin() {
        synchronized (liveLock) {
            if (closed) {
                return false;
            }
            liveTasks++;
            return true;
        }
    }

    private void end() {
        synchronized (liveLock) {
            if (--liveTasks == 0) {
                liveLock.notifyAll();
            }
        }
    }

    // ------------------------------------------------------------------ nexus life cycle

    /** A new I_T nexus exists (login): its power-on/reset unit attention is established. */
    public void nexusAdded(Nexus nexus) {
        nexuses.add(nexus);
        for (LogicalUnit lu : units) {
            lu.unitAttentions(nexus).establish(SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET);
        }
    }

    /** The nexus ended (logout, session closed): its tasks are aborted, its per-nexus state dropped. */
    public void nexusRemoved(Nexus nexus) {
        nexuses.remove(nexus);
        for (LogicalUnit lu : units) {
            abort(lu.taskSet().select(c -> c.nexus().equals(nexus)));
            lu.forgetNexus(nexus);
        }
    }

    // ------------------------------------------------------------------ task management

    /** Runs a task management function; {@code referencedTag} is used by ABORT TASK only. */
    public CompletableFuture<TaskManagementResult> taskManagement(Nexus nexus, TaskManagementFunction function,
                                                                   long lun, long referencedTag) {
        try {
            return switch (function) {
                case ABORT_TASK -> withLu(lun, lu -> {
                    Command victim = lu.taskSet().find(nexus, referencedTag);
                    if (victim == null) {
                        return CompletableFuture.completedFuture(TaskManagementResult.TASK_DOES_NOT_EXIST);
                    }
                    return abort(List.of(victim)).thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE);
                });
                case ABORT_TASK_SET -> withLu(lun, lu -> abort(lu.taskSet().select(c -> c.nexus().equals(nexus)))
                        .thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE));
                case CLEAR_TASK_SET -> withLu(lun, lu -> clearTaskSet(lu, nexus));
                case LOGICAL_UNIT_RESET -> withLu(lun, lu -> resetLogicalUnit(lu,
                        SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED)
                        .thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE));
                case TARGET_WARM_RESET -> resetTarget(SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET);
                case TARGET_COLD_RESET -> resetTarget(SenseReason.UA_POWER_ON_OCCURRED);
                case CLEAR_ACA, TASK_REASSIGN ->
                        CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_NOT_SUPPORTED);
            };
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "task management " + function + " failed", e);
            return CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_REJECTED);
        }
    }

    private CompletableFuture<TaskManagementResult> withLu(
            long lunField, java.util.function.Function<LogicalUnit, CompletableFuture<TaskManagementResult>> body) {
        int number = LunAddress.decode(lunField);
        LogicalUnit lu = number == LunAddress.UNADDRESSABLE ? null : byNumber.get(number);
        return lu == null ? CompletableFuture.completedFuture(TaskManagementResult.LUN_DOES_NOT_EXIST) : body.apply(lu);
    }

    /** CLEAR TASK SET with TAS=0: other nexuses lose their tasks silently and learn it by unit attention. */
    private CompletableFuture<TaskManagementResult> clearTaskSet(LogicalUnit lu, Nexus issuer) {
        List<Command> victims = lu.taskSet().select(c -> true);
        Set<Nexus> others = new HashSet<>();
        for (Command c : victims) {
            if (!c.nexus().equals(issuer)) {
                others.add(c.nexus());
            }
        }
        return abort(victims).thenApply(v -> {
            for (Nexus n : others) {
                lu.unitAttentions(n).establish(SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
            }
            return TaskManagementResult.FUNCTION_COMPLETE;
        });
    }

    /**
     * LOGICAL UNIT RESET (SAM-5): abort every task, return mode parameters to their defaults (none
     * are saved), and establish the reset unit attention for every I_T nexus, the issuer's included.
     */
    private CompletableFuture<Void> resetLogicalUnit(LogicalUnit lu, SenseReason ua) {
        return abort(lu.taskSet().select(c -> true)).thenRun(() -> {
            lu.resetModeParameters();
            for (Nexus n : nexuses) {
                lu.unitAttentions(n);
            }
            lu.establishForAll(ua, null);
        });
    }

    private CompletableFuture<TaskManagementResult> resetTarget(SenseReason ua) {
        CompletableFuture<?>[] resets = units.stream().map(lu -> resetLogicalUnit(lu, ua)).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(resets).thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE);
    }

    /**
     * The abort engine. Each victim is claimed (so it can no longer complete or start backend
     * work); once its in-flight backend operations have finished it leaves the task set and its
     * fabric hears {@code aborted}. The returned future completes when every victim has ended.
     * Victims that completed before being claimed are simply skipped.
     */
    CompletableFuture<Void> abort(List<Command> victims) {
        List<CompletableFuture<Void>> ended = new ArrayList<>(victims.size());
        for (Command c : victims) {
            CompletableFuture<Void> drained = c.markAborted();
            if (drained == null) {
                continue;
            }
            ended.add(drained.thenRun(() -> {
                try {
                    c.task().port().aborted(c.task());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "fabric failed handling abort of " + c, e);
                } finally {
                    leave(c);
                }
            }));
        }
        return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new));
    }

    // ------------------------------------------------------------------ shutdown

    /** Flushes and closes every LU's device after in-flight tasks finish. */
    @Override
    public void close() {
        synchronized (liveLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
        synchronized (liveLock) {
            while (liveTasks > 0) {
                long waitMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (waitMillis <= 0) {
                    LOG.log(System.Logger.Level.WARNING, liveTasks + " tasks still live after "
                            + CLOSE_WAIT_SECONDS + " s; closing devices anyway");
                    break;
                }
                try {
                    liveLock.wait(waitMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        for (LogicalUnit lu : units) {
            try {
                lu.device().flush().get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.log(System.Logger.Level.WARNING, "flushing " + lu + " failed: " + e.getCause().getMessage());
            } catch (java.util.concurrent.TimeoutException e) {
                LOG.log(System.Logger.Level.WARNING, "flushing " + lu + " did not finish in " + CLOSE_WAIT_SECONDS + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                lu.device().close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + lu + " failed", e);
            }
        }
    }

    /** What handlers see of the target. */
    private final class Context implements TargetContext {
        @Override
        public String targetName() {
            return targetName;
        }

        @Override
        public List<LogicalUnit> logicalUnits() {
            return units;
        }

        @Override
        public CommandSet commands() {
            return table;
        }

        @Override
        public BufferPool bufferPool() {
            return bufferPool;
        }
    }
}
