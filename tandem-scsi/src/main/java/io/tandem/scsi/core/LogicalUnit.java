package io.tandem.scsi.core;

import io.tandem.scsi.LunSpec;
import io.tandem.scsi.Nexus;
import io.tandem.storage.BlockDevice;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One logical unit's state on this node: its device and identity, mode parameters, per-nexus unit
 * attention queues, live task set and ALUA access state.
 */
public final class LogicalUnit {

    /** Logical blocks reported per physical block are derived from this (SBC LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT). */
    public static final int PHYSICAL_BLOCK_BYTES = 4096;
    /** Largest transfer one command may ask for (Block Limits MAXIMUM TRANSFER LENGTH), in bytes. */
    public static final int MAX_TRANSFER_BYTES = 8 * 1024 * 1024;

    private final LunSpec spec;
    private final BlockDevice device;
    private final LuIdentity identity;
    private final AtomicReference<ModeParameters> modeParameters = new AtomicReference<>(ModeParameters.DEFAULTS);
    private final Map<Nexus, UnitAttentionQueue> unitAttentions = new ConcurrentHashMap<>();
    private final TaskSet taskSet = new TaskSet();
    private volatile AluaState aluaState = AluaState.ACTIVE_OPTIMIZED;
    private volatile ReservationPolicy reservations = ReservationPolicy.NONE;
    private final SanitizeState sanitize = new SanitizeState();
    private final CopyOperations copies = new CopyOperations();

    public LogicalUnit(String targetName, LunSpec spec, int companyId) {
        this.spec = spec;
        this.device = spec.device();
        this.identity = LuIdentity.derive(targetName, spec.name(), companyId);
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

    /** log2(physical block / logical block), 0 when the logical block is already the physical size. */
    public int logicalBlocksPerPhysicalExponent() {
        int ratio = Math.max(1, PHYSICAL_BLOCK_BYTES / blockSize());
        return Integer.numberOfTrailingZeros(ratio);
    }

    public long maxTransferBlocks() {
        return MAX_TRANSFER_BYTES / blockSize();
    }

    public ModeParameters modeParameters() {
        return modeParameters.get();
    }

    /** Installs new mode parameters if they are still {@code expected}; false on a concurrent change. */
    public boolean compareAndSetModeParameters(ModeParameters expected, ModeParameters updated) {
        return modeParameters.compareAndSet(expected, updated);
    }

    public void resetModeParameters() {
        modeParameters.set(ModeParameters.DEFAULTS);
    }

    public AluaState aluaState() { return aluaState; }
    public void aluaState(AluaState state) { this.aluaState = state; }

    public SanitizeState sanitize() { return sanitize; }
    /** EXTENDED COPY operations this LU's copy manager runs or holds results of. */
    public CopyOperations copies() { return copies; }

    public ReservationPolicy reservations() { return reservations; }
    public void reservations(ReservationPolicy policy) { this.reservations = policy; }

    /** The nexus' queue, created empty the first time the nexus addresses this LU. */
    public UnitAttentionQueue unitAttentions(Nexus nexus) {
        return unitAttentions.computeIfAbsent(nexus, n -> new UnitAttentionQueue());
    }

    /** Establishes {@code reason} for every known nexus, except {@code except} (may be null). */
    public void establishForAll(SenseReason reason, Nexus except) {
        unitAttentions.forEach((nexus, queue) -> {
            if (!nexus.equals(except)) {
                queue.establish(reason);
            }
        });
    }

    public void forgetNexus(Nexus nexus) {
        unitAttentions.remove(nexus);
        copies.forget(nexus);
    }

    @Override
    public String toString() {
        return "LUN " + spec.number() + " (" + spec.name() + ")";
    }
}
