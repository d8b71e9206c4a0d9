package io.tandem.scsi;

import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * LUN masking: which initiators see one logical unit. An initiator outside the list finds no
 * logical unit at that LUN (REPORT LUNS omits it, INQUIRY answers peripheral qualifier 011b, every
 * other command gets LOGICAL UNIT NOT SUPPORTED). The decision is per initiator name, so every I_T
 * nexus of one initiator (all its sessions, on every node) sees the same inventory.
 *
 * @param initiators lower-cased iSCSI names (iSCSI names compare case-insensitively); empty means
 *     every initiator
 */
public record LunAcl(Set<String> initiators) {

    /** No masking: every initiator sees the LU. */
    public static final LunAcl EVERYONE = new LunAcl(Set.of());

    public LunAcl {
        initiators = initiators.stream().map(LunAcl::normalize).collect(Collectors.toUnmodifiableSet());
    }

    /** Only these initiators see the LU; an empty collection means everyone. */
    public static LunAcl only(Collection<String> initiatorNames) {
        return initiatorNames.isEmpty() ? EVERYONE : new LunAcl(Set.copyOf(initiatorNames));
    }

    public boolean isEveryone() {
        return initiators.isEmpty();
    }

    public boolean admits(String initiatorName) {
        return initiators.isEmpty() || initiators.contains(normalize(initiatorName));
    }

    private static String normalize(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return isEveryone() ? "everyone" : initiators.stream().sorted().collect(Collectors.joining(", "));
    }
}
