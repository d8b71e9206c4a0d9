package io.tandem.scsi;

import io.tandem.cluster.Coordinator;
import io.tandem.cluster.CoordinatorException;
import io.tandem.cluster.CoordinatorTimeoutException;
import io.tandem.cluster.LocalCoordinator;
import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.SanitizeStatus;
import io.tandem.cluster.Transition;
import io.tandem.scsi.alua.AccessStateChanges;
import io.tandem.scsi.alua.AluaMode;
import io.tandem.scsi.core.AluaState;
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
import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseData;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.core.TargetContext;
import io.tandem.scsi.core.TaskAbortedException;
import io.tandem.scsi.core.UnitAttentionQueue;
import io.tandem.scsi.pr.NexusIds;
import io.tandem.scsi.pr.ReservationGate;
import io.tandem.scsi.pr.Spc2Reservations;
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
 * bits, unit attention, ALUA state, reservation, sanitize state, medium present, transfer length
 * and LBA range, write protection), admits the task to its LU's task set (task-attribute
 * ordering), fetches Data-Out, runs the table's handler and reports the outcome exactly once. Execution is a chain of futures: nothing
 * blocks a thread, and the fabric may see {@code complete} on the thread that called
 * {@code submit} (when everything finished synchronously) or on a backend's thread.
 *
 * <p>Task management, QErr and I_T nexus loss abort through one engine ({@link TaskManager}): an
 * aborted task starts no further backend operation unless it already committed a medium write (then
 * it runs to its end), its backend work is waited for, and only then does its fabric hear of it
 * ({@link TransportPort#aborted}, or TASK ABORTED status under TAS) and the function report complete.
 */
public final class ScsiTarget implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ScsiTarget.class.getName());
    private static final long CLOSE_WAIT_SECONDS = 30;

    /** Reported in REPORT TARGET PORT GROUPS as the time an implicit transition may take. */
    public static final int DEFAULT_IMPLICIT_TRANSITION_SECONDS = 10;
    /** How long a removed LU's running commands may take to finish before they are aborted. */
    private static final long REMOVAL_DRAIN_SECONDS = 10;

    private final String targetName;
    /** Keeps each LU's cluster record (reservations, ...); this target's LUs have joined it. */
    private final Coordinator coordinator;
    private final boolean ownsCoordinator;
    private final int ieeeCompanyId;
    /** Serializes inventory and ACL changes; the I/O path never takes it. */
    private final Object inventoryLock = new Object();
    /** Replaced whole on every change, so the I/O path reads a consistent snapshot without locking. */
    private volatile Inventory inventory;
    private final Set<Nexus> nexuses = ConcurrentHashMap.newKeySet();
    /** The cluster's ALUA target port groups (one per node); by default this node's single port. */
    private volatile List<TargetPortGroup> portGroups = List.of(new TargetPortGroup(1, List.of(1)));
    private volatile int implicitTransitionSeconds = DEFAULT_IMPLICIT_TRANSITION_SECONDS;
    /** Target port groups whose node is a live member, or null before the first {@link #membership}. */
    private volatile Set<Integer> liveGroups;
    /** This node's own target port group (its fabric's ports), 0 while unknown: see {@link #localTargetPortGroup}. */
    private volatile int localGroup;
    /** Set while this node must not execute commands (its cluster session is in doubt): see {@link #fence}. */
    private volatile boolean fenced;
    private final CommandSet table = CommandTable.TABLE;
    private final Context context = new Context();
    /** Up to 256 MiB of idle bulk buffers are kept for reuse. */
    private final BufferPool bufferPool = new BufferPool(256L << 20);
    private final Object liveLock = new Object();
    private int liveTasks;          // guarded by liveLock
    private volatile boolean closed;
    private final TaskManager taskManager = new TaskManager(this::logicalUnits, this::lookup, this::leave);
    /** Told when a TARGET COLD RESET issued through another node reached this one (the fabric closes its sessions). */
    private final List<Runnable> coldResetListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The cold resets of other nodes already passed on (issuer and reset tag), newest last; guarded by itself. */
    private final java.util.ArrayDeque<Transition> coldResetsSeen = new java.util.ArrayDeque<>();

    public ScsiTarget(String targetName, List<LunSpec> luns) {
        this(targetName, luns, LuIdentity.DEFAULT_COMPANY_ID);
    }

    /**
     * @param ieeeCompanyId the 24-bit IEEE company id placed in every LU's NAA designator
     */
    public ScsiTarget(String targetName, List<LunSpec> luns, int ieeeCompanyId) {
        this(targetName, luns, ieeeCompanyId, null);
    }

    /**
     * @param coordinator keeps the LUs' cluster records (persistent reservations survive restarts
     *                    only if it persists them); null for an in-memory one owned by this target
     */
    public ScsiTarget(String targetName, List<LunSpec> luns, int ieeeCompanyId, Coordinator coordinator) {
        this.targetName = Objects.requireNonNull(targetName, "targetName");
        this.ownsCoordinator = coordinator == null;
        this.coordinator = coordinator != null ? coordinator : LocalCoordinator.inMemory();
        this.ieeeCompanyId = ieeeCompanyId;
        Inventory initial = Inventory.EMPTY;
        for (LunSpec spec : luns) {
            if (initial.byNumber().containsKey(spec.number())) {
                throw new IllegalArgumentException("LUN " + spec.number() + " configured twice");
            }
            LogicalUnit lu = new LogicalUnit(targetName, spec, ieeeCompanyId);
            attachState(lu);
            initial = initial.with(lu);
        }
        this.inventory = initial;
    }

    /** The logical units by number, and in LUN order. Immutable. */
    private record Inventory(Map<Integer, LogicalUnit> byNumber, List<LogicalUnit> units) {
        static final Inventory EMPTY = new Inventory(Map.of(), List.of());

        Inventory with(LogicalUnit lu) {
            Map<Integer, LogicalUnit> map = new HashMap<>(byNumber);
            map.put(lu.number(), lu);
            return of(map);
        }

        Inventory without(LogicalUnit lu) {
            Map<Integer, LogicalUnit> map = new HashMap<>(byNumber);
            map.remove(lu.number(), lu);
            return of(map);
        }

        private static Inventory of(Map<Integer, LogicalUnit> map) {
            List<LogicalUnit> list = new ArrayList<>(map.values());
            list.sort(Comparator.comparingInt(LogicalUnit::number));
            return new Inventory(Map.copyOf(map), List.copyOf(list));
        }
    }

    public String targetName() {
        return targetName;
    }

    /**
     * Joins the LU's record in the coordinator: the LU starts from the stored record (APTPL
     * reservations of a previous run) and every later version is applied by a {@link LuStateApplier}.
     */
    private void attachState(LogicalUnit lu) {
        LuState initial = coordinator.join(lu.stateId(), new LuStateApplier(lu, () -> nexuses,
                (unit, victims, issuer, othersUnitAttention) -> taskManager.abort(unit, victims,
                        n -> issuer != null && issuer.equals(NexusIds.exact(n)), othersUnitAttention),
                this::coldResetElsewhere));
        lu.bindState(coordinator, initial);
        if (initial.capacityBlocks() > lu.blockCount()) {
            // The cluster grew the LU while this node was away: catch up before serving it.
            lu.device().resize(initial.capacityBlocks()).exceptionally(e -> {
                LOG.log(System.Logger.Level.ERROR, lu + " could not grow to the cluster's " + initial.capacityBlocks()
                        + " blocks: " + e);
                return null;
            });
        }
        lu.reservations(new ReservationGate(lu));
        // A shared store resized underneath (an RBD image grown with `rbd resize`, seen through its
        // watch on every node): each nexus that sees the LU here is told.
        lu.device().onCapacityChange(blocks -> {
            for (Nexus nexus : nexuses) {
                if (lu.visibleTo(nexus)) {
                    lu.unitAttentions(nexus).establish(SenseReason.UA_CAPACITY_DATA_CHANGED);
                }
            }
        });
    }

    /** The logical unit with this number, or null (for the iSCSI layer and management). */
    public LogicalUnit logicalUnit(int number) {
        return inventory.byNumber().get(number);
    }

    /** Every logical unit, in LUN order, whoever may see it. */
    public List<LogicalUnit> logicalUnits() {
        return inventory.units();
    }

    /** The LU a nexus addresses with this 8-byte LUN field, or null if none exists for that nexus (masked ones included). */
    private LogicalUnit lookup(Nexus nexus, long lunField) {
        int number = LunAddress.decode(lunField);
        LogicalUnit lu = number == LunAddress.UNADDRESSABLE ? null : inventory.byNumber().get(number);
        return lu != null && lu.visibleTo(nexus) ? lu : null;
    }

    /**
     * Establishes a unit attention condition on every logical unit for every I_T nexus except
     * {@code except} (may be null), e.g. INQUIRY DATA HAS CHANGED after a target-wide change. For
     * one LU use {@link LogicalUnit#establishForAll}; for one nexus {@link LogicalUnit#establish}.
     */
    public void establishUnitAttention(SenseReason reason, Nexus except) {
        for (LogicalUnit lu : inventory.units()) {
            for (Nexus n : nexuses) {
                if (!n.equals(except) && lu.visibleTo(n)) {
                    lu.establish(n, reason);
                }
            }
        }
    }

    // ------------------------------------------------------------------ commands

    /** Accepts a command. Never throws; the outcome reaches {@code task.port()} exactly once. */
    public void submit(ScsiTask task) {
        LogicalUnit lu = null;
        try {
            lu = lookup(task.nexus(), task.lun());
            Command command = precheck(task, lu);
            if (!begin()) {
                // Shutting down: BUSY makes the initiator retry, on another path if it has one.
                respond(task, lu, null, new ScsiResponse(ScsiResponse.BUSY, null, null));
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
            respond(task, lu, null, checkCondition(e, lu));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "submit failed for " + task, e);
            respond(task, lu, null, checkCondition(ScsiException.of(SenseReason.INTERNAL_TARGET_FAILURE), lu));
        }
    }

    /**
     * Every status the core returns goes out here, so the Control page's status side effects are
     * applied in one place: QERR (a CHECK CONDITION aborts other tasks) and UA_INTLCK_CTRL=11b (BUSY,
     * TASK SET FULL and RESERVATION CONFLICT leave a unit attention behind).
     *
     * @param command the task's command once it entered the task set, else null
     */
    private void respond(ScsiTask task, LogicalUnit lu, Command command, ScsiResponse response) {
        if (lu != null) {
            switch (response.status()) {
                case ScsiResponse.CHECK_CONDITION -> taskManager.checkConditionReturned(lu, task.nexus(), command);
                case ScsiResponse.BUSY -> previousStatus(lu, task.nexus(), SenseReason.UA_PREVIOUS_BUSY_STATUS);
                case ScsiResponse.TASK_SET_FULL -> previousStatus(lu, task.nexus(), SenseReason.UA_PREVIOUS_TASK_SET_FULL_STATUS);
                case ScsiResponse.RESERVATION_CONFLICT ->
                        previousStatus(lu, task.nexus(), SenseReason.UA_PREVIOUS_RESERVATION_CONFLICT_STATUS);
                default -> { }
            }
        }
        task.port().complete(task, response);
    }

    private static void previousStatus(LogicalUnit lu, Nexus nexus, SenseReason reason) {
        if (lu.modeParameters().unitAttentionInterlock() == ModeParameters.UA_INTLCK_KEEP_AND_REPORT_STATUS) {
            lu.establish(nexus, reason);
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
            // 4. Unit attention: reported by the first command not exempt from it, and cleared
            //    unless UA_INTLCK_CTRL interlocks it (then only REQUEST SENSE clears it).
            if (!d.has(CommandFlag.UA_EXEMPT)) {
                UnitAttentionQueue queue = lu.unitAttentions(task.nexus());
                SenseReason ua = lu.modeParameters().unitAttentionsInterlocked() ? queue.peek() : queue.poll();
                if (ua != null) {
                    throw ScsiException.of(ua);
                }
            }
            // 5. ALUA access state of the target port group.
            checkAccessState(lu, task.nexus(), d);
            // 6. Reservations: the LU's policy reads the row's PR_ALLOWED_* / SPC2 flags.
            if (lu.reservations().conflicts(task.nexus(), d)) {
                throw ScsiException.reservationConflict();
            }
            // 6a. A sanitize operation in progress (or failed) keeps the medium off limits.
            if (!d.has(CommandFlag.RUNS_DURING_SANITIZE)) {
                lu.sanitize().check(d.has(CommandFlag.SANITIZE));
            }
            // 7. The medium: a removable LU whose medium is ejected serves no command that needs it.
            if (d.has(CommandFlag.MEDIUM_ACCESS) && !lu.mediumPresent()) {
                throw ScsiException.of(SenseReason.MEDIUM_NOT_PRESENT);
            }
            // 8. Transfer length and LBA range.
            if (addressing != BlockAddressing.NONE) {
                if (d.has(CommandFlag.TRANSFER_LIMITED) && blocks > lu.maxTransferBlocks()) {
                    throw ScsiException.invalidCdbField(addressing.lengthOffset(), 7);
                }
                long capacity = lu.blockCount();
                if (Long.compareUnsigned(lba, capacity) > 0 || blocks > capacity - lba) {
                    throw ScsiException.of(SenseReason.LBA_OUT_OF_RANGE);
                }
            }
            // 9. Write protection: configured read-only, refused by the backend, or SWP in the Control page.
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

    /**
     * The LU's access state through the nexus' target port group decides, by the row's ALUA_* flag.
     * A fenced node is Transitioning on every LU, whatever the record says.
     */
    private void checkAccessState(LogicalUnit lu, Nexus nexus, CommandDescriptor d) {
        AluaState state = fenced() ? AluaState.TRANSITIONING : lu.accessState(nexus.targetPort().targetPortGroup());
        if (!state.admits(d)) {
            throw ScsiException.of(state.refusal());
        }
    }

    /** Runs an admitted command: Data-Out, handler, completion. */
    private void run(Command c) {
        if (c.isAborted()) {
            return; // the abort engine reports it
        }
        if (c.lu() != null && c.lu().retired()) {
            // Admitted just as its LU was removed: nothing starts on a removed LU.
            finish(c, null, ScsiException.of(SenseReason.LOGICAL_UNIT_NOT_SUPPORTED));
            return;
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
        c.pipelineEnded();
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
            respond(c.task(), c.lu(), c, response);
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
        if (cause instanceof CoordinatorException && fenced()) {
            // Admitted just before this node fenced itself, the command's change of the cluster
            // record was refused: answered as the precheck answers a moment later, so that the
            // initiator retries (on another path), not as a hardware failure.
            LOG.log(System.Logger.Level.INFO, c + " refused: this node fenced itself: " + cause.getMessage());
            return checkCondition(ScsiException.of(SenseReason.ASYMMETRIC_ACCESS_STATE_TRANSITION), c.lu());
        }
        if (cause instanceof CoordinatorTimeoutException) {
            // The cluster did not agree in time (a member slow to apply, a backend slow to answer):
            // transient, so answered with a sense initiators retry rather than as a hardware failure.
            LOG.log(System.Logger.Level.WARNING, c + " timed out changing the cluster record: " + cause.getMessage());
            return checkCondition(ScsiException.of(SenseReason.LOGICAL_UNIT_COMMUNICATION_TIME_OUT), c.lu());
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
        synchronized (inventoryLock) {
            nexuses.add(nexus);
            for (LogicalUnit lu : inventory.units()) {
                if (lu.visibleTo(nexus)) {
                    lu.unitAttentions(nexus).establish(SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET);
                }
            }
        }
    }

    /**
     * The nexus ended (logout, session closed): its tasks are aborted, its per-nexus state dropped,
     * and its SPC-2 reservation and medium removal preventions (the LU's, in the record) end. The
     * future completes once those record changes are applied everywhere.
     */
    public CompletableFuture<Void> nexusRemoved(Nexus nexus) {
        List<LogicalUnit> units;
        synchronized (inventoryLock) {
            nexuses.remove(nexus);
            units = inventory.units();
            for (LogicalUnit lu : units) {
                lu.forgetNexus(nexus);
            }
        }
        taskManager.nexusLost(nexus);
        List<CompletableFuture<?>> released = new ArrayList<>(units.size());
        for (LogicalUnit lu : units) {
            released.add(Spc2Reservations.releaseHeldBy(lu, nexus));
            if (lu.medium() != null) {
                released.add(lu.medium().nexusLost(NexusIds.exact(nexus))); // SBC-4: a prevention ends with its nexus
            }
        }
        return CompletableFuture.allOf(released.toArray(CompletableFuture[]::new));
    }

    /**
     * Registers what closes this node's sessions when a TARGET COLD RESET issued through another
     * node of the cluster reaches it (RFC 7143: a cold reset terminates every session of the target,
     * which spans every node). The issuing node's own fabric closes its sessions after its response.
     */
    public void addColdResetListener(Runnable closeSessions) {
        coldResetListeners.add(closeSessions);
    }

    public void removeColdResetListener(Runnable closeSessions) {
        coldResetListeners.remove(closeSessions);
    }

    /** One LU's share of another node's cold reset is done here; the first LU's tells the fabric. */
    private void coldResetElsewhere(Transition reset) {
        synchronized (coldResetsSeen) {
            if (coldResetsSeen.contains(reset)) {
                return; // an earlier LU's change of the same reset
            }
            coldResetsSeen.addLast(reset);
            if (coldResetsSeen.size() > 16) {
                coldResetsSeen.removeFirst();
            }
        }
        LOG.log(System.Logger.Level.INFO, "TARGET COLD RESET through another node (" + reset.issuer() + "): closing this node's sessions");
        coldResetListeners.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ ALUA

    /**
     * The target port groups REPORT TARGET PORT GROUPS lists and SET TARGET PORT GROUPS accepts:
     * one per cluster node, each with that node's relative target port ids. Every fabric port's
     * {@link TargetPort#targetPortGroup()} must be one of them.
     */
    public void targetPortGroups(List<TargetPortGroup> groups) {
        List<TargetPortGroup> sorted = new ArrayList<>(groups);
        sorted.sort(Comparator.comparingInt(TargetPortGroup::id));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).id() == sorted.get(i - 1).id()) {
                throw new IllegalArgumentException("target port group " + sorted.get(i).id() + " listed twice");
            }
        }
        this.portGroups = List.copyOf(sorted);
    }

    public List<TargetPortGroup> targetPortGroups() {
        return portGroups;
    }

    /**
     * Self-fencing (the cluster's lease): while fenced, this node starts no command on any LU. The
     * precheck treats every LU as ALUA Transitioning through this node's target port group (NOT
     * READY, 04/0A, which multipath initiators retry on another path; INQUIRY, REPORT LUNS,
     * REQUEST SENSE and REPORT TARGET PORT GROUPS still answer, the last showing this node's group
     * Transitioning), and commands already admitted start no backend operation they have not
     * committed to. The cluster layer raises it the moment its coordinator session is in doubt,
     * strictly before the session can expire and other nodes stop waiting for this one, and lowers
     * it once the session is back and the records are reloaded. The I/O path only reads the flag.
     *
     * <p>The coordinator's own {@link Coordinator#serving()} fences the node too, with no delay (it
     * is read on every check); this switch adds an administrative fence on top (draining a node).
     */
    public void fence(boolean fenced) {
        this.fenced = fenced;
    }

    /** Whether this node refuses commands now: fenced by {@link #fence}, or its coordinator is not serving. */
    public boolean fenced() {
        return fenced || !coordinator.serving();
    }

    /**
     * The cluster's membership as target port groups: {@code liveGroups} are the groups whose node
     * is a live member now (the known ones are {@link #targetPortGroups()}). Every LU's access states
     * are brought in line with it by its {@link io.tandem.scsi.alua.AluaMode} (a group whose node is
     * gone reads Unavailable; an owner that left is replaced in active/standby mode), each as an
     * implicit transition through the coordinator; an SPC-2 reservation whose holder's nexus was
     * lost with its node is released. Remembered for LUs added or re-moded later. The future
     * completes when every LU's change (if any) has been applied by every live node.
     */
    public CompletableFuture<Void> membership(Set<Integer> liveGroups) {
        this.liveGroups = Set.copyOf(liveGroups);
        List<CompletableFuture<?>> changes = new ArrayList<>();
        for (LogicalUnit lu : inventory.units()) {
            changes.add(reconcile(lu));
        }
        return CompletableFuture.allOf(changes.toArray(CompletableFuture[]::new));
    }

    /** Changes how an LU's paths share the work (configuration) and reconciles its access states. */
    public CompletableFuture<Void> changeAluaMode(int number, AluaMode mode) {
        LogicalUnit lu = existing(number);
        lu.aluaMode(mode);
        return reconcile(lu);
    }

    /**
     * Names the target port group whose ports this target's own fabric serves (a cluster node's
     * group). Nexuses through those ports exist only here, which lets this node tell, after a
     * restart, that a holder recorded on them is gone (see {@link #membership}).
     */
    public void localTargetPortGroup(int group) {
        this.localGroup = group;
    }

    /**
     * An SPC-2 reservation ends with its holder's I_T nexus (SPC-2 7.21). A nexus of another node
     * is lost when that node is: it died, or stopped without releasing. A holder recorded on this
     * node's own ports that is not one of its nexuses was lost in an earlier life of this node (a
     * crash or a restart of the whole cluster). Either way nobody else would release it, so any
     * node that notices does: one record change, the first to store it wins and the others find
     * nothing left to do.
     */
    private CompletableFuture<Void> releaseLostSpc2Holder(LogicalUnit lu, Set<Integer> live) {
        NexusId holder = lu.state().spc2Holder();
        if (holder == null || !lostNexus(holder, live)) {
            return CompletableFuture.completedFuture(null);
        }
        java.util.concurrent.atomic.AtomicBoolean releasedHere = new java.util.concurrent.atomic.AtomicBoolean();
        return lu.changeState(s -> {
                    releasedHere.set(holder.equals(s.spc2Holder()) && lostNexus(holder, live));
                    return releasedHere.get() ? s.withSpc2Holder(null) : s;
                })
                .handle((applied, error) -> {
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, "SPC-2 reservation of lost nexus " + holder + " on " + lu
                                + " not released: " + error);
                    } else if (releasedHere.get()) {
                        LOG.log(System.Logger.Level.INFO, lu + ": SPC-2 reservation of lost nexus " + holder + " released");
                    }
                    return null;
                });
    }

    /**
     * What the LU's medium state owes to nexuses and nodes that are gone, by the same judgement as
     * {@link #releaseLostSpc2Holder}: a medium removal prevention ends with its I_T nexus (SBC-4),
     * and a sanitize operation whose node left the cluster (or this node, restarted, no longer runs
     * it) will never end, so it has failed: SBC-4 4.11 leaves the medium refusing every command but
     * SANITIZE (and INQUIRY, REPORT LUNS, REQUEST SENSE) with SANITIZE COMMAND FAILED until a sanitize
     * succeeds (or, if the lost one was requested with AUSE=1, EXIT FAILURE MODE). One record change.
     */
    private CompletableFuture<Void> releaseLostMediumState(LogicalUnit lu, Set<Integer> live) {
        var medium = lu.state().medium();
        boolean preventionLost = medium.preventions().stream().anyMatch(id -> lostNexus(id, live));
        if (!preventionLost && !lostSanitize(lu, medium.sanitize(), live)) {
            return CompletableFuture.completedFuture(null);
        }
        return lu.changeState(s -> {
                    var m = s.medium();
                    for (NexusId id : m.preventions()) {
                        if (lostNexus(id, live)) {
                            m = m.withPrevention(id, false);
                        }
                    }
                    if (lostSanitize(lu, m.sanitize(), live)) {
                        m = m.withSanitize(m.sanitize().failed());
                    }
                    return s.withMedium(m);
                })
                .handle((applied, error) -> {
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, lu + ": medium state of lost nexuses or nodes not released: " + error);
                    } else if (!applied.medium().equals(medium)) {
                        LOG.log(System.Logger.Level.INFO, lu + ": medium state of lost nexuses or nodes released: " + medium
                                + " -> " + applied.medium());
                    }
                    return null;
                });
    }

    private boolean lostSanitize(LogicalUnit lu, SanitizeStatus s, Set<Integer> live) {
        if (!s.inProgress()) {
            return false;
        }
        int group = s.targetPortGroup();
        return !live.contains(group) || (group == localGroup && !lu.sanitize().runningHere());
    }

    private boolean lostNexus(NexusId id, Set<Integer> live) {
        for (TargetPortGroup g : portGroups) {
            if (g.relativeTargetPortIds().contains(id.relativeTargetPortId())) {
                if (!live.contains(g.id())) {
                    return true;
                }
                return g.id() == localGroup && nexuses.stream().noneMatch(n -> id.equals(NexusIds.exact(n)));
            }
        }
        return false; // a port no known group lists: nothing to judge by
    }

    private CompletableFuture<Void> reconcile(LogicalUnit lu) {
        Set<Integer> live = liveGroups;
        if (live == null) {
            return CompletableFuture.completedFuture(null); // no membership known yet
        }
        CompletableFuture<Void> released = releaseLostSpc2Holder(lu, live);
        CompletableFuture<Void> mediumReleased = releaseLostMediumState(lu, live);
        List<Integer> known = portGroups.stream().map(TargetPortGroup::id).toList();
        var before = lu.state().sortedPortGroupStates();
        CompletableFuture<Void> reconciled = AccessStateChanges.reconcile(lu, known, live).handle((applied, error) -> {
            if (error != null) {
                LOG.log(System.Logger.Level.WARNING, "access states of " + lu + " not reconciled: " + error);
            } else if (!applied.sortedPortGroupStates().equals(before)) {
                LOG.log(System.Logger.Level.INFO, lu + ": live target port groups " + live + " of " + known
                        + ": access states " + before + " -> " + applied.sortedPortGroupStates()
                        + (applied.aluaOwnerGroup() != 0 ? ", owner " + applied.aluaOwnerGroup() : ""));
            }
            return null;
        });
        return CompletableFuture.allOf(released, mediumReleased, reconciled);
    }

    /** The implicit transition time REPORT TARGET PORT GROUPS reports in its extended header (0..255 s). */
    public void implicitTransitionSeconds(int seconds) {
        if (seconds < 0 || seconds > 255) {
            throw new IllegalArgumentException("implicit transition time is 0..255 seconds: " + seconds);
        }
        this.implicitTransitionSeconds = seconds;
    }

    /**
     * An implicit ALUA transition: the target port group's access state changes for every LU (the
     * node is being drained, fenced, or brought back). Every nexus that sees an LU gets ASYMMETRIC
     * ACCESS STATE CHANGED on it; the future completes once every node has applied the change.
     */
    public CompletableFuture<Void> changeAccessState(int targetPortGroup, AluaState state) {
        List<CompletableFuture<?>> changes = new ArrayList<>();
        for (LogicalUnit lu : inventory.units()) {
            changes.add(AccessStateChanges.request(lu, Map.of(targetPortGroup, state), null, -1));
        }
        return CompletableFuture.allOf(changes.toArray(CompletableFuture[]::new));
    }

    // ------------------------------------------------------------------ inventory and LUN masking

    /**
     * Exports another logical unit while sessions run. Every nexus that sees it gets REPORTED LUNS
     * DATA HAS CHANGED on each LU it sees, the new one included.
     *
     * @throws IllegalArgumentException if the LUN number is taken
     */
    public LogicalUnit addLogicalUnit(LunSpec spec, LunAcl acl) {
        return addLogicalUnit(spec, acl, AluaMode.ACTIVE_ACTIVE);
    }

    /** As {@link #addLogicalUnit(LunSpec, LunAcl)}, with the LU's ALUA mode. */
    public LogicalUnit addLogicalUnit(LunSpec spec, LunAcl acl, AluaMode mode) {
        synchronized (inventoryLock) {
            if (inventory.byNumber().containsKey(spec.number())) {
                throw new IllegalArgumentException("LUN " + spec.number() + " already exists");
            }
            LogicalUnit lu = new LogicalUnit(targetName, spec, ieeeCompanyId);
            lu.acl(acl);
            lu.aluaMode(mode);
            attachState(lu);
            Map<Nexus, Set<Integer>> before = visibility();
            inventory = inventory.with(lu);
            announceInventoryChange(before);
            reconcile(lu); // its access states follow the membership like every other LU's
            return lu;
        }
    }

    /**
     * Changes which initiators see a LU. Nexuses that gain or lose it get REPORTED LUNS DATA HAS
     * CHANGED; commands a nexus that loses it already had running finish normally.
     *
     * @throws IllegalArgumentException if there is no such LUN
     */
    public void changeAcl(int number, LunAcl acl) {
        synchronized (inventoryLock) {
            LogicalUnit lu = existing(number);
            Map<Nexus, Set<Integer>> before = visibility();
            lu.acl(acl);
            for (Nexus n : nexuses) {
                if (!lu.visibleTo(n)) {
                    lu.forgetNexus(n); // a later grant starts from a clean queue
                    if (lu.medium() != null) {
                        lu.medium().nexusLost(NexusIds.exact(n)); // nor does it hold the medium in any more
                    }
                }
            }
            announceInventoryChange(before);
        }
    }

    /**
     * Stops exporting a LU. From the moment this returns the LU does not exist for any nexus (and
     * affected nexuses have REPORTED LUNS DATA HAS CHANGED pending); commands already running on it
     * finish, queued ones are refused with LOGICAL UNIT NOT SUPPORTED, and whatever is still live
     * after {@value #REMOVAL_DRAIN_SECONDS} s is aborted. The future completes once the LU's device
     * has been flushed and closed.
     *
     * @throws IllegalArgumentException if there is no such LUN
     */
    public CompletableFuture<Void> removeLogicalUnit(int number) {
        LogicalUnit lu;
        synchronized (inventoryLock) {
            lu = existing(number);
            Map<Nexus, Set<Integer>> before = visibility();
            lu.retire();
            inventory = inventory.without(lu);
            // Leaving now (not after the drain) lets an LU of the same name be added back at once.
            coordinator.leave(lu.stateId());
            announceInventoryChange(before);
        }
        return lu.taskSet().whenEmpty()
                .completeOnTimeout(null, REMOVAL_DRAIN_SECONDS, TimeUnit.SECONDS)
                .thenCompose(v -> taskManager.abort(lu, lu.taskSet().select(c -> true), (Nexus) null, null))
                .thenCompose(v -> lu.device().flush())
                // Closed on a thread of its own: the flush completes on one of the device's threads,
                // and a device's close waits for its threads to finish.
                .handleAsync((v, error) -> {
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, "flushing removed " + lu + " failed: " + error.getMessage());
                    }
                    lu.device().close();
                    return null;
                }, task -> Thread.ofVirtual().name("close-" + lu.name()).start(task));
    }

    /**
     * Grows a LU to {@code blocks} blocks on every node: one change of its record, which every
     * node applies by growing its device (the shared file grows once) and establishing CAPACITY
     * DATA HAS CHANGED for its nexuses. Asking for the size it has changes nothing.
     *
     * @throws IllegalArgumentException if there is no such LUN or {@code blocks} is smaller
     */
    public CompletableFuture<LuState> resizeLogicalUnit(int number, long blocks) {
        LogicalUnit lu = existing(number);
        if (blocks < lu.blockCount()) {
            throw new IllegalArgumentException(lu + " has " + lu.blockCount() + " blocks; shrinking is not supported");
        }
        return lu.changeState(s -> blocks == Math.max(s.capacityBlocks(), lu.blockCount()) ? s : s.withCapacityBlocks(blocks));
    }

    private LogicalUnit existing(int number) {
        LogicalUnit lu = inventory.byNumber().get(number);
        if (lu == null) {
            throw new IllegalArgumentException("no LUN " + number);
        }
        return lu;
    }

    /** For every nexus, the LUN numbers it sees. Called holding the inventory lock. */
    private Map<Nexus, Set<Integer>> visibility() {
        Map<Nexus, Set<Integer>> seen = new HashMap<>();
        for (Nexus n : nexuses) {
            Set<Integer> luns = new HashSet<>();
            for (LogicalUnit lu : inventory.units()) {
                if (lu.visibleTo(n)) {
                    luns.add(lu.number());
                }
            }
            seen.put(n, luns);
        }
        return seen;
    }

    /**
     * SPC-4: a changed logical unit inventory is reported to every I_T nexus it changed for, as
     * REPORTED LUNS DATA HAS CHANGED on each LU that nexus now sees (whichever one it addresses next
     * tells it to rescan). Called holding the inventory lock.
     */
    private void announceInventoryChange(Map<Nexus, Set<Integer>> before) {
        for (Map.Entry<Nexus, Set<Integer>> now : visibility().entrySet()) {
            if (now.getValue().equals(before.get(now.getKey()))) {
                continue;
            }
            for (int number : now.getValue()) {
                inventory.byNumber().get(number).unitAttentions(now.getKey())
                        .establish(SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
            }
        }
    }

    // ------------------------------------------------------------------ task management

    /**
     * Runs a task management function (see {@link TaskManager}); {@code referencedTag} is used by
     * ABORT TASK only. The future completes once every task the function aborted has ended.
     */
    public CompletableFuture<TaskManagementResult> taskManagement(Nexus nexus, TaskManagementFunction function,
                                                                   long lun, long referencedTag) {
        try {
            return taskManager.execute(nexus, function, lun, referencedTag);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "task management " + function + " failed", e);
            return CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_REJECTED);
        }
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
        for (LogicalUnit lu : inventory.units()) {
            lu.retire(); // nothing new starts on it, nor goes on in the background (a sanitize stops)
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
            coordinator.leave(lu.stateId());
        }
        if (ownsCoordinator) {
            coordinator.close();
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
            return inventory.units();
        }

        @Override
        public CommandSet commands() {
            return table;
        }

        @Override
        public List<TargetPortGroup> targetPortGroups() {
            return portGroups;
        }

        @Override
        public int implicitTransitionSeconds() {
            return implicitTransitionSeconds;
        }

        @Override
        public boolean fenced() {
            return ScsiTarget.this.fenced();
        }

        @Override
        public BufferPool bufferPool() {
            return bufferPool;
        }
    }
}
