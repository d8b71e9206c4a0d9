package io.tandem.scsi.core;

import io.tandem.cluster.Coordinator;
import io.tandem.cluster.LuState;
import io.tandem.scsi.LunAcl;
import io.tandem.scsi.LunSpec;
import io.tandem.scsi.Nexus;
import io.tandem.scsi.alua.AluaMode;
import io.tandem.storage.BlockDevice;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * One logical unit's state on this node: its device and identity, mode parameters, per-nexus unit
 * attention queues, live task set, ALUA access state and which initiators see it (LUN masking).
 */
public final class LogicalUnit {

    /** The unit file systems and the page cache work in: the OPTIMAL TRANSFER LENGTH GRANULARITY hint. */
    public static final int PAGE_BYTES = 4096;
    /** Largest transfer one command may ask for (Block Limits MAXIMUM TRANSFER LENGTH), in bytes. */
    public static final int MAX_TRANSFER_BYTES = 8 * 1024 * 1024;

    private final LunSpec spec;
    private final BlockDevice device;
    private final LuIdentity identity;
    /** The removable medium's state, or null for a fixed disk (whose medium is always present). */
    private final RemovableMedium medium;
    /** The mode parameters of the applied record, decoded once per version for the data path. */
    private volatile ModeParameters modeParameters = ModeParameters.DEFAULTS;
    private final Map<Nexus, UnitAttentionQueue> unitAttentions = new ConcurrentHashMap<>();
    private final TaskSet taskSet = new TaskSet();
    /** REPORT TARGET PORT GROUPS STATUS CODE per group: how its state last changed (node-local). */
    private volatile ReservationPolicy reservations = ReservationPolicy.NONE;
    private volatile LunAcl acl = LunAcl.EVERYONE;
    private volatile AluaMode aluaMode = AluaMode.ACTIVE_ACTIVE;
    /** Set once the LU is being removed: nothing new starts on it. */
    private volatile boolean retired;
    /** This node's applied copy of the LU's cluster record: what the I/O path reads. */
    private volatile LuState state;
    private volatile Coordinator coordinator;
    private final SanitizeState sanitize = new SanitizeState(this);
    private final CopyOperations copies = new CopyOperations();

    public LogicalUnit(String targetName, LunSpec spec, int companyId) {
        this.spec = spec;
        this.device = spec.device();
        this.identity = LuIdentity.derive(targetName, spec.name(), companyId);
        this.medium = spec.removable() ? new RemovableMedium(this) : null;
        this.state = LuState.initial(stateId());
    }

    public int number() { return spec.number(); }
    public String name() { return spec.name(); }
    public BlockDevice device() { return device; }
    public LuIdentity identity() { return identity; }
    public TaskSet taskSet() { return taskSet; }

    public int blockSize() { return device.blockSize(); }
    public long blockCount() { return device.blockCount(); }

    /** Refuses writes by configuration or because the backing store does. */
    public boolean readOnly() {
        return spec.readOnly() || device.readOnly();
    }

    /** INQUIRY RMB: whether the LU's medium can be ejected and loaded. */
    public boolean removable() {
        return medium != null;
    }

    /** The removable medium, or null for a fixed disk. */
    public RemovableMedium medium() {
        return medium;
    }

    /** Whether commands that need the medium can run: always for a fixed disk. */
    public boolean mediumPresent() {
        return medium == null || medium.loaded();
    }

    /**
     * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT, from the LU's configured physical block size. The
     * default is 0 (one logical block per physical block), as file-backed targets (LIO fileio, tgt)
     * report: a file has no physical block the initiator must align to, and the unit in which space
     * is given back is reported where SBC-4 puts it, as OPTIMAL UNMAP GRANULARITY. A "512e" LU
     * (physical-block-size 4096) reports 3.
     */
    public int logicalBlocksPerPhysicalExponent() {
        return Integer.numberOfTrailingZeros(spec.physicalBlockSize() / blockSize());
    }

    /** OPTIMAL TRANSFER LENGTH GRANULARITY in blocks: a page. */
    public int optimalTransferGranularityBlocks() {
        return Math.max(1, PAGE_BYTES / blockSize());
    }

    public long maxTransferBlocks() {
        return MAX_TRANSFER_BYTES / blockSize();
    }

    /**
     * The LU's current mode parameters: those of the cluster record this node last applied (MODE
     * SELECT changes them through {@link #changeState}, resets return them to the defaults there).
     * Kept decoded beside the record so the data path reads one field.
     */
    public ModeParameters modeParameters() {
        return modeParameters;
    }

