package io.tandem.scsi.pr;

import io.tandem.cluster.NexusId;
import io.tandem.cluster.ReservationType;
import io.tandem.scsi.Nexus;
import java.util.List;

/**
 * One decoded PERSISTENT RESERVE OUT command: CDB fields, parameter list and who sent it.
 *
 * @param issuer           the nexus the command came through
 * @param tag              the command's task tag (so PREEMPT AND ABORT spares the command itself)
 * @param type             the TYPE field, or null when the service action does not use it
 * @param key              RESERVATION KEY
 * @param serviceActionKey SERVICE ACTION RESERVATION KEY
 * @param specifyInitiatorPorts SPEC_I_PT
 * @param allTargetPorts   ALL_TG_PT
 * @param aptpl            APTPL
 * @param transportIds     initiator ports named by SPEC_I_PT TransportIDs, or REGISTER AND MOVE's one
 * @param unregister       REGISTER AND MOVE: UNREG
 * @param moveToTargetPort REGISTER AND MOVE: RELATIVE TARGET PORT IDENTIFIER
 */
record PrOutRequest(Nexus issuer, long tag, ReservationType type, long key, long serviceActionKey,
                    boolean specifyInitiatorPorts, boolean allTargetPorts, boolean aptpl, List<String> transportIds,
                    boolean unregister, int moveToTargetPort) {

    NexusId issuerId() {
        return NexusIds.exact(issuer);
    }
}
