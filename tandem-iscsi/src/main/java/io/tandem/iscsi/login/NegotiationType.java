package io.tandem.iscsi.login;

import java.util.Arrays;
import java.util.List;

/**
 * How a key's value is settled (RFC 7143 sections 6.2-6.5). Each constant carries the responder's
 * result function and the check a responder applies to an answer to its own offer.
 */
public enum NegotiationType {
    /** Both sides state a number; the result is the smaller. */
    NUMERIC_MIN {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            long n = key.parseInRange(offer);
            return n < 0 ? null : Long.toString(Math.min(n, TextValues.parseNumber(ours)));
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            long n = key.parseInRange(answer);
            return n >= 0 && n <= TextValues.parseNumber(offered);
        }
    },
    /** Both sides state a number; the result is the larger. */
    NUMERIC_MAX {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            long n = key.parseInRange(offer);
            return n < 0 ? null : Long.toString(Math.max(n, TextValues.parseNumber(ours)));
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            long n = key.parseInRange(answer);
            return n >= 0 && n >= TextValues.parseNumber(offered);
        }
    },
    /** Yes only if both sides say Yes. */
    BOOLEAN_AND {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            Boolean b = TextValues.parseBoolean(offer);
            return b == null ? null : TextValues.formatBoolean(b && TextValues.YES.equals(ours));
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            Boolean b = TextValues.parseBoolean(answer);
            return b != null && (!b || TextValues.YES.equals(offered));
        }
    },
    /** Yes if either side says Yes. */
    BOOLEAN_OR {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            Boolean b = TextValues.parseBoolean(offer);
            return b == null ? null : TextValues.formatBoolean(b || TextValues.YES.equals(ours));
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            Boolean b = TextValues.parseBoolean(answer);
            return b != null && (b || TextValues.NO.equals(offered));
        }
    },
    /**
     * The offer lists values in the offerer's order of preference; the responder answers with
     * the first one it supports, which honours the offerer's order.
     */
    LIST {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            List<String> supported = split(ours);
            for (String candidate : split(offer)) {
                if (supported.contains(candidate)) {
                    return candidate;
                }
            }
            return null;
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            return split(offered).contains(answer);
        }
    },
    /** Each side states its own value; nothing is answered. */
    DECLARATIVE {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            if (key.isNumeric()) {
                long n = key.parseInRange(offer);
                return n < 0 ? null : Long.toString(n);
            }
            return offer;
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            return false;
        }

        @Override
        boolean answered() {
            return false;
        }
    },
    /** Keys RFC 7143 section 13.26 retired whose offer must always be answered with Reject. */
    OBSOLETE {
        @Override
        String respond(KeyDefinition key, String offer, String ours) {
            return null;
        }

        @Override
        boolean acceptsAnswer(KeyDefinition key, String offered, String answer) {
            return false;
        }
    };

    /**
     * The result of negotiating {@code offer} from the other side against {@code ours}.
     *
     * @return the negotiated value (also the answer for answered types), or null if the offer
     *     is not acceptable, which is answered with Reject
     */
    abstract String respond(KeyDefinition key, String offer, String ours);

    /** Whether {@code answer} is a legal reply to our offer of {@code offered}. */
    abstract boolean acceptsAnswer(KeyDefinition key, String offered, String answer);

    /** Whether an offer of this type gets a reply (declarations do not). */
    boolean answered() {
        return true;
    }

    static List<String> split(String list) {
        return Arrays.stream(list.split(",", -1)).filter(s -> !s.isEmpty()).toList();
    }
}
