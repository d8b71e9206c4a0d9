package io.tandem.scsi.core;

import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.SanitizeStatus;
import io.tandem.cluster.Transition;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The sanitize life cycle of one logical unit (SBC-4 4.11). A sanitize operation belongs to the
 * LU, not to the SANITIZE command that started it: it keeps running when that command is
 * aborted, across LU and target resets and I_T nexus loss, and while it runs every command except
 * INQUIRY, REPORT LUNS and REQUEST SENSE is refused with NOT READY, SANITIZE IN PROGRESS (with its
 * progress). If it fails, those commands get MEDIUM ERROR, SANITIZE COMMAND FAILED until a sanitize
 * completes without error or, when the failed one allowed it (AUSE=1), EXIT FAILURE MODE is requested.
 *
 * <p>The phase is the LU's on every node of a cluster: it lives in the LU's record
 * ({@link SanitizeStatus}), naming the target port group (node) that runs the operation. That node
 * keeps the exact progress and publishes it to the record about once a second, so every other node
 * reports it too. Should the node be lost while it runs, the survivors mark the operation failed
 * (see {@code ScsiTarget.membership}): the medium is then neither what it was nor sanitized.
 */
public final class SanitizeState {

    private static final System.Logger LOG = System.getLogger(SanitizeState.class.getName());
    /** How often the running node publishes its progress to the record, at most. */
    private static final long PUBLISH_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long the running node keeps trying to store the end of its operation (the cluster may be out of reach). */
    private static final long END_RETRY_NANOS = TimeUnit.MINUTES.toNanos(10);
    private static final long END_RETRY_PAUSE_MILLIS = 500;

    private final LogicalUnit lu;
    /** The target port group through which this node runs a sanitize operation of this LU; 0 when it runs none. */
    private volatile int runningGroup;
    /** 0..65535 of the operation this node runs. */
    private volatile int progress;
    private long lastPublished;                                               // guarded by this
    private CompletableFuture<?> publishing = CompletableFuture.completedFuture(null); // guarded by this

    SanitizeState(LogicalUnit lu) {
        this.lu = lu;
    }

    private SanitizeStatus recorded() {
        return lu.state().medium().sanitize();
    }

    public SanitizeStatus.Phase phase() {
        return recorded().phase();
    }

    /** Whether this node runs a sanitize operation of this LU now. */
    public boolean runningHere() {
        return runningGroup != 0;
    }

    /** How far the running operation has got, as a fraction of 65536: exact where it runs, as published elsewhere. */
    public int progress() {
        SanitizeStatus s = recorded();
        int group = runningGroup;
        return group != 0 && s.runningThrough(group) ? progress : s.progress();
    }

    /**
     * What the precheck must answer for the LU's sanitize phase, or null to go on. Commands flagged
     * {@link CommandFlag#RUNS_DURING_SANITIZE} never ask; {@code sanitizeCommand} is true for
     * SANITIZE itself, which may leave a failed state.
     */
    public ScsiException refusal(boolean sanitizeCommand) {
        return switch (phase()) {
            case IDLE -> null;
            case IN_PROGRESS -> ScsiException.withProgress(SenseReason.SANITIZE_IN_PROGRESS, progress());
            case FAILED -> sanitizeCommand ? null : ScsiException.of(SenseReason.SANITIZE_COMMAND_FAILED);
        };
    }

    /** The precheck's gate: throws {@link #refusal}, if any. */
    public void check(boolean sanitizeCommand) {
        ScsiException refused = refusal(sanitizeCommand);
        if (refused != null) {
            throw refused;
        }
    }

    /**
     * Claims the LU for a new sanitize operation run by this node through {@code group}: one record
     * change, after which every node refuses the commands a sanitize excludes (and commands admitted
     * earlier start no medium write they have not committed to, see {@link Command#io}). Fails with
     * SANITIZE IN PROGRESS when an operation already runs, here or on any node.
     */
    public CompletableFuture<LuState> begin(int group, boolean unrestrictedExit) {
        synchronized (this) {
            if (runningGroup != 0) {
                return CompletableFuture.failedFuture(ScsiException.withProgress(SenseReason.SANITIZE_IN_PROGRESS, progress()));
            }
            runningGroup = group;
            progress = 0;
            lastPublished = System.nanoTime();
        }
        return lu.changeState(s -> {
            SanitizeStatus now = s.medium().sanitize();
            if (now.inProgress()) {
                throw ScsiException.withProgress(SenseReason.SANITIZE_IN_PROGRESS, now.progress());
            }
            return s.withMedium(s.medium().withSanitize(SanitizeStatus.running(group, unrestrictedExit)));
        }).whenComplete((applied, error) -> {
            if (error != null) {
                runningGroup = 0;
            }
        });
    }

