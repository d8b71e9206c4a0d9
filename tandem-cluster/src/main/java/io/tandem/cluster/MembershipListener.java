package io.tandem.cluster;

import java.util.List;

/**
 * Told when the set of live members, or what one of them publishes, changed. Called on the
 * coordinator's event thread, one call at a time, in the order the coordinator saw the changes;
 * it must not block (hand slow work to another thread).
 */
@FunctionalInterface
public interface MembershipListener {

    /** @param members every live member now, ordered by node id, this node included once it is a member */
    void membersChanged(List<Member> members);
}
