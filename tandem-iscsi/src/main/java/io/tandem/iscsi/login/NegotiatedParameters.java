package io.tandem.iscsi.login;

import java.util.Objects;

/**
 * The outcome of a successful login, everything the full-feature phase needs. Lengths are in
 * bytes, times in seconds.
 *
 * @param sessionType NORMAL or DISCOVERY
 * @param initiatorName the initiator's iSCSI name
 * @param initiatorAlias InitiatorAlias, or null
 * @param targetName the target's name as configured; null in discovery sessions
 * @param isid the initiator session identifier (48 bits)
 * @param portalGroupTag TargetPortalGroupTag of the target; -1 in discovery sessions
 * @param authenticatedUser the CHAP name the initiator proved, or null without authentication
 * @param headerDigest CRC32C header digests in use
 * @param dataDigest CRC32C data digests in use
 * @param initiatorMaxRecvDataSegmentLength limit for data segments the TARGET sends
 *     (8192 if the initiator declared nothing)
 * @param targetMaxRecvDataSegmentLength limit for data segments the target accepts, as the
 *     initiator knows it (8192 if the login never reached the operational stage)
 * @param maxBurstLength largest Data-In or solicited Data-Out sequence
 * @param firstBurstLength largest unsolicited data per command; never above maxBurstLength
 * @param initialR2T true if the initiator must wait for an R2T before sending non-immediate data
 * @param immediateData true if SCSI Command PDUs may carry data
 * @param maxOutstandingR2T R2Ts per task the target may have outstanding
 * @param dataPDUInOrder Data PDUs arrive in increasing offset order within a sequence
 * @param dataSequenceInOrder sequences arrive in increasing offset order
 * @param defaultTime2Wait seconds before a reconnect after logout or drop
 * @param defaultTime2Retain seconds task state survives a drop
 * @param errorRecoveryLevel negotiated ErrorRecoveryLevel (always 0 here)
 * @param maxConnections connections per session (always 1 here)
 */
public record NegotiatedParameters(SessionType sessionType, String initiatorName, String initiatorAlias,
                                   String targetName, long isid, int portalGroupTag, String authenticatedUser,
                                   boolean headerDigest, boolean dataDigest,
                                   int initiatorMaxRecvDataSegmentLength, int targetMaxRecvDataSegmentLength,
                                   int maxBurstLength, int firstBurstLength, boolean initialR2T,
                                   boolean immediateData, int maxOutstandingR2T, boolean dataPDUInOrder,
                                   boolean dataSequenceInOrder, int defaultTime2Wait, int defaultTime2Retain,
                                   int errorRecoveryLevel, int maxConnections) {
    public NegotiatedParameters {
        Objects.requireNonNull(sessionType, "sessionType");
        Objects.requireNonNull(initiatorName, "initiatorName");
        if (firstBurstLength > maxBurstLength) {
            throw new IllegalArgumentException("FirstBurstLength exceeds MaxBurstLength");
        }
    }

    /** A copy with a new initiator MaxRecvDataSegmentLength, as declared in a full-feature Text request. */
    public NegotiatedParameters withInitiatorMaxRecvDataSegmentLength(int length) {
        return new NegotiatedParameters(sessionType, initiatorName, initiatorAlias, targetName, isid, portalGroupTag,
                authenticatedUser, headerDigest, dataDigest, length, targetMaxRecvDataSegmentLength,
                maxBurstLength, firstBurstLength, initialR2T, immediateData, maxOutstandingR2T, dataPDUInOrder,
                dataSequenceInOrder, defaultTime2Wait, defaultTime2Retain, errorRecoveryLevel, maxConnections);
    }

    /** A copy with a new InitiatorAlias, as declared in a full-feature Text request. */
    public NegotiatedParameters withInitiatorAlias(String alias) {
        return new NegotiatedParameters(sessionType, initiatorName, alias, targetName, isid, portalGroupTag,
                authenticatedUser, headerDigest, dataDigest, initiatorMaxRecvDataSegmentLength,
                targetMaxRecvDataSegmentLength, maxBurstLength, firstBurstLength, initialR2T, immediateData,
                maxOutstandingR2T, dataPDUInOrder, dataSequenceInOrder, defaultTime2Wait, defaultTime2Retain,
                errorRecoveryLevel, maxConnections);
    }
}
