package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.storage.MemoryBlockDevice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReportSupportedOperationCodesTest {

    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:rsoc", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 1024), false)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    private record Entry(int opcode, int serviceAction, boolean servactv, boolean ctdp, int cdbLength) {
    }

    private static List<Entry> parseAll(byte[] d) {
        int len = ((d[0] & 0xFF) << 24) | ((d[1] & 0xFF) << 16) | ((d[2] & 0xFF) << 8) | (d[3] & 0xFF);
        assertThat(len).isEqualTo(d.length - 4);
        List<Entry> out = new ArrayList<>();
        for (int p = 4; p < d.length; ) {
            boolean ctdp = (d[p + 5] & 0x02) != 0;
            out.add(new Entry(d[p] & 0xFF, ((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF), (d[p + 5] & 0x01) != 0,
                    ctdp, ((d[p + 6] & 0xFF) << 8) | (d[p + 7] & 0xFF)));
            p += 8;
            if (ctdp) {
                assertThat(((d[p] & 0xFF) << 8) | (d[p + 1] & 0xFF)).isEqualTo(0x0A);
                p += 12;
            }
        }
        return out;
    }

    @Test
    void allCommandsListsExactlyTheTable() {
        List<Entry> listed = parseAll(initiator.send(0, Cdb.reportSupportedOpcodes(false, 0, 0, 0, 65535)).data());
        List<CommandDescriptor> table = CommandTable.TABLE.all();
        assertThat(listed).hasSize(table.size());
        for (int i = 0; i < table.size(); i++) {
            CommandDescriptor d = table.get(i);
            Entry e = listed.get(i);
            assertThat(e.opcode()).isEqualTo(d.opcode());
            assertThat(e.servactv()).isEqualTo(d.hasServiceAction());
            assertThat(e.serviceAction()).isEqualTo(d.hasServiceAction() ? d.serviceAction() : 0);
            assertThat(e.cdbLength()).isEqualTo(d.cdbLength());
            assertThat(e.ctdp()).isFalse();
        }
        assertThat(listed).extracting(Entry::opcode).contains(0x28, 0x2A, 0x12, 0xA0, 0x03, 0x00, 0x9E);
    }

    @Test
    void timeoutDescriptorsOnlyWithRctd() {
        List<Entry> listed = parseAll(initiator.send(0, Cdb.reportSupportedOpcodes(true, 0, 0, 0, 65535)).data());
        assertThat(listed).isNotEmpty().allMatch(Entry::ctdp);
    }

    @Test
    void oneCommandReportsTheUsageMaskTheTableEnforces() {
        for (CommandDescriptor d : CommandTable.TABLE.all()) {
            int options = d.hasServiceAction() ? 2 : 1;
            Initiator.Result r = initiator.send(0, Cdb.reportSupportedOpcodes(false, options, d.opcode(),
                    Math.max(0, d.serviceAction()), 65535));
            assertThat(r.good()).as(d.name()).isTrue();
            byte[] data = r.data();
            assertThat(data[1] & 0x07).isEqualTo(0b011);
            assertThat(((data[2] & 0xFF) << 8) | (data[3] & 0xFF)).isEqualTo(d.cdbLength());
            byte[] usage = Arrays.copyOfRange(data, 4, 4 + d.cdbLength());
            assertThat(usage[0] & 0xFF).isEqualTo(d.opcode());
            if (d.hasServiceAction()) {
                assertThat(usage[1] & 0x1F).isEqualTo(d.serviceAction());
            }
            // Option 011b works for both kinds; the wrong single-form option is refused.
            assertThat(initiator.send(0, Cdb.reportSupportedOpcodes(false, 3, d.opcode(),
                    Math.max(0, d.serviceAction()), 65535)).good()).isTrue();
            assertThat(initiator.send(0, Cdb.reportSupportedOpcodes(false, d.hasServiceAction() ? 1 : 2,
                    d.opcode(), Math.max(0, d.serviceAction()), 65535)).senseCode()).isEqualTo(0x052400);
        }
    }

    @Test
    void readAndWriteAdvertiseDpoAndFua() {
        for (int opcode : new int[]{0x28, 0x2A, 0xA8, 0xAA, 0x88, 0x8A}) {
            byte[] d = initiator.send(0, Cdb.reportSupportedOpcodes(false, 1, opcode, 0, 64)).data();
            assertThat(d[4 + 1] & 0x18).as("opcode %02x", opcode).isEqualTo(0x18);
        }
        byte[] verify = initiator.send(0, Cdb.reportSupportedOpcodes(false, 1, 0x2F, 0, 64)).data();
        assertThat(verify[5] & 0x10).isEqualTo(0x10);
    }

    @Test
    void unsupportedCommandIsReportedAsSuch() {
        byte[] d = initiator.send(0, Cdb.reportSupportedOpcodes(false, 1, 0xC0, 0, 64)).data();
        assertThat(d[1] & 0x07).isEqualTo(0b001);
        assertThat(initiator.send(0, Cdb.reportSupportedOpcodes(false, 5, 0, 0, 64)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void allocationLengthTruncates() {
        Initiator.Result r = initiator.send(0, Cdb.reportSupportedOpcodes(false, 0, 0, 0, 20));
        assertThat(r.dataLength()).isEqualTo(20);
    }

    @Test
    void supportedTaskManagementFunctions() {
        byte[] cdb = Cdb.reportSupportedOpcodes(false, 0, 0, 0, 16);
        cdb[1] = 0x0D;
        cdb[2] = 0;
        byte[] d = initiator.send(0, cdb).data();
        assertThat(d).hasSize(4);
        assertThat(d[0] & 0xFF).isEqualTo(0xDA);
    }
}
