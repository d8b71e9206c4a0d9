package io.tandem.iscsi.login;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One row of the key table ({@link LoginKeys}).
 *
 * @param name the key as written on the wire
 * @param type how its value is settled
 * @param sender who may send it
 * @param use where it may appear
 * @param irrelevantInDiscovery answered with Irrelevant in discovery sessions
 * @param min smallest numeric value (numeric keys only, else -1)
 * @param max largest numeric value (numeric keys only, else -1)
 * @param rfcDefault the value in force when nobody negotiates the key, or null
 * @param maxValueLength longest value accepted on the wire, in bytes
 * @param handledByLogin true for keys the login state machine treats itself (names, session
 *     type, security keys, SendTargets) rather than through {@link #type}
 * @param targetValue the target's value for these preferences (a comma list for LIST keys),
 *     or null for keys the target has no value for
 * @param offerWhenAbsent whether the target offers the key itself when the initiator did not
 */
public record KeyDefinition(String name, NegotiationType type, Sender sender, Use use,
                            boolean irrelevantInDiscovery, long min, long max, String rfcDefault,
                            int maxValueLength, boolean handledByLogin,
                            Function<TargetPreferences, String> targetValue,
                            Predicate<TargetPreferences> offerWhenAbsent) {
    /** Who may send a key. */
    public enum Sender {
        INITIATOR, TARGET, BOTH;

        boolean initiatorMay() {
            return this != TARGET;
        }
    }

    /** Where a key may appear. */
    public enum Use {
        /** Security negotiation stage of login only. */
        SECURITY,
        /** The first Login Request of a connection, in either stage (InitiatorName, TargetName, SessionType). */
        LOGIN_START,
        /** Operational negotiation stage of login only (RFC "IO" and "LO" keys). */
        OPERATIONAL,
        /** Login (any stage where declarations are allowed) and full-feature phase (RFC "ALL"). */
        ANY,
        /** Full-feature phase Text requests only (SendTargets). */
        FULL_FEATURE
    }

    public KeyDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(use, "use");
        Objects.requireNonNull(offerWhenAbsent, "offerWhenAbsent");
    }

    public boolean isNumeric() {
        return min >= 0;
    }

    /** The value as a number within [min, max], or -1 if it is no number or out of range. */
    long parseInRange(String value) {
        long n = TextValues.parseNumber(value);
        return n < min || n > max ? -1 : n;
    }

    /** The target's value for {@code preferences}, or null if it has none. */
    String targetValueFor(TargetPreferences preferences) {
        return targetValue == null ? null : targetValue.apply(preferences);
    }
}
