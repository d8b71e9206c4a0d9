package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.StorageException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Backend failures reach the initiator as the sense the one translation table gives them. */
class BackendFailureTest {

    private Initiator initiatorOn(FailingBlockDevice device) {
        ScsiTarget target = new ScsiTarget("iqn.2025-01.io.tandem:fail", List.of(new LunSpec(0, "f", device, false)));
        return new Initiator(target, "iqn.2025-01.test:init", 1).login(0);
    }

    @Test
    void mediumErrors() {
        Initiator i = initiatorOn(new FailingBlockDevice(StorageException.Kind.READ_ERROR, StorageException.Kind.WRITE_ERROR));
        assertThat(i.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(0x031100);
        assertThat(i.sendOut(0, Cdb.write10(0, 1), new byte[512]).senseCode()).isEqualTo(0x030C00);
        assertThat(i.send(0, Cdb.rw10(0x35, 0, 0, 0)).senseCode()).isEqualTo(0x030C00);
        assertThat(i.send(0, Cdb.rw10(0x2F, 0, 1, 0)).senseCode()).as("VERIFY reads the medium").isEqualTo(0x031100);
        i.target.close();
    }

    @Test
    void thinProvisioningExhaustionAndBackendWriteProtection() {
        Initiator i = initiatorOn(new FailingBlockDevice(StorageException.Kind.CLOSED, StorageException.Kind.SPACE_EXHAUSTED));
        assertThat(i.sendOut(0, Cdb.write10(0, 1), new byte[512]).senseCode()).isEqualTo(0x072707);
        assertThat(i.send(0, Cdb.read10(0, 1)).senseCode()).isEqualTo(0x020400);
        Initiator j = initiatorOn(new FailingBlockDevice(StorageException.Kind.READ_ERROR, StorageException.Kind.WRITE_PROTECTED));
        assertThat(j.sendOut(0, Cdb.write16(0, 1), new byte[512]).senseCode()).isEqualTo(0x072700);
        i.target.close();
        j.target.close();
    }
}
