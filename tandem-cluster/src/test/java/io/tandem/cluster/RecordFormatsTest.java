package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The text forms the ZooKeeper coordinator stores: LU records and member records. */
class RecordFormatsTest {

    static final String LU = "600140500000000000000000000000aa";
    static final NexusId A = new NexusId("iqn.2026-01.test:a,i,0x000000000001", 1);
    static final NexusId B = new NexusId("iqn.2026-01.test:b b%", NexusId.ALL_TARGET_PORTS);

    @Test
    void aRecordWithEveryFieldSurvivesTheRoundTrip() {
        LuState full = LuState.initial(LU).withVersion(12).withPrGeneration(0xFFFF_FFFFL).withAptpl(true)
                .withRegistration(new Registration(A, 0x8000_0000_0000_0001L)).withRegistration(new Registration(B, 7))
                .withReservation(new PersistentReservation(B, ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS))
                .withSpc2Holder(A).withAluaOwnerGroup(3).withPortGroupState(2, AccessState.STANDBY)
                .withPortGroupState(3, AccessState.TRANSITIONING).withPortGroupStatus(java.util.Map.of(2, 1, 3, 2)).withResetEpoch(5).withCapacityBlocks(1L << 40)
                .withModeParameters(0xC5)
                .withMedium(new MediumState(true, List.of(B, A), new SanitizeStatus(SanitizeStatus.Phase.IN_PROGRESS, 2, 0xFFFF, true)))
                .withTransition(Transition.by(A, 0xFFFF_FFFFL, List.of(
                        Notice.of(Notice.Kind.ABORT_TASKS, List.of(B, A)),
                        Notice.of(Notice.Kind.CAPACITY_DATA_CHANGED, List.of()),
                        Notice.of(Notice.Kind.MODE_PARAMETERS_CHANGED, List.of()),
                        Notice.of(Notice.Kind.MEDIUM_LOADED, List.of()),
                        Notice.of(Notice.Kind.SANITIZE_DRAIN, List.of()))));
        LuRecordCodec.Stored back = LuRecordCodec.parse(LU, LuRecordCodec.render(full, "n1/42"));
        assertThat(back.state()).isEqualTo(full);
        assertThat(back.changeId()).isEqualTo("n1/42");
    }

    @Test
    void modeParametersAreStoredButNotDurable() {
        LuState changed = LuState.initial(LU).withVersion(3).withModeParameters(0x4);
        assertThat(new String(LuRecordCodec.render(changed, ""), StandardCharsets.UTF_8)).contains("\nmode-parameters 4\n");
        assertThat(changed.durable().modeParameters()).as("none are saveable: a power loss returns the defaults").isZero();
    }

    @Test
    void theMediumIsStoredInOptionalLinesButNotDurable() {
        LuState changed = LuState.initial(LU).withVersion(4).withMedium(MediumState.INITIAL.withEjected(true)
                .withPrevention(A, true).withSanitize(SanitizeStatus.running(3, false).failed()));
        assertThat(new String(LuRecordCodec.render(changed, ""), StandardCharsets.UTF_8)).endsWith("aptpl false\n"
                + "medium-ejected true\nremoval-prevented 1 iqn.2026-01.test%3Aa%2Ci%2C0x000000000001\nsanitize FAILED 0 0 false\n");
        assertThat(LuRecordCodec.parse(LU, LuRecordCodec.render(changed, "")).state()).isEqualTo(changed);
        assertThat(changed.durable().medium()).as("a power loss loads the medium and ends holds and the sanitize state")
                .isEqualTo(MediumState.INITIAL);
        assertThat(MediumState.INITIAL.withPrevention(A, true).withPrevention(B, true).withPrevention(A, true).preventions())
                .as("a repeated PREVENT keeps the hold where it was").containsExactly(A, B);
        assertThat(MediumState.INITIAL.withPrevention(A, true).withPrevention(B, true).withPrevention(A, false).preventions())
                .containsExactly(B);
    }

    @Test
    void theInitialRecordIsSmallAndRoundTrips() {
        byte[] bytes = LuRecordCodec.render(LuState.initial(LU), "");
        assertThat(new String(bytes, StandardCharsets.UTF_8))
                .isEqualTo("tandem-lu-record 1\nlu " + LU + "\nversion 0\ngeneration 0\naptpl false\n");
        assertThat(LuRecordCodec.parse(LU, bytes)).isEqualTo(new LuRecordCodec.Stored(LuState.initial(LU), ""));
        LuState administrative = LuState.initial(LU).withTransition(new Transition(null, 3, List.of()));
        assertThat(LuRecordCodec.parse(LU, LuRecordCodec.render(administrative, "x")).state()).isEqualTo(administrative);
    }

    @Test
    void anUnknownFormatFieldOrAnotherLusRecordIsRefused() {
        byte[] good = LuRecordCodec.render(LuState.initial(LU), "");
        assertThatThrownBy(() -> LuRecordCodec.parse("other", good)).isInstanceOf(CoordinatorException.class);
        assertThatThrownBy(() -> LuRecordCodec.parse(LU, "tandem-lu-record 2\n".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(CoordinatorException.class).hasMessageContaining("unknown record format");
        String withExtra = new String(good, StandardCharsets.UTF_8) + "colour blue\n";
        assertThatThrownBy(() -> LuRecordCodec.parse(LU, withExtra.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(CoordinatorException.class).hasMessageContaining("colour");
        String badNumber = new String(good, StandardCharsets.UTF_8).replace("version 0", "version x");
        assertThatThrownBy(() -> LuRecordCodec.parse(LU, badNumber.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(CoordinatorException.class);
    }

    @Test
    void aMemberRecordRoundTripsAndToleratesFieldsOfNewerWriters() {
        Member m = new Member("node-1.a_b", List.of(new Member.Portal("127.0.0.1", 3260), new Member.Portal("fe80::1", 3261)),
                7, 2, List.of(3, 4));
        assertThat(Member.parse(m.render())).isEqualTo(m);
        assertThat(Member.parse(m.render() + "future-field 1\n")).isEqualTo(m);
        Member fenced = m.withFenceTargets(List.of("rados 127.0.0.1:0/3141592", "rados 127.0.0.1:0/2718281"));
        assertThat(fenced.render()).contains("fence rados 127.0.0.1:0/3141592\n");
        assertThat(Member.parse(fenced.render())).isEqualTo(fenced);
        assertThatThrownBy(() -> m.withFenceTargets(List.of("no-address"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(Member.Portal.parse("[fe80::1]:3261")).isEqualTo(new Member.Portal("fe80::1", 3261));
        assertThat(new Member.Portal("fe80::1", 3261).toString()).isEqualTo("[fe80::1]:3261");
        assertThatThrownBy(() -> Member.Portal.parse("host")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Member.bare("a/b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Member("n", List.of(), 0, 0, List.of(0))).isInstanceOf(IllegalArgumentException.class);
    }
}
