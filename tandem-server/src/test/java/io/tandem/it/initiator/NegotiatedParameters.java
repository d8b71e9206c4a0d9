package io.tandem.it.initiator;

import java.util.Map;

/**
 * The outcome of login negotiation as seen by the initiator. Values the target never answered keep
 * the RFC 7143 defaults. {@code targetMaxRecvDataSegmentLength} is what the target declared it can
 * receive (bounds our Data-Out and immediate data); {@code initiatorMaxRecvDataSegmentLength} is what
 * we declared (bounds the target's Data-In).
 */
public record NegotiatedParameters(
        boolean headerDigest,
        boolean dataDigest,
        int initiatorMaxRecvDataSegmentLength,
        int targetMaxRecvDataSegmentLength,
        int maxBurstLength,
        int firstBurstLength,
        boolean initialR2T,
        boolean immediateData,
        int maxOutstandingR2T,
        int maxConnections,
        int errorRecoveryLevel,
        boolean dataPduInOrder,
        boolean dataSequenceInOrder,
        int defaultTime2Wait,
        int defaultTime2Retain,
        Map<String, String> targetKeys) {

    public NegotiatedParameters {
        targetKeys = Map.copyOf(targetKeys);
    }
}
