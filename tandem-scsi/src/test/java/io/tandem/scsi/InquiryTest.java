package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InquiryTest {

    private static final String TARGET = "iqn.2025-01.io.tandem:inq";
    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget(TARGET, List.of(new LunSpec(0, "vol-a", new MemoryBlockDevice(512, 4096), false)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 7);
        target.nexusAdded(initiator.nexus);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    @Test
    void standardDataClaimsSpc4ImplicitAndExplicitAluaAndCommandQueuing() {
        Initiator.Result r = initiator.send(0, Cdb.inquiry(false, 0, 260));
        assertThat(r.good()).as("INQUIRY is exempt from the pending power-on unit attention").isTrue();
        byte[] d = r.data();
        assertThat(d.length).isGreaterThanOrEqualTo(36);
        assertThat(d[0]).isEqualTo((byte) 0x00);          // connected direct-access block device
        assertThat(d[2]).isEqualTo((byte) 0x06);          // SPC-4
        assertThat(d[3] & 0x0F).isEqualTo(2);             // response data format
        assertThat(d[3] & 0x10).isEqualTo(0x10);          // HISUP
        assertThat(d[4] & 0xFF).isEqualTo(d.length - 5);  // additional length
        assertThat((d[5] >> 4) & 0x03).isEqualTo(3);      // TPGS: implicit and explicit
        assertThat(d[7] & 0x02).isEqualTo(0x02);          // CMDQUE
        assertThat(new String(d, 8, 8, StandardCharsets.US_ASCII)).isEqualTo("TANDEM  ");
        for (int i = 8; i < 36; i++) {
            assertThat(d[i] & 0xFF).isBetween(0x20, 0x7E);
        }
        assertThat(versionDescriptors(d)).contains(0x0460, 0x04C0); // SPC-4, SBC-3
        // still pending: the next non-exempt command reports it
        assertThat(initiator.send(0, Cdb.testUnitReady()).senseCode()).isEqualTo(0x062900);
    }

    private static List<Integer> versionDescriptors(byte[] d) {
        List<Integer> v = new ArrayList<>();
        for (int i = 58; i + 1 < 74 && i + 1 < d.length; i += 2) {
            v.add(((d[i] & 0xFF) << 8) | (d[i + 1] & 0xFF));
        }
        return v;
    }

    @Test
    void everyAllocationLengthTruncatesWithoutChangingContent() {
        byte[] full = initiator.send(0, Cdb.inquiry(false, 0, 512)).data();
        for (int alloc = 0; alloc < 300; alloc++) {
            Initiator.Result r = initiator.send(0, Cdb.inquiry(false, 0, alloc));
            assertThat(r.good()).isTrue();
            assertThat(r.dataLength()).isEqualTo(Math.min(alloc, full.length));
            assertThat(r.dataLength() == 0 ? new byte[0] : r.data())
                    .isEqualTo(Arrays.copyOf(full, Math.min(alloc, full.length)));
        }
    }

    @Test
    void vpdPagesAreTruncatedToTheAllocationLength() {
        for (int page : new int[]{0x00, 0x80, 0x83, 0x86, 0xB0, 0xB1, 0xB2}) {
            byte[] full = initiator.send(0, Cdb.inquiry(true, page, 1024)).data();
            for (int alloc : new int[]{0, 1, 3, 4, 5, full.length - 1, full.length, full.length + 1}) {
                Initiator.Result r = initiator.send(0, Cdb.inquiry(true, page, alloc));
                assertThat(r.dataLength()).as("page %02x alloc %d", page, alloc).isEqualTo(Math.min(alloc, full.length));
                if (r.dataLength() > 0) {
                    assertThat(r.data()).isEqualTo(Arrays.copyOf(full, r.dataLength()));
                }
            }
        }
    }

    @Test
    void pageCodeWithoutEvpdIsInvalid() {
        Initiator.Result r = initiator.send(0, Cdb.inquiry(false, 1, 255));
        assertThat(r.senseCode()).isEqualTo(0x052400);
        assertThat(r.sense()[17]).isEqualTo((byte) 2);
    }

    @Test
    void supportedVpdPagesAreAscendingAndEachIsServedWithItsLength() {
        byte[] pages = initiator.send(0, Cdb.inquiry(true, 0x00, 255)).data();
        int n = ((pages[2] & 0xFF) << 8) | (pages[3] & 0xFF);
        assertThat(n).isGreaterThanOrEqualTo(7);
        for (int i = 0; i < n; i++) {
            int code = pages[4 + i] & 0xFF;
            if (i > 0) {
                assertThat(code).isGreaterThan(pages[3 + i] & 0xFF);
            }
            Initiator.Result page = initiator.send(0, Cdb.inquiry(true, code, 1024));
            assertThat(page.good()).as("page %02x", code).isTrue();
            assertThat(page.data()[1] & 0xFF).isEqualTo(code);
            assertThat((((page.data()[2] & 0xFF) << 8) | (page.data()[3] & 0xFF)) + 4).isEqualTo(page.dataLength());
        }
        assertThat(initiator.send(0, Cdb.inquiry(true, 0x89, 255)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void blockLimitsIsTheSbc3LengthAndReportsTransferLimits() {
        byte[] d = initiator.send(0, Cdb.inquiry(true, 0xB0, 255)).data();
        assertThat(d[3] & 0xFF).isEqualTo(0x3C);
        long maxTransfer = ((long) (d[8] & 0xFF) << 24) | ((d[9] & 0xFF) << 16) | ((d[10] & 0xFF) << 8) | (d[11] & 0xFF);
        assertThat(maxTransfer).isGreaterThanOrEqualTo(256);
        assertThat(((d[6] & 0xFF) << 8) | (d[7] & 0xFF)).isEqualTo(8); // 4 KiB physical / 512
        // The UNMAP and WRITE SAME fields are ThinProvisioningTest's.
    }

    @Test
    void blockDeviceCharacteristicsReportNonRotatingMedium() {
        byte[] d = initiator.send(0, Cdb.inquiry(true, 0xB1, 255)).data();
        assertThat(((d[4] & 0xFF) << 8) | (d[5] & 0xFF)).isEqualTo(1);
    }

    @Test
    void deviceIdentificationIsTheSameForEveryNodeAndCarriesThePort() {
        byte[] here = initiator.send(0, Cdb.inquiry(true, 0x83, 1024)).data();
        List<byte[]> designators = designators(here);
        byte[] naa = find(designators, 0x03);
        assertThat(naa).isNotNull();
        assertThat(naa.length).isEqualTo(16);
        assertThat((naa[0] & 0xF0) >> 4).isEqualTo(6);
        byte[] relativePort = find(designators, 0x04);
        assertThat(relativePort).containsExactly(0, 0, 0, 7);
        byte[] group = find(designators, 0x05);
        assertThat(group).containsExactly(0, 0, 0, 7);
        byte[] name = find(designators, 0x08);
        assertThat(new String(name, StandardCharsets.UTF_8).trim().replace("\0", ""))
                .isEqualTo(TARGET + ",t,0x0001");
        assertThat(name.length % 4).isZero();

        // Another node (another ScsiTarget, another port) reports the same LU name...
        ScsiTarget other = new ScsiTarget(TARGET, List.of(new LunSpec(0, "vol-a", new MemoryBlockDevice(512, 16), false)));
        Initiator there = new Initiator(other, "iqn.2025-01.test:init", 9);
        byte[] otherPage = there.send(0, Cdb.inquiry(true, 0x83, 1024)).data();
        assertThat(find(designators(otherPage), 0x03)).isEqualTo(naa);
        assertThat(find(designators(otherPage), 0x04)).containsExactly(0, 0, 0, 9);
        // ...and the serial numbers agree too, while a different LU name differs.
        assertThat(there.send(0, Cdb.inquiry(true, 0x80, 255)).data())
                .isEqualTo(initiator.send(0, Cdb.inquiry(true, 0x80, 255)).data());
        ScsiTarget third = new ScsiTarget(TARGET, List.of(new LunSpec(0, "vol-b", new MemoryBlockDevice(512, 16), false)));
        byte[] thirdPage = new Initiator(third, "iqn.2025-01.test:init", 1).send(0, Cdb.inquiry(true, 0x83, 1024)).data();
        assertThat(find(designators(thirdPage), 0x03)).isNotEqualTo(naa);
        other.close();
        third.close();
    }

    /** Returns each designator as [type, association, value...] flattened: index by type only. */
    private static List<byte[]> designators(byte[] page) {
        List<byte[]> out = new ArrayList<>();
        int end = 4 + (((page[2] & 0xFF) << 8) | (page[3] & 0xFF));
        for (int p = 4; p < end; ) {
            int type = page[p + 1] & 0x0F;
            int assoc = (page[p + 1] >> 4) & 0x03;
            int len = page[p + 3] & 0xFF;
            byte[] e = new byte[len + 2];
            e[0] = (byte) type;
            e[1] = (byte) assoc;
            System.arraycopy(page, p + 4, e, 2, len);
            out.add(e);
            p += 4 + len;
        }
        return out;
    }

    /** The value of the first designator of {@code type} associated with the LU or target port. */
    private static byte[] find(List<byte[]> designators, int type) {
        for (byte[] e : designators) {
            if (e[0] == type && e[1] != 2) {
                return Arrays.copyOfRange(e, 2, e.length);
            }
        }
        return null;
    }

    @Test
    void vpdOfAMissingLunIsRefused() {
        assertThat(initiator.send(5, Cdb.inquiry(true, 0x83, 255)).senseCode()).isEqualTo(0x052500);
    }
}
