package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.storage.MemoryBlockDevice;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The precheck's CDB validation, driven by every row of the opcode table. */
class CdbValidationTest {

    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:cdb", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 1024), false)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
        assertThat(initiator.port.duplicateEndings()).isZero();
    }

    static Stream<CommandDescriptor> commands() {
        return CommandTable.TABLE.all().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void everyReservedBitIsRefusedWithAFieldPointer(CommandDescriptor d) {
        byte[] usage = d.usage();
        for (int i = 1; i < usage.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                if ((usage[i] & (1 << bit)) != 0) {
                    continue;
                }
                byte[] cdb = new byte[usage.length];
                cdb[0] = (byte) d.opcode();
                if (d.hasServiceAction()) {
                    cdb[1] = (byte) d.serviceAction();
                }
                cdb[i] |= (byte) (1 << bit);
                Initiator.Result r = initiator.send(0, cdb);
                assertThat(r.senseCode()).as("%s byte %d bit %d", d, i, bit).isEqualTo(0x052400);
                byte[] s = r.sense();
                assertThat(s[15] & 0xFF).as("SKSV, C/D, BPV, bit pointer").isEqualTo(0xC8 | bit);
                assertThat(((s[16] & 0xFF) << 8) | (s[17] & 0xFF)).as("field pointer").isEqualTo(i);
            }
        }
    }

    @Test
    void unknownOpcodeIsInvalidCommandOperationCode() {
        Initiator.Result r = initiator.send(0, Cdb.of(0xC0, 0, 0, 0, 0, 0));
        assertThat(r.status()).isEqualTo(ScsiResponse.CHECK_CONDITION);
        assertThat(r.senseCode()).isEqualTo(0x052000);
    }

    @Test
    void unknownServiceActionPointsAtTheServiceActionField() {
        byte[] cdb = Cdb.readCapacity16(32);
        cdb[1] = 0x11; // GET LBA STATUS is not implemented (yet)
        Initiator.Result r = initiator.send(0, cdb);
        assertThat(r.senseCode()).isEqualTo(0x052400);
        assertThat(r.sense()[15] & 0xFF).isEqualTo(0xC8 | 4);
        assertThat(r.sense()[17]).isEqualTo((byte) 1);
    }

    @Test
    void nacaInTheControlByteIsRefused() {
        byte[] cdb = Cdb.testUnitReady();
        cdb[5] = 0x04;
        assertThat(initiator.send(0, cdb).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void bytesBeyondTheCdbLengthAreIgnored() {
        byte[] cdb = new byte[16];
        cdb[10] = (byte) 0xFF; // padding of the iSCSI CDB field after a 6-byte TEST UNIT READY
        assertThat(initiator.send(0, cdb).good()).isTrue();
    }

    @Test
    void missingLunRefusesEverythingButInquiryReportLunsAndRequestSense() {
        assertThat(initiator.send(7, Cdb.testUnitReady()).senseCode()).isEqualTo(0x052500);
        assertThat(initiator.send(7, Cdb.read10(0, 1)).senseCode()).isEqualTo(0x052500);
        // an unknown opcode on a missing LUN: the LUN is judged first
        assertThat(initiator.send(7, Cdb.of(0xC0, 0, 0, 0, 0, 0)).senseCode()).isEqualTo(0x052500);

        Initiator.Result inquiry = initiator.send(7, Cdb.inquiry(false, 0, 96));
        assertThat(inquiry.good()).isTrue();
        assertThat(inquiry.data()[0]).isEqualTo((byte) 0x7F);

        Initiator.Result luns = initiator.send(7, Cdb.reportLuns(0, 64));
        assertThat(luns.good()).isTrue();
        assertThat(luns.data()[3]).isEqualTo((byte) 8);

        Initiator.Result sense = initiator.send(7, Cdb.requestSense(18));
        assertThat(sense.good()).isTrue();
        assertThat(sense.data()[2] & 0x0F).isEqualTo(0x05);
        assertThat(sense.data()[12]).isEqualTo((byte) 0x25);
    }

    @Test
    void flatAndPeripheralAddressingReachTheSameLun() {
        ScsiTask flat = initiator.task(0, Cdb.testUnitReady(), 0, null, TaskAttribute.SIMPLE);
        ScsiTask viaFlat = new ScsiTask(flat.nexus(), 0x4000L << 48, flat.cdb(), TaskAttribute.SIMPLE, 999, 0,
                false, false, initiator.port);
        target.submit(viaFlat);
        assertThat(initiator.result(viaFlat).good()).isTrue();
        // a second-level LUN is not addressable here
        ScsiTask twoLevel = new ScsiTask(flat.nexus(), 0x0000_0001_0000_0000L, flat.cdb(), TaskAttribute.SIMPLE,
                1000, 0, false, false, initiator.port);
        target.submit(twoLevel);
        assertThat(initiator.result(twoLevel).senseCode()).isEqualTo(0x052500);
    }
}