    /**
     * The LU's asymmetric access state through a target port group, from the applied cluster
     * record; a group the record does not name is Active/Optimized (every path active at once).
     */
    public AluaState accessState(int targetPortGroup) {
        var stored = state.portGroupStates().get(targetPortGroup);
        return stored == null ? AluaState.ACTIVE_OPTIMIZED : AluaState.of(stored);
    }

    /** REPORT TARGET PORT GROUPS STATUS CODE of a group: 0 none, 1 changed by SET TARGET PORT GROUPS, 2 implicitly. */
    public int portGroupStatus(int targetPortGroup) {
        return state.portGroupStatus().getOrDefault(targetPortGroup, 0);
    }

    /** How this LU's paths share the work across the cluster's target port groups (configuration). */
    public AluaMode aluaMode() { return aluaMode; }
    public void aluaMode(AluaMode mode) { this.aluaMode = java.util.Objects.requireNonNull(mode); }
    public SanitizeState sanitize() { return sanitize; }
    /** EXTENDED COPY operations this LU's copy manager runs or holds results of. */
    public CopyOperations copies() { return copies; }

    public ReservationPolicy reservations() { return reservations; }
    public void reservations(ReservationPolicy policy) { this.reservations = policy; }

    public LunAcl acl() { return acl; }
    /** Changed only by {@code ScsiTarget}, which raises REPORTED LUNS DATA HAS CHANGED where visibility changes. */
    public void acl(LunAcl acl) { this.acl = java.util.Objects.requireNonNull(acl); }

    /** Whether the LU exists for this nexus (LUN masking). */
    public boolean visibleTo(Nexus nexus) {
        return acl.admits(nexus.initiatorName());
    }

    public boolean retired() { return retired; }
    public void retire() { retired = true; }
    /** The LU's key in the coordinator: its NAA designator in hex, the same on every node. */
    public String stateId() {
        return HexFormat.of().formatHex(identity.naa());
    }

    /**
     * The cluster record (persistent reservations, SPC-2 reservation, ALUA, ...) as this node last
     * applied it. Never blocks; this is what the precheck and PERSISTENT RESERVE IN read.
     */
    public LuState state() {
        return state;
    }

    /** Installs a newly applied version (only the coordinator's apply hook calls this). */
    public void state(LuState applied) {
        this.state = applied;
    }

    /** Connects the LU to its coordinator with the record it joined with. */
    public void bindState(Coordinator coordinator, LuState initial) {
        this.coordinator = coordinator;
        this.state = initial;
        this.modeParameters = ModeParameters.decode(initial.modeParameters());
    }

    /**
     * Installs the mode parameters of an applied record (only the coordinator's apply hook calls
     * this; it decides when, see {@code LuStateApplier}).
     */
    public void modeParameters(ModeParameters applied) {
        this.modeParameters = java.util.Objects.requireNonNull(applied);
    }

    /**
     * Changes the cluster record through the coordinator (compare-and-set, retried). The future
     * completes once every node, this one included, has applied the new version; what
     * {@code change} throws (e.g. a {@link ScsiException}) fails it.
     */
    public CompletableFuture<LuState> changeState(UnaryOperator<LuState> change) {
        Coordinator c = coordinator;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException(this + " has no coordinator"));
        }
        return c.update(stateId(), change);
    }

    /** The nexus' queue, created empty the first time the nexus addresses this LU. */
    public UnitAttentionQueue unitAttentions(Nexus nexus) {
        return unitAttentions.computeIfAbsent(nexus, n -> new UnitAttentionQueue());
    }

    /**
     * Establishes unit attention {@code reason} for one I_T nexus on this LU (e.g. REGISTRATIONS
     * PREEMPTED for a preempted registrant). De-duplicated; see {@link UnitAttentionQueue}.
     */
    public void establish(Nexus nexus, SenseReason reason) {
        unitAttentions(nexus).establish(reason);
    }

    /**
     * Establishes {@code reason} for every I_T nexus known to this LU (every logged-in nexus that
     * sees it has a queue from its login on), except {@code except} (may be null): e.g. MODE
     * PARAMETERS CHANGED, CAPACITY DATA HAS CHANGED, ASYMMETRIC ACCESS STATE CHANGED.
     */
    public void establishForAll(SenseReason reason, Nexus except) {
        unitAttentions.forEach((nexus, queue) -> {
            if (!nexus.equals(except)) {
                queue.establish(reason);
            }
        });
    }

    /**
     * The nexus is gone (or no longer sees this LU): its unit attentions and copy results end here.
     * (Its medium removal prevention is the LU's, in the record: see {@link RemovableMedium#nexusLost}.)
     */
    public void forgetNexus(Nexus nexus) {
        unitAttentions.remove(nexus);
        copies.forget(nexus);
    }

    @Override
    public String toString() {
        return "LUN " + spec.number() + " (" + spec.name() + ")";
    }
}
