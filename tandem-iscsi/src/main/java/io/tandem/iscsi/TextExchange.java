package io.tandem.iscsi;

import io.tandem.iscsi.login.NegotiatedParameters;
import io.tandem.iscsi.login.SendTargets;
import io.tandem.iscsi.login.SendTargetsEntry;
import io.tandem.iscsi.login.SendTargetsRequest;
import io.tandem.iscsi.login.TextNegotiation;
import io.tandem.iscsi.login.TextStep;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Text requests in the full feature phase (RFC 7143 §11.10): key negotiation through
 * {@link TextNegotiation}, SendTargets answered from the portals the server advertises (in a cluster,
 * every live node's), and the continuation of
 * a reply too long for one PDU (the initiator fetches the rest with empty requests carrying our
 * Target Transfer Tag).
 */
final class TextExchange {

    static final int CONTINUATION_TAG = 0x7e000001;

    /** What to send for one request: a piece of the reply, and whether more follows. */
    record Reply(byte[] data, int offset, int length, boolean more, String error) {
    }

    private final TextNegotiation negotiation;
    private byte[] pending;
    private int sentOffset;

    TextExchange(NegotiatedParameters parameters) {
        this.negotiation = new TextNegotiation(parameters);
    }

    NegotiatedParameters parameters() {
        return negotiation.parameters();
    }

    synchronized Reply onRequest(byte[] request, boolean continued, int ttt, int maxSegment,
                                 String sessionTarget, String targetName, boolean initiatorAdmitted, int portalGroupTag,
                                 List<AdvertisedPortal> portals, InetSocketAddress local) {
        if (pending == null || ttt != CONTINUATION_TAG) {
            TextStep step = negotiation.onTextRequest(continued, request);
            if (step.error() != null) {
                pending = null;
                return new Reply(null, 0, 0, false, step.error());
            }
            if (step.incomplete()) {
                return new Reply(new byte[0], 0, 0, false, null);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(step.responseData());
            // A target the initiator may not log in to is not advertised to it either.
            if (step.sendTargets() != null && initiatorAdmitted && visible(step.sendTargets(), sessionTarget, targetName)) {
                List<String> addresses = new ArrayList<>();
                for (AdvertisedPortal portal : portals) {
                    if (!portal.wildcard()) {
                        addresses.add(SendTargets.address(portal.host(), portal.port(), portal.portalGroupTag()));
                    } else if (portal.portalGroupTag() == portalGroupTag) {
                        // Our own wildcard listener: the address this connection reached is one that works.
                        addresses.add(SendTargets.address(local.getAddress().getHostAddress(), portal.port(),
                                portal.portalGroupTag()));
                    } // another node's wildcard says nothing an initiator could use
                }
                out.writeBytes(SendTargets.encode(List.of(new SendTargetsEntry(targetName, addresses))));
            }
            pending = out.toByteArray();
            sentOffset = 0;
        }
        int length = Math.min(maxSegment, pending.length - sentOffset);
        boolean more = sentOffset + length < pending.length;
        Reply reply = new Reply(pending, sentOffset, length, more, null);
        sentOffset += length;
        if (!more) {
            pending = null;
        }
        return reply;
    }

    private static boolean visible(SendTargetsRequest request, String sessionTarget, String targetName) {
        return switch (request.scope()) {
            case ALL -> true;
            case SESSION_TARGET -> targetName.equals(sessionTarget);
            case NAMED -> targetName.equals(request.targetName());
        };
    }
}
