package io.tandem.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The LU's medium as every node must see it: whether a removable medium is ejected, which I_T
 * nexuses prevent its removal (PREVENT ALLOW MEDIUM REMOVAL, each hold belongs to the nexus that set
 * it), and the sanitize life cycle. A fixed LU only ever uses {@link #sanitize()}.
 *
 * @param ejected     a removable medium was ejected (START STOP UNIT with LOEJ) and not loaded since
 * @param preventions the nexuses holding the medium in, in the order they asked; removal (and loading)
 *                    is refused while any does
 * @param sanitize    the sanitize life cycle
 */
public record MediumState(boolean ejected, List<NexusId> preventions, SanitizeStatus sanitize) {

    /** A loaded medium nobody holds, no sanitize: an LU at power on. */
    public static final MediumState INITIAL = new MediumState(false, List.of(), SanitizeStatus.IDLE);

    public MediumState {
        preventions = List.copyOf(preventions);
        Objects.requireNonNull(sanitize, "sanitize");
    }

    public boolean removalPrevented() {
        return !preventions.isEmpty();
    }

    public MediumState withEjected(boolean e) {
        return new MediumState(e, preventions, sanitize);
    }

    /** Adds ({@code prevent}) or withdraws that nexus' hold; the others' holds stay. */
    public MediumState withPrevention(NexusId nexus, boolean prevent) {
        if (preventions.contains(nexus) == prevent) {
            return this;
        }
        List<NexusId> list = new ArrayList<>(preventions);
        if (prevent) {
            list.add(nexus);
        } else {
            list.remove(nexus);
        }
        return new MediumState(ejected, list, sanitize);
    }

    /** Every hold ends (a reset). */
    public MediumState withoutPreventions() {
        return new MediumState(ejected, List.of(), sanitize);
    }

    public MediumState withSanitize(SanitizeStatus s) {
        return new MediumState(ejected, preventions, s);
    }
}
