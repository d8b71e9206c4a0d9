package io.tandem.iscsi.login;

/**
 * The outcome of one full-feature Text Request.
 *
 * @param incomplete true if the request had the C bit set: answer with an empty Text Response
 *     (C=0, F=0) and wait for the rest
 * @param responseData answers to the keys other than SendTargets (may be empty, never null)
 * @param sendTargets what the SendTargets key asks for, or null if the request had none (or had
 *     one that was rejected, in which case the rejection is in responseData). The connection
 *     appends {@link SendTargets#encode} of the matching targets to responseData.
 * @param parameters the session's parameters after this request (MaxRecvDataSegmentLength and
 *     InitiatorAlias may be declared again in full-feature phase)
 * @param error non-null if the request's text was malformed: answer with a Reject PDU
 */
public record TextStep(boolean incomplete, byte[] responseData, SendTargetsRequest sendTargets,
                       NegotiatedParameters parameters, String error) {
    public TextStep {
        responseData = responseData == null ? new byte[0] : responseData;
    }
}
