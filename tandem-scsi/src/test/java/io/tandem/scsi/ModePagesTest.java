package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.MemoryBlockDevice;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ModePagesTest {

    private static final int CURRENT = 0, CHANGEABLE = 1, DEFAULT = 2, SAVED = 3;
    private ScsiTarget target;
    private Initiator a;
    private Initiator b;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:mode", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(512, 4096), false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        b = new Initiator(target, "iqn.2025-01.test:b", 1).login(0);
    }

    @AfterEach
    void tearDown() {
        target.close();
    }

    /** Finds a page (subpage 0) in MODE SENSE data; returns its bytes including the header, or null. */
    private static byte[] page(byte[] data, boolean ten, int code) {
        int header = ten ? 8 : 4;
        int bdl = ten ? ((data[6] & 0xFF) << 8) | (data[7] & 0xFF) : data[3] & 0xFF;
        for (int p = header + bdl; p < data.length; ) {
            boolean spf = (data[p] & 0x40) != 0;
            int len = spf ? 4 + (((data[p + 2] & 0xFF) << 8) | (data[p + 3] & 0xFF)) : 2 + (data[p + 1] & 0xFF);
            if ((data[p] & 0x3F) == code && !spf) {
                return Arrays.copyOfRange(data, p, p + len);
            }
            p += len;
        }
        return null;
    }

    @Test
    void allPagesIncludeCachingControlAndBlockDescriptor() {
        Initiator.Result r = a.send(0, Cdb.modeSense6(false, CURRENT, 0x3F, 0, 255));
        assertThat(r.good()).isTrue();
        byte[] d = r.data();
        assertThat(d[0] & 0xFF).isEqualTo(d.length - 1);
        assertThat(d[2] & 0x10).as("DPOFUA").isEqualTo(0x10);
        assertThat(d[2] & 0x80).as("WP").isZero();
        assertThat(d[3]).isEqualTo((byte) 8);
        assertThat(Arrays.copyOfRange(d, 4, 12)).containsExactly(0, 0, 0x10, 0, 0, 0, 0x02, 0);
        assertThat(page(d, false, 0x08)).isNotNull();
        byte[] control = page(d, false, 0x0A);
        assertThat(control).hasSize(12);
        assertThat(control[2] & 0xE0).as("TST").isZero();
        assertThat(page(d, false, 0x1C)).isNotNull();
        assertThat(a.send(0, Cdb.modeSense6(true, CURRENT, 0x0A, 0, 255)).data())
                .as("control page alone equals its copy in all pages").endsWith(control);
    }

    @Test
    void allocationLengthTruncatesAndSavedValuesAreNotSupported() {
        assertThat(a.send(0, Cdb.modeSense6(false, CURRENT, 0x3F, 0, 4)).dataLength()).isEqualTo(4);
        assertThat(a.send(0, Cdb.modeSense6(false, SAVED, 0x3F, 0, 255)).senseCode()).isEqualTo(0x053900);
        assertThat(a.send(0, Cdb.modeSense6(false, CURRENT, 0x05, 0, 255)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void subpagesAreSelectable() {
        byte[] all = a.send(0, Cdb.modeSense6(true, CURRENT, 0x3F, 0xFF, 255)).data();
        byte[] pagesOnly = a.send(0, Cdb.modeSense6(true, CURRENT, 0x3F, 0x00, 255)).data();
        assertThat(all.length).isGreaterThan(pagesOnly.length); // control extension subpage 0Ah/01h
        byte[] ext = a.send(0, Cdb.modeSense6(true, CURRENT, 0x0A, 0x01, 255)).data();
        assertThat(ext[4] & 0xFF).isEqualTo(0x40 | 0x0A);
        assertThat(ext[5]).isEqualTo((byte) 1);
        assertThat(a.send(0, Cdb.modeSense6(true, CURRENT, 0x0A, 0x02, 255)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void modeSense10CanReturnALongLbaDescriptor() {
        byte[] d = a.send(0, Cdb.modeSense10(true, false, CURRENT, 0x08, 0, 1024)).data();
        assertThat(d[4] & 0x01).as("LONGLBA").isEqualTo(1);
        assertThat(((d[6] & 0xFF) << 8) | (d[7] & 0xFF)).isEqualTo(16);
        assertThat(Arrays.copyOfRange(d, 8, 16)).containsExactly(0, 0, 0, 0, 0, 0, 0x10, 0);
        assertThat(Arrays.copyOfRange(d, 20, 24)).containsExactly(0, 0, 0x02, 0);
        assertThat(((d[0] & 0xFF) << 8 | (d[1] & 0xFF)) + 2).isEqualTo(d.length);
    }

    @Test
    void changeableValuesShowWhatModeSelectAccepts() {
        byte[] control = page(a.send(0, Cdb.modeSense6(true, CHANGEABLE, 0x0A, 0, 255)).data(), false, 0x0A);
        assertThat(control[2] & 0x04).as("D_SENSE").isEqualTo(0x04);
        assertThat(control[4] & 0xFF).as("UA_INTLCK_CTRL and SWP").isEqualTo(0x38);
        assertThat(control[3] & 0xFF).as("only QERR; QAM fixed").isEqualTo(0x06);
        assertThat(control[5] & 0xFF).as("only TAS").isEqualTo(0x40);
        assertThat(control[2] & 0xE0).as("TST fixed at 000b").isZero();
        byte[] caching = page(a.send(0, Cdb.modeSense6(true, CHANGEABLE, 0x08, 0, 255)).data(), false, 0x08);
        assertThat(caching[2] & 0xFF).as("only WCE").isEqualTo(0x04);
        byte[] defaults = page(a.send(0, Cdb.modeSense6(true, DEFAULT, 0x08, 0, 255)).data(), false, 0x08);
        assertThat(defaults[2] & 0x04).as("WCE on by default").isEqualTo(0x04);
    }

    /** MODE SELECT(6) parameter list: 4-byte header, no block descriptor, then the page. */
    private static byte[] selectList(byte[] page) {
        byte[] list = new byte[4 + page.length];
        System.arraycopy(page, 0, list, 4, page.length);
        return list;
    }

    private byte[] currentControl() {
        return page(a.send(0, Cdb.modeSense6(true, CURRENT, 0x0A, 0, 255)).data(), false, 0x0A);
    }

    @Test
    void settingDSenseSwitchesSenseFormatAndTellsOtherNexuses() {
        byte[] control = currentControl();
        control[2] |= 0x04;
        byte[] list = selectList(control);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        assertThat(currentControl()[2] & 0x04).isEqualTo(0x04);

        Initiator.Result oob = a.send(0, Cdb.read16(-1L, 1));
        assertThat(oob.isDescriptor()).isTrue();
        assertThat(oob.senseCode()).isEqualTo(0x052100);

        // The issuer gets no unit attention; the other nexus does, once.
        assertThat(a.send(0, Cdb.testUnitReady()).good()).isTrue();
        Initiator.Result ua = b.send(0, Cdb.testUnitReady());
        assertThat(ua.senseCode()).isEqualTo(0x062A01);
        assertThat(ua.isDescriptor()).isTrue();
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();

        // Selecting the same values again changes nothing and establishes nothing.
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        assertThat(b.send(0, Cdb.testUnitReady()).good()).isTrue();
    }

    @Test
    void softwareWriteProtectRefusesWritesButNotReads() {
        byte[] control = currentControl();
        control[4] |= 0x08;
        byte[] list = selectList(control);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        assertThat(a.send(0, Cdb.modeSense6(true, CURRENT, 0x3F, 0, 255)).data()[2] & 0x80).as("WP").isEqualTo(0x80);
        assertThat(a.send(0, Cdb.read10(0, 1)).good()).isTrue();
        assertThat(a.sendOut(0, Cdb.write10(0, 1), new byte[512]).senseCode()).isEqualTo(0x072702);
        control[4] &= ~0x08;
        list = selectList(control);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        assertThat(a.sendOut(0, Cdb.write10(0, 1), new byte[512]).good()).isTrue();
    }

    @Test
    void clearingWriteCacheMakesEveryWriteForceUnitAccess() {
        GatedBlockDevice dev = new GatedBlockDevice(new MemoryBlockDevice(512, 64));
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:wce", List.of(new LunSpec(0, "l", dev, false)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:a", 1).login(0);
        assertThat(i.sendOut(0, Cdb.write10(0, 1), new byte[512]).good()).isTrue();
        byte[] caching = page(i.send(0, Cdb.modeSense6(true, CURRENT, 0x08, 0, 255)).data(), false, 0x08);
        caching[2] &= ~0x04;
        byte[] list = selectList(caching);
        assertThat(i.sendOut(0, Cdb.modeSelect6(true, false, list.length), list).good()).isTrue();
        assertThat(i.sendOut(0, Cdb.write10(0, 1), new byte[512]).good()).isTrue();
        assertThat(dev.writeFuaFlags).containsExactly(false, true);
        t.close();
    }

    @Test
    void modeSelectRefusesWhatItCannotHonour() {
        byte[] control = currentControl();
        byte[] fixedChanged = control.clone();
        fixedChanged[3] ^= 0x10; // QUEUE ALGORITHM MODIFIER is not changeable
        byte[] list = selectList(fixedChanged);
        Initiator.Result r = a.sendOut(0, Cdb.modeSelect6(true, false, list.length), list);
        assertThat(r.senseCode()).isEqualTo(0x052600);
        assertThat(r.sense()[15] & 0xFF).as("parameter list, bit 4").isEqualTo(0x80 | 0x08 | 4);
        assertThat(r.sense()[17]).isEqualTo((byte) (4 + 3));

        list = selectList(control);
        assertThat(a.sendOut(0, Cdb.modeSelect6(false, false, list.length), list).senseCode()).as("PF=0").isEqualTo(0x052400);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, true, list.length), list).senseCode()).as("SP=1").isEqualTo(0x052400);
        byte[] truncated = Arrays.copyOf(list, list.length - 2);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, truncated.length), truncated).senseCode())
                .isEqualTo(0x051A00);
        byte[] unknownPage = selectList(new byte[]{0x19, 0x06, 0, 0, 0, 0, 0, 0});
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, unknownPage.length), unknownPage).senseCode())
                .isEqualTo(0x052600);
        // A block descriptor may restate the geometry but not change the block size.
        byte[] withDescriptor = new byte[4 + 8 + control.length];
        withDescriptor[3] = 8;
        withDescriptor[4 + 6] = 0x02; // 512
        System.arraycopy(control, 0, withDescriptor, 12, control.length);
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, withDescriptor.length), withDescriptor).good()).isTrue();
        withDescriptor[4 + 6] = 0x10; // 4096
        assertThat(a.sendOut(0, Cdb.modeSelect6(true, false, withDescriptor.length), withDescriptor).senseCode())
                .isEqualTo(0x052600);
        assertThat(currentControl()).isEqualTo(control);
    }

    @Test
    void modeSelect10RoundTrip() {
        byte[] control = currentControl();
        control[2] |= 0x04;
        byte[] list = new byte[8 + control.length];
        System.arraycopy(control, 0, list, 8, control.length);
        assertThat(a.sendOut(0, Cdb.modeSelect10(true, list.length), list).good()).isTrue();
        byte[] d = a.send(0, Cdb.modeSense10(false, true, CURRENT, 0x0A, 0, 255)).data();
        assertThat(page(d, true, 0x0A)[2] & 0x04).isEqualTo(0x04);
    }
}
