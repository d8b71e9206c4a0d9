package io.tandem.scsi;

import io.tandem.cluster.LuState;
import io.tandem.cluster.LuStateWatcher;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.Transition;
import io.tandem.scsi.alua.AccessStateChanges;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * This node's apply hook for one LU's cluster record (the coordinator calls it once per version,
 * in order). It installs the version in the LU's cache (from then on the precheck decides with
 * it), aborts the tasks the version's {@link Transition} names through the one abort engine, and
 * then queues the unit attentions for this node's nexuses. The returned stage completes after
 * the aborted tasks' backend work has ended: that is this node's "applied".
 *
 * <p>The nexus and task that made the change are never aborted nor told about it. A version that
 * arrives after a gap (the node missed versions while it was cut off) is first caught up with, see
 * {@link #catchUp}.
 */
final class LuStateApplier implements LuStateWatcher {

    private static final System.Logger LOG = System.getLogger(LuStateApplier.class.getName());

    /**
     * Aborts the given tasks of an LU as a task management function would, on behalf of
     * {@code issuer} (a nexus of any node, or null); with TAS clear, {@code othersUnitAttention}
     * (if not null) goes to the other nexuses that lost tasks.
     */
    @FunctionalInterface
    interface Aborter {
        CompletableFuture<Void> abort(LogicalUnit lu, List<Command> victims, NexusId issuer, SenseReason othersUnitAttention);
    }

    private final LogicalUnit lu;
    private final Supplier<Set<Nexus>> nexuses;
    private final Aborter aborter;
    private final Consumer<Transition> coldResetElsewhere;

    /**
     * @param coldResetElsewhere told of a TARGET COLD RESET issued through another node (its
     *                           transition names the issuer and the reset), once this node's share
     *                           of it is done: this node's sessions are the target's too
     */
    LuStateApplier(LogicalUnit lu, Supplier<Set<Nexus>> nexuses, Aborter aborter, Consumer<Transition> coldResetElsewhere) {
        this.lu = lu;
        this.nexuses = nexuses;
        this.aborter = aborter;
        this.coldResetElsewhere = coldResetElsewhere;
    }

    @Override
    public CompletionStage<Void> apply(LuState previous, LuState next) {
        lu.state(next);
        // New mode parameters take effect at once, before anyone hears of them; a reset's return to
        // the defaults waits until its aborts are done, which follow the TAS bit in effect before it.
        boolean reset = next.resetEpoch() != previous.resetEpoch();
        ModeParameters modeParameters = ModeParameters.decode(next.modeParameters());
        if (!reset) {
            lu.modeParameters(modeParameters);
        }
        // After a gap, what was missed is made up for first: a reset among the missed versions must
        // not supersede the news derived after it (access states, capacity), which may be later.
        CompletableFuture<Void> caughtUp = next.version() > previous.version() + 1
                ? catchUp(previous, next) : CompletableFuture.completedFuture(null);
        CompletableFuture<Void> done = caughtUp.thenRun(() -> AccessStateChanges.applied(lu, previous, next, nexuses.get()))
                .thenCompose(v -> grow(previous, next))
                .thenCompose(v -> carryOut(next.transition()));
        return reset ? done.whenComplete((v, error) -> lu.modeParameters(modeParameters)) : done;
    }

    /**
     * A resize: this node's device grows to the recorded capacity (the first node to get there
     * grows the shared file, the others find it grown), then every nexus that sees the LU here gets
     * CAPACITY DATA HAS CHANGED. A device that cannot grow keeps its size and the failure is logged
     * (READ CAPACITY through this node then reports the old size).
     */
    private CompletableFuture<Void> grow(LuState previous, LuState next) {
        if (next.capacityBlocks() == previous.capacityBlocks() || next.capacityBlocks() == 0) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> resized = next.capacityBlocks() > lu.blockCount()
                ? lu.device().resize(next.capacityBlocks()) : CompletableFuture.completedFuture(null);
        return resized.handle((v, error) -> {
            if (error != null) {
                LOG.log(System.Logger.Level.ERROR, lu + " could not grow to " + next.capacityBlocks() + " blocks: " + error);
                return null;
            }
            for (Nexus nexus : nexuses.get()) {
                if (lu.visibleTo(nexus)) {
                    lu.unitAttentions(nexus).establish(SenseReason.UA_CAPACITY_DATA_CHANGED);
                }
            }
            return null;
        });
    }

    /**
     * This node missed versions (its coordinator session expired and the cluster went on without it;
     * it was fenced meanwhile), so the notices of those versions never reached it: whom a PREEMPT
     * AND ABORT aborted, who was told what. It makes up for them conservatively before it serves
     * again. Every task of the LU here is aborted (none may still write once the fence lifts: its
     * precheck decided on a record that no longer holds), with TAS semantics and, with TAS clear,
     * COMMANDS CLEARED BY DEVICE SERVER; then the unit attentions the difference between the two
     * records implies are established for this node's nexuses: a reset if the reset epoch moved,
     * REGISTRATIONS PREEMPTED for a nexus no longer registered, RESERVATIONS RELEASED or PREEMPTED
     * for a registrant whose reservation changed, MODE PARAMETERS CHANGED if they did, NOT READY TO
     * READY CHANGE if the medium was loaded. (ALUA and capacity changes are always derived from the
     * two records.) A missed sanitize drain needs nothing more: every task here was aborted.
     */
    private CompletableFuture<Void> catchUp(LuState previous, LuState next) {
        return aborter.abort(lu, lu.taskSet().select(c -> true), null, SenseReason.UA_COMMANDS_CLEARED_BY_DEVICE_SERVER)
                .thenRun(() -> {
                    if (next.resetEpoch() != previous.resetEpoch()) {
                        reset(SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED);
                    }
                    boolean reservationChanged = !java.util.Objects.equals(previous.reservation(), next.reservation());
                    boolean modeParametersChanged = previous.modeParameters() != next.modeParameters();
                    boolean mediumLoaded = previous.medium().ejected() && !next.medium().ejected();
                    for (Nexus nexus : nexuses.get()) {
                        if (!lu.visibleTo(nexus)) {
                            continue;
                        }
                        if (modeParametersChanged) {
                            lu.unitAttentions(nexus).establish(SenseReason.UA_MODE_PARAMETERS_CHANGED);
                        }
                        if (mediumLoaded) {
                            lu.unitAttentions(nexus).establish(SenseReason.UA_NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED);
                        }
                        boolean registered = NexusIds.registrationOf(next, nexus) != null;
                        if (NexusIds.registrationOf(previous, nexus) != null && !registered) {
                            lu.unitAttentions(nexus).establish(SenseReason.UA_REGISTRATIONS_PREEMPTED);
                        }
                        if (reservationChanged && registered) {
                            lu.unitAttentions(nexus).establish(next.reservation() == null
                                    ? SenseReason.UA_RESERVATIONS_RELEASED : SenseReason.UA_RESERVATIONS_PREEMPTED);
                        }
                    }
                });
    }

    /** Carries out what one version's transition asks of this node: aborts, then unit attentions. */
    private CompletableFuture<Void> carryOut(Transition t) {
        if (t.notices().isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> aborts = new ArrayList<>();
        for (Notice n : t.notices()) {
            switch (n.kind()) {
                case ABORT_TASKS -> aborts.add(aborter.abort(lu,
                        lu.taskSet().select(c -> coveredByAny(n.nexuses(), c.nexus()) && !isIssuingTask(t, c)), t.issuer(), null));
                // TST=000b: one task set per LU across the cluster, so its share on every node goes.
                case CLEAR_TASK_SET -> aborts.add(aborter.abort(lu, lu.taskSet().select(c -> !isIssuingTask(t, c)),
                        t.issuer(), SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR));
                case LOGICAL_UNIT_RESET, TARGET_WARM_RESET, TARGET_COLD_RESET -> aborts.add(
                        aborter.abort(lu, lu.taskSet().select(c -> !isIssuingTask(t, c)), t.issuer(), null));
                case SANITIZE_DRAIN -> aborts.add(committedWritesEnded());
                default -> { }
            }
        }
        return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new)).thenRun(() -> {
            boolean coldReset = false;
            for (Notice n : t.notices()) {
                if (resetReason(n.kind()) != null) {
                    reset(resetReason(n.kind()));
                    coldReset |= n.kind() == Notice.Kind.TARGET_COLD_RESET;
                    continue;
                }
                SenseReason ua = unitAttention(n.kind());
                if (ua == null) {
                    continue;
                }
                for (Nexus nexus : nexuses.get()) {
                    boolean concerned = n.concernsEveryNexus() ? lu.visibleTo(nexus) : coveredByAny(n.nexuses(), nexus);
                    if (concerned && !isIssuer(t, nexus)) {
                        lu.unitAttentions(nexus).establish(ua);
                    }
                }
            }
            // The issuing node closes its sessions once its response went out (the fabric does it);
            // every other node closes its own now: a cold reset is a hard reset of the whole target.
            if (coldReset && nexuses.get().stream().noneMatch(nexus -> isIssuer(t, nexus))) {
                coldResetElsewhere.accept(t);
            }
        });
    }

    /**
     * A sanitize's drain: completes once every medium write this node had committed to has ended.
     * Uncommitted ones start nothing any more (the record says the LU is sanitizing, which
     * {@link Command#io} checks under the task's lock, the lock {@code isCommitted} takes).
     */
    private CompletableFuture<Void> committedWritesEnded() {
        List<CompletableFuture<Void>> writes = lu.taskSet()
                .select(c -> c.descriptor().has(CommandFlag.WRITES_MEDIUM) && !c.descriptor().has(CommandFlag.SANITIZE)
                        && c.isCommitted())
                .stream().map(Command::whenEnded).toList();
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    /**
     * This node's share of a reset (SAM-5 6.3.3), after its tasks are gone: every nexus that sees
     * the LU here, the issuer's included, gets the reset's unit attention. The SPC-2 reservation, the
     * mode parameters (none saved) and the medium removal preventions returned to their defaults in
     * the same record change.
     */
    private void reset(SenseReason ua) {
        for (Nexus n : nexuses.get()) {
            if (lu.visibleTo(n)) {
                lu.unitAttentions(n).establish(ua);
            }
        }
    }

    private static SenseReason resetReason(Notice.Kind kind) {
        return switch (kind) {
            case LOGICAL_UNIT_RESET -> SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED;
            case TARGET_WARM_RESET -> SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET;
            case TARGET_COLD_RESET -> SenseReason.UA_POWER_ON_OCCURRED;
            default -> null;
        };
    }

    private static SenseReason unitAttention(Notice.Kind kind) {
        return switch (kind) {
            case REGISTRATIONS_PREEMPTED -> SenseReason.UA_REGISTRATIONS_PREEMPTED;
            case RESERVATIONS_PREEMPTED -> SenseReason.UA_RESERVATIONS_PREEMPTED;
            case RESERVATIONS_RELEASED -> SenseReason.UA_RESERVATIONS_RELEASED;
            case ASYMMETRIC_ACCESS_STATE_CHANGED -> SenseReason.UA_ASYMMETRIC_ACCESS_STATE_CHANGED;
            case CAPACITY_DATA_CHANGED -> SenseReason.UA_CAPACITY_DATA_CHANGED;
            case MODE_PARAMETERS_CHANGED -> SenseReason.UA_MODE_PARAMETERS_CHANGED;
            case MEDIUM_LOADED -> SenseReason.UA_NOT_READY_TO_READY_CHANGE_MEDIUM_MAY_HAVE_CHANGED;
            case SANITIZE_DRAIN, ABORT_TASKS, CLEAR_TASK_SET, LOGICAL_UNIT_RESET, TARGET_WARM_RESET, TARGET_COLD_RESET -> null;
        };
    }

    private static boolean coveredByAny(List<NexusId> ids, Nexus nexus) {
        for (NexusId id : ids) {
            if (NexusIds.covers(id, nexus)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIssuer(Transition t, Nexus nexus) {
        return t.issuer() != null && t.issuer().equals(NexusIds.exact(nexus));
    }

    private static boolean isIssuingTask(Transition t, Command c) {
        return isIssuer(t, c.nexus()) && c.task().tag() == t.issuerTag();
    }
}
