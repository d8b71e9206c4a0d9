package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BasicCommandsTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 2048;
    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:basic", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, BLOCKS), false),
                new LunSpec(3, "lun3", new MemoryBlockDevice(4096, 64), false)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1);
        target.nexusAdded(initiator.nexus);
    }

    @AfterEach
    void tearDown() {
        target.close();
        assertThat(initiator.port.duplicateEndings()).isZero();
    }

    @Test
    void firstCommandAfterLoginReportsPowerOnUnitAttentionOnce() {
        Initiator.Result first = initiator.send(0, Cdb.testUnitReady());
        assertThat(first.status()).isEqualTo(ScsiResponse.CHECK_CONDITION);
        assertThat(first.senseCode()).isEqualTo(0x062900);
        assertThat(initiator.send(0, Cdb.testUnitReady()).good()).isTrue();
        // LUN 3 has its own queue: still pending there.
        assertThat(initiator.send(3, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062900);
    }

    @Test
    void writtenDataReadsBack() {
        initiator.login(0);
        byte[] data = new byte[8 * BLOCK];
        new Random(1).nextBytes(data);
        assertThat(initiator.sendOut(0, Cdb.write10(100, 8), data).good()).isTrue();
        Initiator.Result read = initiator.send(0, Cdb.read10(100, 8));
        assertThat(read.good()).isTrue();
        assertThat(read.data()).isEqualTo(data);
    }

    @Test
    void readCapacityReportsGeometry() {
        initiator.login(0);
        Initiator.Result rc = initiator.send(0, Cdb.readCapacity10());
        assertThat(rc.data()).containsExactly(0, 0, 0x07, (byte) 0xFF, 0, 0, 0x02, 0);
    }
}
