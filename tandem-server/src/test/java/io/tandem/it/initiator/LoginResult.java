package io.tandem.it.initiator;

/**
 * State handed from a successful login to the full-feature phase.
 *
 * @param nextCmdSn  CmdSN for the first non-immediate command (login requests do not advance it)
 * @param expStatSn  StatSN expected next from the target
 */
public record LoginResult(
        NegotiatedParameters negotiated,
        int tsih,
        int nextCmdSn,
        int expStatSn,
        int expCmdSn,
        int maxCmdSn,
        int targetPortalGroupTag) {
}
