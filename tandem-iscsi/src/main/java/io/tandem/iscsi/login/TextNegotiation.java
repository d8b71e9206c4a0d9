package io.tandem.iscsi.login;

import java.util.Objects;

/**
 * Text Requests in full-feature phase (RFC 7143 sections 6 and 11.10), one instance per
 * connection. SendTargets is reported to the caller, who knows the targets and portals;
 * MaxRecvDataSegmentLength and InitiatorAlias may be declared again; every key restricted to
 * login is answered with Reject and every unknown key with NotUnderstood.
 */
public final class TextNegotiation {
    private final TextAccumulator accumulator = new TextAccumulator();
    private NegotiatedParameters parameters;

    public TextNegotiation(NegotiatedParameters parameters) {
        this.parameters = Objects.requireNonNull(parameters, "parameters");
    }

    public NegotiatedParameters parameters() {
        return parameters;
    }

    /**
     * Processes one Text Request's data segment.
     *
     * @param cont the request's C bit
     * @param dataSegment the data segment without padding
     */
    public TextStep onTextRequest(boolean cont, byte[] dataSegment) {
        TextParameters request;
        try {
            byte[] text = accumulator.append(dataSegment == null ? new byte[0] : dataSegment, cont);
            if (text == null) {
                return new TextStep(true, new byte[0], null, parameters, null);
            }
            request = TextParameters.decode(text);
        } catch (TextFormatException e) {
            return new TextStep(false, new byte[0], null, parameters, e.getMessage());
        }

        TextParameters.Builder reply = TextParameters.builder();
        SendTargetsRequest sendTargets = null;
        for (TextParameters.KeyValue kv : request.entries()) {
            String key = kv.key();
            String value = kv.value();
            KeyDefinition def = LoginKeys.lookup(key);
            if (def == null) {
                reply.add(key, TextValues.NOT_UNDERSTOOD);
            } else if (key.equals(LoginKeys.SEND_TARGETS)) {
                sendTargets = sendTargets(value);
                if (sendTargets == null) {
                    reply.add(key, TextValues.REJECT);
                }
            } else if (key.equals(LoginKeys.MAX_RECV_DATA_SEGMENT_LENGTH)) {
                long n = def.parseInRange(value);
                if (n < 0) {
                    reply.add(key, TextValues.REJECT);
                } else {
                    parameters = parameters.withInitiatorMaxRecvDataSegmentLength((int) n);
                }
            } else if (key.equals(LoginKeys.INITIATOR_ALIAS)) {
                parameters = parameters.withInitiatorAlias(value);
            } else {
                // Login-only keys, target-only keys and security keys cannot change now.
                reply.add(key, TextValues.REJECT);
            }
        }
        return new TextStep(false, reply.build().encode(), sendTargets, parameters, null);
    }

    private SendTargetsRequest sendTargets(String value) {
        boolean discovery = parameters.sessionType() == SessionType.DISCOVERY;
        if (value.equals("All")) {
            return discovery ? new SendTargetsRequest(SendTargetsRequest.Scope.ALL, null) : null;
        }
        if (value.isEmpty()) {
            return discovery ? null : new SendTargetsRequest(SendTargetsRequest.Scope.SESSION_TARGET, null);
        }
        return new SendTargetsRequest(SendTargetsRequest.Scope.NAMED, value);
    }
}
