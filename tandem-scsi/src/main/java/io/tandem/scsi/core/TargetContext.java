package io.tandem.scsi.core;

import java.nio.ByteBuffer;
import java.util.List;

/** What handlers may know about the target device as a whole. */
public interface TargetContext {

    String targetName();

    /** Every logical unit, ordered by LUN. */
    List<LogicalUnit> logicalUnits();

    /** The opcode table (REPORT SUPPORTED OPERATION CODES renders it). */
    CommandSet commands();

    /** A buffer for bulk data (READ data-in, WRITE data-out), position 0, limit = capacity = {@code bytes}. */
    BufferPool bufferPool();
}
