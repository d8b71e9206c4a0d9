package io.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.cluster.ConfigEntry;
import io.tandem.cluster.Member;
import io.tandem.iscsi.AdvertisedPortal;
import io.tandem.scsi.TargetPortGroup;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the cluster's members and node registry become target port groups and SendTargets portals. */
class ClusterNodesTest {

    private static Member member(int id, String host, int port) {
        return new Member(Integer.toString(id), List.of(new Member.Portal(host, port)), id, id, List.of(id));
    }

    @Test
    void aRegistryEntryRoundTripsAndGarbageIsIgnored() {
        TargetPortGroup g = new TargetPortGroup(7, List.of(7));
        assertThat(ClusterNodes.parse(ClusterNodes.render(g))).isEqualTo(g);
        assertThat(ClusterNodes.parse("not a node".getBytes(StandardCharsets.UTF_8))).isNull();
        assertThat(ClusterNodes.key(7)).isEqualTo("node.7");
    }

    @Test
    void knownGroupsAreTheRegistryAndTheLiveMembersAndADownNodeStaysKnown() {
        Map<String, ConfigEntry> config = Map.of(
                "node.1", new ConfigEntry("node.1", 1, ClusterNodes.render(new TargetPortGroup(1, List.of(1)))),
                "node.3", new ConfigEntry("node.3", 1, ClusterNodes.render(new TargetPortGroup(3, List.of(3)))),
                "cluster-config", new ConfigEntry("cluster-config", 4, "luns: []".getBytes(StandardCharsets.UTF_8)));
        List<Member> live = List.of(member(1, "10.0.0.1", 3260), member(2, "10.0.0.2", 3260));
        assertThat(ClusterNodes.knownGroups(config, live)).extracting(TargetPortGroup::id).containsExactly(1, 2, 3);
        assertThat(ClusterNodes.liveGroups(live)).containsExactly(1, 2);
    }

    @Test
    void aMemberThatHasNotAnnouncedYetIsLiveUnderItsNodeId() {
        assertThat(ClusterNodes.liveGroups(List.of(Member.bare("4"), member(1, "10.0.0.1", 3260)))).containsExactly(1, 4);
        assertThat(ClusterNodes.liveGroups(List.of(Member.bare("not-a-number")))).isEmpty();
    }

    @Test
    void sendTargetsListsOurOwnPortalsAsWeSeeThemAndEveryOtherLiveNodesByTag() {
        List<AdvertisedPortal> own = List.of(new AdvertisedPortal("0.0.0.0", 3262, 2));
        List<Member> live = List.of(member(3, "10.0.0.3", 3260), member(2, "10.0.0.99", 3999), member(1, "10.0.0.1", 3260));
        assertThat(ClusterNodes.portals(live, own, 2)).containsExactly(
                new AdvertisedPortal("10.0.0.1", 3260, 1),
                new AdvertisedPortal("0.0.0.0", 3262, 2),
                new AdvertisedPortal("10.0.0.3", 3260, 3));
    }
}