    /**
     * Once every node refuses new commands: every node acknowledges this change only after the
     * medium writes it had committed to before the sanitize began have ended (the apply hook's
     * {@link Notice.Kind#SANITIZE_DRAIN}), so none of them lands after a pass.
     */
    public CompletableFuture<LuState> drain(NexusId issuer, long issuerTag) {
        return lu.changeState(s -> s.withTransition(Transition.by(issuer, issuerTag,
                List.of(Notice.of(Notice.Kind.SANITIZE_DRAIN, List.of())))));
    }

    /**
     * Whether the record still names this node's operation: false once the cluster took this node
     * for lost and marked the operation failed, when it must write no more.
     */
    public boolean stillOurs() {
        int group = runningGroup;
        return group != 0 && recorded().runningThrough(group);
    }

    /** The running operation's progress; published to the record at most once a second, one change at a time. */
    public void progress(long done, long total) {
        progress = total <= 0 ? 0 : (int) Math.min(0xFFFF, done * 0x10000 / total);
        synchronized (this) {
            long now = System.nanoTime();
            if (!publishing.isDone() || now - lastPublished < PUBLISH_INTERVAL_NANOS) {
                return;
            }
            lastPublished = now;
            int group = runningGroup;
            int p = progress;
            publishing = lu.changeState(s -> {
                SanitizeStatus z = s.medium().sanitize();
                return z.runningThrough(group) && z.progress() != p ? s.withMedium(s.medium().withSanitize(z.withProgress(p))) : s;
            }).exceptionally(e -> {
                LOG.log(System.Logger.Level.DEBUG, "sanitize progress of " + lu + " not published: " + e);
                return null;
            });
        }
    }

    /**
     * Ends this node's operation: the record goes back to idle, or to failed (remembering AUSE),
     * unless it no longer names this node's operation. Blocks (the sanitize runs on a thread of its
     * own) and retries while the coordinator refuses, e.g. while this node is fenced: the record must
     * not keep saying "in progress" for an operation that ended.
     */
    public void end(boolean succeeded) throws InterruptedException {
        int group = runningGroup;
        long deadline = System.nanoTime() + END_RETRY_NANOS;
        try {
            while (true) {
                try {
                    lu.changeState(s -> {
                        SanitizeStatus z = s.medium().sanitize();
                        if (!z.runningThrough(group)) {
                            return s;
                        }
                        return s.withMedium(s.medium().withSanitize(succeeded ? SanitizeStatus.IDLE : z.failed()));
                    }).get();
                    return;
                } catch (ExecutionException e) {
                    if (lu.retired()) {
                        LOG.log(System.Logger.Level.WARNING, "the end of the sanitize of " + lu + " was not stored (the LU is gone"
                                + " from this node): the cluster marks it failed once it takes this node for lost");
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        LOG.log(System.Logger.Level.ERROR, "the end of the sanitize of " + lu + " could not be stored: "
                                + e.getCause() + "; the cluster marks it failed once it takes this node for lost");
                        return;
                    }
                    LOG.log(System.Logger.Level.WARNING, "storing the end of the sanitize of " + lu + " failed, retrying: "
                            + e.getCause());
                    Thread.sleep(END_RETRY_PAUSE_MILLIS);
                }
            }
        } finally {
            runningGroup = 0;
            progress = 0;
        }
    }

    /**
     * EXIT FAILURE MODE: leaves a failed state that allows it. Fails with INVALID FIELD IN CDB (the
     * AUSE bit) when the failed operation was requested in restricted completion mode (AUSE=0), which
     * only a successful sanitize can end; with nothing failed there is nothing to leave and it succeeds.
     */
    public CompletableFuture<LuState> exitFailureMode() {
        return lu.changeState(s -> {
            SanitizeStatus z = s.medium().sanitize();
            if (z.phase() != SanitizeStatus.Phase.FAILED) {
                return s;
            }
            if (!z.unrestrictedExit()) {
                throw ScsiException.invalidCdbField(1, 4);
            }
            return s.withMedium(s.medium().withSanitize(SanitizeStatus.IDLE));
        });
    }
}
