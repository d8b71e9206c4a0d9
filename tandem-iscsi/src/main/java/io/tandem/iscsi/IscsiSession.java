package io.tandem.iscsi;

import io.tandem.scsi.Nexus;

/**
 * A normal or discovery session. With MaxConnections=1 and ErrorRecoveryLevel=0 a session has one
 * connection; the session outlives nothing beyond it, but owns the command window and the nexus.
 */
final class IscsiSession {

    final SessionKey key;
    final int tsih;
    final boolean discovery;
    final Nexus nexus;
    final CommandSequencer sequencer;
    volatile IscsiConnection connection;
    /** Set once the SCSI core has been told the nexus ended, so reinstatement and cleanup don't both tell it. */
    final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    /** Completes once the SCSI core has released what the nexus held, whichever thread told it. */
    final java.util.concurrent.CompletableFuture<Void> releaseDone = new java.util.concurrent.CompletableFuture<>();

    IscsiSession(SessionKey key, int tsih, boolean discovery, Nexus nexus, int firstCmdSn, int window) {
        this.key = key;
        this.tsih = tsih;
        this.discovery = discovery;
        this.nexus = nexus;
        this.sequencer = new CommandSequencer(firstCmdSn, window);
    }

    /** Identity for reinstatement: the same initiator port (name + ISID) to the same target. */
    record SessionKey(String initiatorName, long isid, String targetName) {
    }
}
