package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReadDefectDataTest {

    private ScsiTarget target;
    private Initiator a;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:defects", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 64), false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    @Test
    void tenByteFormReportsBothListsValidAndEmptyInTheRequestedFormat() {
        Initiator.Result r = a.send(0, Cdb.of(0x37, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 32, 0));
        assertThat(r.good()).isTrue();
        assertThat(r.data()).containsExactly(0, 0x18 | 0x05, 0, 0);
        assertThat(a.send(0, Cdb.of(0x37, 0, 0, 0, 0, 0, 0, 0, 2, 0)).dataLength()).as("allocation length").isEqualTo(2);
    }

    @Test
    void twelveByteFormHasAnEightByteHeader() {
        Initiator.Result r = a.send(0, Cdb.of(0xB7, 0x08 | 0x03, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0));
        assertThat(r.good()).isTrue();
        assertThat(r.data()).containsExactly(0, 0x08 | 0x03, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void reservedFormatIsRefused() {
        assertThat(a.send(0, Cdb.of(0x37, 0, 0x07, 0, 0, 0, 0, 0, 32, 0)).senseCode()).isEqualTo(0x052400);
    }
}
