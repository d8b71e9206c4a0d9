package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.scsi.core.AluaState;
import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.DataDirection;
import io.tandem.storage.MemoryBlockDevice;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ALUA through {@link ScsiTarget}: REPORT TARGET PORT GROUPS in both formats, SET TARGET PORT
 * GROUPS and its unit attentions, implicit transitions, and per-state command filtering that
 * follows the opcode table's flags. The target sees a two-node cluster: group 1 is port 1 (this
 * node), group 2 is port 2; Alice logs in through port 1, Bob through port 2.
 */
@Timeout(30)
class AluaTest {

    private static final int STATE_CHANGED = 0x062A06;
    private static final int STANDBY = 0x02040B;
    private static final int UNAVAILABLE = 0x02040C;
    private static final int TRANSITIONING = 0x02040A;
    private static final int OFFLINE = 0x020412;

    private ScsiTarget target;
    private Initiator alice;
    private Initiator bob;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:alua", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 64), false),
                new LunSpec(1, "lun1", new MemoryBlockDevice(512, 64), false)));
        target.targetPortGroups(List.of(new TargetPortGroup(2, List.of(2)), new TargetPortGroup(1, List.of(1))));
        alice = new Initiator(target, "iqn.2025-01.test:alice", 1).login(0, 1);
        bob = new Initiator(target, "iqn.2025-01.test:bob", 2).login(0, 1);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    // ------------------------------------------------------------------ CDBs and parsing

    static byte[] rtpg(int format, long allocation) {
        byte[] c = new byte[12];
        c[0] = (byte) 0xA3;
        c[1] = (byte) ((format << 5) | 0x0A);
        Cdb.put32(c, 6, allocation);
        return c;
    }

    static byte[] stpg(long length) {
        byte[] c = new byte[12];
        c[0] = (byte) 0xA4;
        c[1] = 0x0A;
        Cdb.put32(c, 6, length);
        return c;
    }

    /** A SET TARGET PORT GROUPS parameter list: {state, group} pairs after the 4-byte header. */
    static byte[] stpgList(int... stateGroupPairs) {
        byte[] p = new byte[4 + 2 * stateGroupPairs.length];
        for (int i = 0; i < stateGroupPairs.length; i += 2) {
            int at = 4 + 2 * i;
            p[at] = (byte) stateGroupPairs[i];
            Cdb.put16(p, at + 2, stateGroupPairs[i + 1]);
        }
        return p;
    }

    private static Initiator.Result setGroups(Initiator i, int lun, int... stateGroupPairs) {
        byte[] list = stpgList(stateGroupPairs);
        return i.sendOut(lun, stpg(list.length), list);
    }

    record Group(int pref, int state, int supported, int id, int status, List<Integer> ports) {
    }

    record Report(long returnLength, int header, int formatByte, int transitionTime, List<Group> groups) {
    }

    static Report parse(byte[] d, int format) {
        long length = ((d[0] & 0xFFL) << 24) | ((d[1] & 0xFF) << 16) | ((d[2] & 0xFF) << 8) | (d[3] & 0xFF);
        int at = format == 1 ? 8 : 4;
        List<Group> groups = new ArrayList<>();
        while (at < d.length) {
            int count = d[at + 7] & 0xFF;
            List<Integer> ports = new ArrayList<>();
            for (int p = 0; p < count; p++) {
                int pd = at + 8 + 4 * p;
                ports.add(((d[pd + 2] & 0xFF) << 8) | (d[pd + 3] & 0xFF));
            }
            groups.add(new Group((d[at] >> 7) & 1, d[at] & 0x0F, d[at + 1] & 0xFF,
                    ((d[at + 2] & 0xFF) << 8) | (d[at + 3] & 0xFF), d[at + 5] & 0xFF, ports));
            at += 8 + 4 * count;
        }
        return new Report(length, format == 1 ? 8 : 4, format == 1 ? d[4] & 0xFF : -1,
                format == 1 ? d[5] & 0xFF : -1, groups);
    }

    private Report report(Initiator i, int lun, int format) {
        Initiator.Result r = i.send(lun, rtpg(format, 1024));
        assertThat(r.good()).as("RTPG %s", r).isTrue();
        Report report = parse(r.data(), format);
        assertThat(report.returnLength()).as("RETURN DATA LENGTH counts every byte after itself")
                .isEqualTo(r.data().length - 4);
        return report;
    }

    private Map<Integer, Integer> states(Initiator i, int lun) {
        Map<Integer, Integer> m = new TreeMap<>();
        report(i, lun, 0).groups().forEach(g -> m.put(g.id(), g.state()));
        return m;
    }

    // ------------------------------------------------------------------ REPORT TARGET PORT GROUPS

    @Test
    void lengthOnlyFormatListsEveryGroupWithItsPorts() {
        Report r = report(alice, 0, 0);
        assertThat(r.groups()).containsExactly(
                new Group(0, 0x0, 0xCF, 1, 0, List.of(1)),
                new Group(0, 0x0, 0xCF, 2, 0, List.of(2)));
        assertThat(report(bob, 1, 0)).as("the same answer on every path").isEqualTo(r);
    }

    @Test
    void extendedFormatCarriesTheImplicitTransitionTime() {
        Report r = report(alice, 0, 1);
        assertThat(r.formatByte()).as("FORMAT TYPE 001b").isEqualTo(0x10);
        assertThat(r.transitionTime()).isEqualTo(ScsiTarget.DEFAULT_IMPLICIT_TRANSITION_SECONDS);
        assertThat(r.groups()).extracting(Group::id).containsExactly(1, 2);
        target.implicitTransitionSeconds(42);
        assertThat(report(alice, 0, 1).transitionTime()).isEqualTo(42);
    }

    @Test
    void allocationLengthTruncatesButReturnLengthStaysWhole() {
        byte[] whole = alice.send(0, rtpg(0, 1024)).data();
        assertThat(whole).hasSize(4 + 2 * (8 + 4));
        Initiator.Result four = alice.send(0, rtpg(0, 4));
        assertThat(four.data()).containsExactly(0, 0, 0, whole.length - 4);
        Initiator.Result half = alice.send(0, rtpg(0, 8));
        assertThat(half.data()).isEqualTo(java.util.Arrays.copyOf(whole, 8));
        assertThat(alice.send(0, rtpg(0, 0)).dataLength()).isZero();
    }

    @Test
    void unknownParameterDataFormatIsRefused() {
        Initiator.Result r = alice.send(0, rtpg(2, 1024));
        assertThat(r.senseCode()).isEqualTo(0x052400);
        assertThat(r.sense()[15] & 0xFF).as("SKSV, C/D, BPV, bit 7").isEqualTo(0xCF);
        assertThat(r.sense()[17]).as("byte 1").isEqualTo((byte) 1);
    }

    @Test
    void deviceIdentificationNamesTheGroupAndPortRtpgReports() {
        for (Initiator i : List.of(alice, bob)) {
            byte[] vpd = i.send(0, Cdb.inquiry(true, 0x83, 1024)).data();
            Integer group = null;
            Integer port = null;
            for (int at = 4; at < vpd.length; at += 4 + (vpd[at + 3] & 0xFF)) {
                int type = vpd[at + 1] & 0x0F;
                int value = ((vpd[at + 6] & 0xFF) << 8) | (vpd[at + 7] & 0xFF);
                if (type == 0x5) {
                    group = value;
                } else if (type == 0x4) {
                    port = value;
                }
            }
            assertThat(group).isEqualTo(i.nexus.targetPort().targetPortGroup());
            Group reported = report(i, 0, 0).groups().stream().filter(g -> g.id() == i.nexus.targetPort().targetPortGroup())
                    .findFirst().orElseThrow();
            assertThat(reported.ports()).containsExactly(port);
        }
    }

    // ------------------------------------------------------------------ SET TARGET PORT GROUPS

    @Test
    void setTargetPortGroupsChangesTheStateForEveryPathAndTellsTheOthers() {
        assertThat(setGroups(alice, 0, 0x2, 2).good()).isTrue();

        assertThat(alice.send(0, Cdb.testUnitReady()).good()).as("the issuer hears nothing").isTrue();
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
        assertThat(bob.send(0, Cdb.read10(0, 1)).senseCode()).as("Bob's group is now Standby").isEqualTo(STANDBY);
        assertThat(alice.send(0, Cdb.read10(0, 1)).good()).isTrue();

        Report seenByAlice = report(alice, 0, 0);
        assertThat(seenByAlice.groups()).containsExactly(
                new Group(0, 0x0, 0xCF, 1, 0, List.of(1)),
                new Group(0, 0x2, 0xCF, 2, 0x01, List.of(2)));
        assertThat(report(bob, 0, 0)).isEqualTo(seenByAlice);

        assertThat(states(alice, 1)).as("access states are per LU").containsEntry(2, 0x0);
        assertThat(bob.send(1, Cdb.testUnitReady()).good()).as("LU 1 did not change").isTrue();
    }

    @Test
    void aStandbyPathCanBringItselfBack() {
        assertThat(setGroups(bob, 0, 0x3, 2).good()).isTrue();
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(UNAVAILABLE);
        assertThat(setGroups(bob, 0, 0x1, 2).good()).as("STPG runs while Unavailable").isTrue();
        assertThat(bob.send(0, Cdb.read10(0, 1)).good()).as("Active/Non-optimized serves I/O").isTrue();
        assertThat(states(bob, 0)).containsEntry(2, 0x1);
        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
        assertThat(alice.send(0, Cdb.testUnitReady()).good()).as("one condition for both changes").isTrue();
    }

    @Test
    void severalDescriptorsChangeTogether() {
        assertThat(setGroups(alice, 0, 0x1, 1, 0x2, 2).good()).isTrue();
        assertThat(states(alice, 0)).containsExactly(Map.entry(1, 0x1), Map.entry(2, 0x2));
    }

    @Test
    void aBadDescriptorChangesNothing() {
        assertInvalidParameter(setGroups(alice, 0, 0x2, 2, 0xE, 1), 8, 3);   // Offline: the target's to set
        assertInvalidParameter(setGroups(alice, 0, 0x2, 2, 0xF, 1), 8, 3);   // Transitioning
        assertInvalidParameter(setGroups(alice, 0, 0x2, 2, 0x4, 1), 8, 3);   // LBA dependent: unsupported
        assertInvalidParameter(setGroups(alice, 0, 0x2, 2, 0x2, 9), 10, 7);  // no group 9
        assertInvalidParameter(setGroups(alice, 0, 0x2, 2, 0x1, 2), 10, 7);  // group 2 named twice
        assertThat(states(alice, 0)).containsExactly(Map.entry(1, 0x0), Map.entry(2, 0x0));
        assertThat(bob.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    private static void assertInvalidParameter(Initiator.Result r, int fieldByte, int bit) {
        assertThat(r.senseCode()).isEqualTo(0x052600);
        assertThat(r.sense()[15] & 0xFF).as("SKSV, C/D=0, BPV").isEqualTo(0x88 | bit);
        assertThat(((r.sense()[16] & 0xFF) << 8) | (r.sense()[17] & 0xFF)).isEqualTo(fieldByte);
    }

    @Test
    void parameterListLengthMustBeHeaderPlusWholeDescriptors() {
        byte[] list = stpgList(0x2, 2);
        assertThat(alice.sendOut(0, stpg(6), list, 6).senseCode()).isEqualTo(0x051A00);
        assertThat(alice.sendOut(0, stpg(2), list, 2).senseCode()).isEqualTo(0x051A00);
        assertThat(alice.send(0, stpg(0)).good()).as("zero length: nothing to do").isTrue();
        assertThat(states(alice, 0)).containsExactly(Map.entry(1, 0x0), Map.entry(2, 0x0));
    }

    @Test
    void settingTheCurrentStateIsNoChange() {
        assertThat(setGroups(alice, 0, 0x0, 1, 0x0, 2).good()).isTrue();
        assertThat(bob.send(0, Cdb.testUnitReady()).good()).as("no unit attention for no change").isTrue();
        assertThat(report(alice, 0, 0).groups()).extracting(Group::status).containsOnly(0);
    }

    // ------------------------------------------------------------------ implicit transitions

    @Test
    void anImplicitTransitionTellsEveryNexusOnEveryLu() {
        target.changeAccessState(1, AluaState.UNAVAILABLE).join();
        for (Initiator i : List.of(alice, bob)) {
            for (int lun : new int[] {0, 1}) {
                assertThat(i.send(lun, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
            }
        }
        assertThat(alice.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(UNAVAILABLE);
        assertThat(report(bob, 0, 0).groups()).containsExactly(
                new Group(0, 0x3, 0xCF, 1, 0x02, List.of(1)),
                new Group(0, 0x0, 0xCF, 2, 0, List.of(2)));
        assertThat(bob.send(0, Cdb.read10(0, 1)).good()).as("group 2 is untouched").isTrue();
    }

    @Test
    void unitAttentionComesBeforeTheAccessStateRefusal() {
        target.changeAccessState(1, AluaState.STANDBY).join();
        assertThat(alice.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(STATE_CHANGED);
        assertThat(alice.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(STANDBY);
    }

    @Test
    void maskedNexusesHearNothingOfLusTheyCannotSee() {
        target.changeAcl(1, LunAcl.only(List.of("iqn.2025-01.test:alice")));
        alice.send(0, Cdb.requestSense(18)); // the ACL change's own news
        target.changeAccessState(2, AluaState.STANDBY).join();
        assertThat(target.logicalUnit(1).unitAttentions(bob.nexus).pending()).isEmpty();
        assertThat(bob.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(STATE_CHANGED);
    }

    // ------------------------------------------------------------------ filtering by the table's flags

    /** Every row, every restricted state: refused with exactly the state's sense unless the row's flag admits it. */
    @Test
    void everyCommandIsFilteredByItsTableFlag() {
        Map<AluaState, Integer> refusals = Map.of(AluaState.STANDBY, STANDBY, AluaState.UNAVAILABLE, UNAVAILABLE,
                AluaState.TRANSITIONING, TRANSITIONING, AluaState.OFFLINE, OFFLINE);
        Map<AluaState, CommandFlag> flags = Map.of(AluaState.STANDBY, CommandFlag.ALUA_STANDBY_OK,
                AluaState.UNAVAILABLE, CommandFlag.ALUA_UNAVAILABLE_OK, AluaState.TRANSITIONING,
                CommandFlag.ALUA_TRANSITIONING_OK, AluaState.OFFLINE, CommandFlag.ALUA_OFFLINE_OK);
        for (AluaState state : refusals.keySet()) {
            target.changeAccessState(1, state).join();
            alice.send(0, Cdb.requestSense(18));
            for (CommandDescriptor row : CommandTable.TABLE.all()) {
                byte[] cdb = new byte[row.cdbLength()];
                cdb[0] = (byte) row.opcode();
                if (row.hasServiceAction()) {
                    cdb[1] = (byte) row.serviceAction();
                }
                Initiator.Result r = row.direction() == DataDirection.OUT
                        ? alice.sendOut(0, cdb, new byte[0], 0) : alice.send(0, cdb, 0);
                boolean refused = r.sense() != null && r.senseCode() == refusals.get(state);
                assertThat(refused).as("%s in %s: %s", row.name(), state, r).isEqualTo(!row.has(flags.get(state)));
            }
        }
    }

    /** The flags themselves, against SPC-4's per-state lists (independent of the table). */
    @Test
    void theStatesServeWhatSpc4Lists() {
        assertServes(AluaState.STANDBY, true, Cdb.inquiry(false, 0, 96), Cdb.requestSense(18), Cdb.reportLuns(0, 64),
                Cdb.modeSense6(true, 0, 0x3F, 0, 255), Cdb.readCapacity10(), Cdb.readCapacity16(32), rtpg(0, 64),
                prIn(0));
        assertServes(AluaState.STANDBY, false, Cdb.testUnitReady(), Cdb.read10(0, 1), Cdb.read16(0, 1));
        assertServes(AluaState.UNAVAILABLE, true, Cdb.inquiry(false, 0, 96), Cdb.requestSense(18), Cdb.reportLuns(0, 64),
                rtpg(0, 64));
        assertServes(AluaState.UNAVAILABLE, false, Cdb.testUnitReady(), Cdb.modeSense6(true, 0, 0x3F, 0, 255),
                Cdb.readCapacity10(), prIn(0), Cdb.read10(0, 1));
        assertServes(AluaState.TRANSITIONING, true, Cdb.inquiry(false, 0, 96), Cdb.requestSense(18),
                Cdb.reportLuns(0, 64), rtpg(0, 64));
        assertServes(AluaState.TRANSITIONING, false, Cdb.testUnitReady(), stpg(0), Cdb.modeSense6(true, 0, 0x3F, 0, 255));
        assertServes(AluaState.OFFLINE, true, Cdb.inquiry(false, 0, 96), Cdb.requestSense(18), Cdb.reportLuns(0, 64));
        assertServes(AluaState.OFFLINE, false, Cdb.testUnitReady(), rtpg(0, 64), stpg(0), Cdb.read10(0, 1));
        assertServes(AluaState.ACTIVE_NON_OPTIMIZED, true, Cdb.testUnitReady(), Cdb.read10(0, 1), stpg(0));
        // STPG in Standby and Unavailable (the way back), with a no-change list so the state stays.
        for (AluaState state : List.of(AluaState.STANDBY, AluaState.UNAVAILABLE)) {
            target.changeAccessState(1, state).join();
            alice.send(0, Cdb.requestSense(18));
            assertThat(alice.send(0, stpg(0)).good()).as("STPG in %s", state).isTrue();
        }
    }

    private static byte[] prIn(int serviceAction) {
        byte[] c = new byte[10];
        c[0] = 0x5E;
        c[1] = (byte) serviceAction;
        c[8] = 64;
        return c;
    }

    private void assertServes(AluaState state, boolean served, byte[]... cdbs) {
        target.changeAccessState(1, state).join();
        alice.send(0, Cdb.requestSense(18));
        for (byte[] cdb : cdbs) {
            Initiator.Result r = alice.send(0, cdb);
            boolean refused = r.sense() != null && r.senseKey() == 0x2 && r.asc() == 0x04;
            assertThat(refused).as("opcode %02x in %s: %s", cdb[0], state, r).isEqualTo(!served);
        }
    }
}
