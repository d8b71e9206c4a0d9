package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Unit attention life cycle through the command path. */
class UnitAttentionTest {

    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:ua", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 64), false)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1);
        target.nexusAdded(initiator.nexus);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    @Test
    void requestSenseReturnsAndClearsThePendingCondition() {
        assertThat(initiator.send(0, Cdb.reportLuns(0, 64)).good()).as("REPORT LUNS is exempt").isTrue();
        Initiator.Result sense = initiator.send(0, Cdb.requestSense(252));
        assertThat(sense.good()).isTrue();
        assertThat(sense.data()).hasSize(18);
        assertThat(sense.data()[2] & 0x0F).isEqualTo(0x06);
        assertThat(sense.data()[12]).isEqualTo((byte) 0x29);
        Initiator.Result none = initiator.send(0, Cdb.requestSense(252));
        assertThat(none.data()[2] & 0x0F).isZero();
        assertThat(none.data()[12]).isZero();
        assertThat(initiator.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void requestSenseHonoursDescAndAllocationLength() {
        Initiator.Result sense = initiator.send(0, Cdb.requestSenseDescriptor(252));
        assertThat(sense.data()).containsExactly(0x72, 0x06, 0x29, 0x00, 0, 0, 0, 0);
        assertThat(initiator.send(0, Cdb.requestSense(4)).dataLength()).isEqualTo(4);
    }

    @Test
    void commandRefusedForAUnitAttentionDoesNotRun() {
        Initiator.Result write = initiator.sendOut(0, Cdb.write10(0, 1), new byte[]{1, 2, 3, 4});
        assertThat(write.senseCode()).isEqualTo(0x062900);
        byte[] first = initiator.send(0, Cdb.read10(0, 1)).data();
        assertThat(first).containsOnly(0);
    }

    @Test
    void reloginEstablishesThePowerOnConditionAgain() {
        initiator.send(0, Cdb.testUnitReady());
        target.nexusRemoved(initiator.nexus);
        target.nexusAdded(initiator.nexus);
        assertThat(initiator.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062900);
    }
}
