package io.tandem.scsi.core;

import io.tandem.scsi.TargetPortGroup;
import java.util.List;

/** What handlers may know about the target device as a whole. */
public interface TargetContext {

    String targetName();

    /** Every logical unit, ordered by LUN. */
    List<LogicalUnit> logicalUnits();

    /** The opcode table (REPORT SUPPORTED OPERATION CODES renders it). */
    CommandSet commands();

    /** The ALUA target port groups of the cluster, ascending by id (REPORT TARGET PORT GROUPS lists them). */
    List<TargetPortGroup> targetPortGroups();

    /** Seconds an implicit ALUA transition may take (REPORT TARGET PORT GROUPS extended header). */
    int implicitTransitionSeconds();

    /**
     * Whether this node is fenced from its cluster (its coordinator session is in doubt): it then
     * starts no command on a logical unit and reports its own target port group as Transitioning,
     * so initiators retry on another path. A flag read; never a coordinator call.
     */
    boolean fenced();

    /** A buffer for bulk data (READ data-in, WRITE data-out), position 0, limit = capacity = {@code bytes}. */
    BufferPool bufferPool();
}
