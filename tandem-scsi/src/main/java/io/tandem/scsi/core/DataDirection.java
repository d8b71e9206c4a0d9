package io.tandem.scsi.core;

/** Which way a command's data moves, seen from the initiator. */
public enum DataDirection {
    NONE, IN, OUT
}
