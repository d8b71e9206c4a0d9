package io.tandem.scsi;

import java.util.Objects;

/**
 * One SCSI command as a fabric delivers it. The fabric fills the identity fields; the core records
 * the data-out length the CDB implies ({@link #commandDataOutLength()}) so the fabric can report
 * residuals against the initiator's expected data transfer length.
 */
public final class ScsiTask {

    private final Nexus nexus;
    private final long lun;
    private final byte[] cdb;
    private final TaskAttribute attribute;
    private final long tag;
    private final int expectedDataTransferLength;
    private final boolean readFlag;
    private final boolean writeFlag;
    private final TransportPort port;
    private volatile int commandDataOutLength;
    /** Fabric-private state (the iSCSI layer keeps its per-task transfer context here). */
    private volatile Object fabricContext;

    /**
     * @param lun the 8-byte SAM LUN field as received (single-level peripheral/flat addressing is decoded by the core)
     * @param tag the fabric's task tag (iSCSI Initiator Task Tag), unique per nexus while the task lives
     */
    public ScsiTask(Nexus nexus, long lun, byte[] cdb, TaskAttribute attribute, long tag,
                    int expectedDataTransferLength, boolean readFlag, boolean writeFlag, TransportPort port) {
        this.nexus = Objects.requireNonNull(nexus);
        this.lun = lun;
        this.cdb = Objects.requireNonNull(cdb);
        this.attribute = Objects.requireNonNull(attribute);
        this.tag = tag;
        this.expectedDataTransferLength = expectedDataTransferLength;
        this.readFlag = readFlag;
        this.writeFlag = writeFlag;
        this.port = Objects.requireNonNull(port);
    }

    public Nexus nexus() { return nexus; }
    public long lun() { return lun; }
    public byte[] cdb() { return cdb; }
    public TaskAttribute attribute() { return attribute; }
    public long tag() { return tag; }
    public int expectedDataTransferLength() { return expectedDataTransferLength; }
    public boolean readFlag() { return readFlag; }
    public boolean writeFlag() { return writeFlag; }
    public TransportPort port() { return port; }

    /** Data-out bytes the CDB implies (may exceed the expected length: an overflow). 0 until decoded. */
    public int commandDataOutLength() { return commandDataOutLength; }
    public void commandDataOutLength(int length) { this.commandDataOutLength = length; }

    public Object fabricContext() { return fabricContext; }
    public void fabricContext(Object context) { this.fabricContext = context; }

    @Override
    public String toString() {
        return String.format("task[tag=0x%x op=0x%02x lun=%d]", tag, cdb.length > 0 ? cdb[0] & 0xff : -1, lun);
    }
}
