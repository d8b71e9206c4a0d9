package io.tandem.scsi;

import io.tandem.cluster.LuState;
import io.tandem.cluster.LuStateWatcher;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.Transition;
import io.tandem.scsi.alua.AccessStateChanges;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * This node's apply hook for one LU's cluster record (the coordinator calls it once per version,
 * in order). It installs the version in the LU's cache (from then on the precheck decides with
 * it), aborts the tasks the version's {@link Transition} names through the one abort engine, and
 * then queues the unit attentions for this node's nexuses. The returned stage completes after
 * the aborted tasks' backend work has ended: that is this node's "applied".
 *
 * <p>The nexus and task that made the change are never aborted nor told about it.
 */
final class LuStateApplier implements LuStateWatcher {

    /** Aborts the given tasks of an LU as a task management function would, on behalf of {@code issuer}. */
    @FunctionalInterface
    interface Aborter {
        CompletableFuture<Void> abort(LogicalUnit lu, List<Command> victims, NexusId issuer);
    }

    private final LogicalUnit lu;
    private final Supplier<Set<Nexus>> nexuses;
    private final Aborter aborter;

    LuStateApplier(LogicalUnit lu, Supplier<Set<Nexus>> nexuses, Aborter aborter) {
        this.lu = lu;
        this.nexuses = nexuses;
        this.aborter = aborter;
    }

    @Override
    public CompletionStage<Void> apply(LuState previous, LuState next) {
        lu.state(next);
        AccessStateChanges.applied(lu, previous, next, nexuses.get());
        Transition t = next.transition();
        if (t.notices().isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<Void>> aborts = new ArrayList<>();
        for (Notice n : t.notices()) {
            if (n.kind() == Notice.Kind.ABORT_TASKS) {
                List<Command> victims = lu.taskSet().select(c -> coveredByAny(n.nexuses(), c.nexus()) && !isIssuingTask(t, c));
                aborts.add(aborter.abort(lu, victims, t.issuer()));
            }
        }
        return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new)).thenRun(() -> {
            for (Notice n : t.notices()) {
                SenseReason ua = unitAttention(n.kind());
                if (ua == null) {
                    continue;
                }
                for (Nexus nexus : nexuses.get()) {
                    if (coveredByAny(n.nexuses(), nexus) && !isIssuer(t, nexus)) {
                        lu.unitAttentions(nexus).establish(ua);
                    }
                }
            }
        });
    }

    private static SenseReason unitAttention(Notice.Kind kind) {
        return switch (kind) {
            case REGISTRATIONS_PREEMPTED -> SenseReason.UA_REGISTRATIONS_PREEMPTED;
            case RESERVATIONS_PREEMPTED -> SenseReason.UA_RESERVATIONS_PREEMPTED;
            case RESERVATIONS_RELEASED -> SenseReason.UA_RESERVATIONS_RELEASED;
            case ASYMMETRIC_ACCESS_STATE_CHANGED -> SenseReason.UA_ASYMMETRIC_ACCESS_STATE_CHANGED;
            case CAPACITY_DATA_CHANGED -> SenseReason.UA_CAPACITY_DATA_CHANGED;
            case ABORT_TASKS -> null;
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
