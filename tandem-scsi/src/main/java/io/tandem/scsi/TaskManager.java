package io.tandem.scsi;

import io.tandem.cluster.Notice;
import io.tandem.cluster.Transition;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The task manager (SAM-5 clause 7) and the one abort engine every abort goes through: ABORT
 * TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, target resets, I_T nexus loss, QErr
 * and (from the reservation handlers) PREEMPT AND ABORT.
 *
 * <p>The engine's guarantees, per aborted task:
 * <ul>
 *   <li>it ends exactly once: either its fabric hears {@link TransportPort#aborted} (no status), or,
 *       when the Control page's TAS bit is set and the abort came from another I_T nexus,
 *       {@link TransportPort#complete} with status TASK ABORTED;</li>
 *   <li>no backend operation starts after the abort, unless the task had already committed (a
 *       medium-writing command whose first backend operation started): a committed task runs to its
 *       end, so its effect on the medium is all or nothing;</li>
 *   <li>the abort is reported (and the task management function answered) only after the task's
 *       backend work has ended, so what the medium holds when the initiator hears FUNCTION COMPLETE
 *       no longer changes because of an aborted task.</li>
 * </ul>
 */
final class TaskManager {

    private static final System.Logger LOG = System.getLogger(TaskManager.class.getName());
    /** The issuing "task" of a task management function's record change: the function is no task of the task set. */
    private static final long NO_TASK = -1;

    private final Supplier<List<LogicalUnit>> units;
    private final LunLookup lookup;
    private final Consumer<Command> leave;

    /** Finds the LU a nexus addresses with an 8-byte LUN field, or null. */
    @FunctionalInterface
    interface LunLookup {
        LogicalUnit find(Nexus nexus, long lunField);
    }

    /**
     * @param leave removes an ended task from its task set and starts what it unblocked
     */
    TaskManager(Supplier<List<LogicalUnit>> units, LunLookup lookup,
                Consumer<Command> leave) {
        this.units = units;
        this.lookup = lookup;
        this.leave = leave;
    }

    // ------------------------------------------------------------------ task management functions

    CompletableFuture<TaskManagementResult> execute(Nexus nexus, TaskManagementFunction function, long lun,
                                                    long referencedTag) {
        return switch (function) {
            case ABORT_TASK -> withLu(nexus, lun, lu -> {
                Command victim = lu.taskSet().find(nexus, referencedTag);
                // A task whose completion is already claimed has its response on the wire: for the
                // initiator it no longer exists, even if it has not left the task set yet.
                CompletableFuture<Void> drained = victim == null ? null : victim.markAborted();
                if (drained == null) {
                    return done(TaskManagementResult.TASK_DOES_NOT_EXIST);
                }
                // The issuer's own task: no TASK ABORTED status, whatever TAS says.
                return drained.thenRun(() -> report(victim, false))
                        .thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE);
            });
            // Only the issuer's own tasks: nothing to tell anyone else.
            case ABORT_TASK_SET -> withLu(nexus, lun, lu -> abort(lu, lu.taskSet().select(c -> c.nexus().equals(nexus)),
                    nexus, null).thenApply(v -> TaskManagementResult.FUNCTION_COMPLETE));
            // These reach every node's share of the task set: each is one change of the LU's cluster
            // record whose notice every node carries out (abort, then unit attentions) before the
            // function completes. TST=000b: the task set is everybody's; with TAS=0 the others
            // learn of CLEAR TASK SET by unit attention.
            case CLEAR_TASK_SET -> withLu(nexus, lun, lu -> clusterWide(lu, nexus, NO_TASK, Notice.Kind.CLEAR_TASK_SET));
            case LOGICAL_UNIT_RESET -> withLu(nexus, lun, lu -> clusterWide(lu, nexus, NO_TASK, Notice.Kind.LOGICAL_UNIT_RESET));
            case TARGET_WARM_RESET -> resetTarget(nexus, Notice.Kind.TARGET_WARM_RESET);
            case TARGET_COLD_RESET -> resetTarget(nexus, Notice.Kind.TARGET_COLD_RESET);
            // No ACA is ever established (NACA is outside every CDB usage mask); iSCSI's fabric
            // answers TASK REASSIGN itself (it needs ErrorRecoveryLevel 2).
            case CLEAR_ACA, TASK_REASSIGN -> done(TaskManagementResult.FUNCTION_NOT_SUPPORTED);
        };
    }

    private CompletableFuture<TaskManagementResult> withLu(
            Nexus nexus, long lunField, Function<LogicalUnit, CompletableFuture<TaskManagementResult>> body) {
        LogicalUnit lu = lookup.find(nexus, lunField);
        return lu == null ? done(TaskManagementResult.LUN_DOES_NOT_EXIST) : body.apply(lu);
    }

    /**
     * Runs a function that concerns every nexus of the LU, on every node: one change of the LU's
     * record carrying the function as a notice, applied by each node's {@link LuStateApplier}
     * (abort its share of the task set, then establish the unit attentions). Resets (SAM-5 6.3.3)
     * also start a new reset epoch, release the SPC-2 reservation, end every medium removal
     * prevention (SBC-4) and return the mode parameters to their defaults in the same change; a
     * running sanitize is not affected (SBC-4 4.11); persistent
     * reservations are not affected (SPC-4). The function completes once every live node applied
     * it; if the coordinator cannot take the change (this node is fenced from the cluster, say),
     * it is rejected and nothing was aborted anywhere.
     */
    private static CompletableFuture<TaskManagementResult> clusterWide(LogicalUnit lu, Nexus issuer, long issuerTag,
                                                                       Notice.Kind kind) {
        Transition how = Transition.by(NexusIds.exact(issuer), issuerTag, List.of(Notice.of(kind, List.of())));
        boolean reset = kind != Notice.Kind.CLEAR_TASK_SET;
        return lu.changeState(s -> (reset ? s.withResetEpoch(s.resetEpoch() + 1).withSpc2Holder(null).withModeParameters(0)
                        .withMedium(s.medium().withoutPreventions()) : s)
                .withTransition(how))
                .handle((applied, error) -> {
                    if (error != null) {
                        LOG.log(System.Logger.Level.WARNING, kind + " on " + lu + " failed: " + error);
                        return TaskManagementResult.FUNCTION_REJECTED;
                    }
                    return TaskManagementResult.FUNCTION_COMPLETE;
                });
    }

    /**
     * A target reset: one change per LU. They share one issuer tag, unique to this reset and never a
     * task's (tags are unsigned 32-bit), so a node applying them can tell the changes of one reset
     * from those of another (a cold reset closes its sessions once, not once per LU).
     */
    private CompletableFuture<TaskManagementResult> resetTarget(Nexus issuer, Notice.Kind kind) {
        long resetTag = -2 - (ThreadLocalRandom.current().nextLong() & 0x3FFF_FFFF_FFFF_FFFFL);
        List<CompletableFuture<TaskManagementResult>> resets = units.get().stream()
                .map(lu -> clusterWide(lu, issuer, resetTag, kind)).toList();
        return CompletableFuture.allOf(resets.toArray(CompletableFuture[]::new)).thenApply(v -> resets.stream()
                .map(CompletableFuture::join)
                .filter(r -> r != TaskManagementResult.FUNCTION_COMPLETE)
                .findFirst().orElse(TaskManagementResult.FUNCTION_COMPLETE));
    }

    /** I_T nexus loss: the nexus' tasks end silently (there is nobody left to tell). */
    CompletableFuture<Void> nexusLost(Nexus nexus) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (LogicalUnit lu : units.get()) {
            all.add(abort(lu, lu.taskSet().select(c -> c.nexus().equals(nexus)), nexus, null));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    // ------------------------------------------------------------------ QErr

    /**
     * A task on {@code lu} is about to return CHECK CONDITION: with QERR 01b every other task of the
     * task set is aborted, with 11b every other task of the same nexus (SPC-4 7.5.8). The victims
     * are claimed before the status goes out, so none of them can still complete normally after it.
     *
     * @param failed the failing task if it entered the task set, else null
     */
    void checkConditionReturned(LogicalUnit lu, Nexus nexus, Command failed) {
        int qerr = lu.modeParameters().queueErrorManagement();
        if (qerr == ModeParameters.QERR_CONTINUE) {
            return;
        }
        boolean allNexuses = qerr == ModeParameters.QERR_ABORT_ALL;
        List<Command> victims = lu.taskSet().select(c -> c != failed && (allNexuses || c.nexus().equals(nexus)));
        if (!victims.isEmpty()) {
            abort(lu, victims, nexus, SenseReason.UA_COMMANDS_CLEARED_BY_DEVICE_SERVER);
        }
    }

    // ------------------------------------------------------------------ the abort engine

    /**
     * Aborts {@code victims} (tasks of {@code lu}) on behalf of {@code issuer}. Each victim is
     * claimed at once (it can no longer complete, nor start backend work unless committed); once
     * its backend work has ended it leaves the task set and its fabric hears of it: TASK ABORTED
     * status if it belongs to another nexus and the LU's TAS bit is set, else nothing. With TAS
     * clear, {@code othersUnitAttention} (if not null) is established for every other nexus that
     * lost a task. Victims that already completed are skipped. The future completes when every
     * victim has ended.
     */
    CompletableFuture<Void> abort(LogicalUnit lu, List<Command> victims, Nexus issuer, SenseReason othersUnitAttention) {
        return abort(lu, victims, issuer == null ? n -> true : issuer::equals, othersUnitAttention);
    }

    /**
     * As {@link #abort(LogicalUnit, List, Nexus, SenseReason)}, with the issuer given as a test:
     * for changes made through the cluster record, whose issuer may be a nexus of another node
     * (then every victim belongs to "another nexus").
     */
    CompletableFuture<Void> abort(LogicalUnit lu, List<Command> victims, Predicate<Nexus> isIssuer,
                                  SenseReason othersUnitAttention) {
        boolean tas = lu.modeParameters().taskAbortedStatus();
        List<CompletableFuture<Void>> ended = new ArrayList<>(victims.size());
        Set<Nexus> othersAffected = new HashSet<>();
        for (Command c : victims) {
            CompletableFuture<Void> drained = c.markAborted();
            if (drained == null) {
                continue;
            }
            boolean otherNexus = !isIssuer.test(c.nexus());
            if (otherNexus) {
                othersAffected.add(c.nexus());
            }
            boolean reportStatus = otherNexus && tas;
            ended.add(drained.thenRun(() -> report(c, reportStatus)));
        }
        if (!tas && othersUnitAttention != null) {
            // Established when the abort is decided: a later command of that nexus must hear of it.
            for (Nexus n : othersAffected) {
                lu.unitAttentions(n).establish(othersUnitAttention);
            }
        }
        return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new));
    }

    private void report(Command c, boolean taskAbortedStatus) {
        try {
            if (taskAbortedStatus) {
                c.task().port().complete(c.task(), new ScsiResponse(ScsiResponse.TASK_ABORTED, null, null));
            } else {
                c.task().port().aborted(c.task());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "fabric failed handling abort of " + c, e);
        } finally {
            leave.accept(c);
        }
    }

    private static CompletableFuture<TaskManagementResult> done(TaskManagementResult result) {
        return CompletableFuture.completedFuture(result);
    }
}
