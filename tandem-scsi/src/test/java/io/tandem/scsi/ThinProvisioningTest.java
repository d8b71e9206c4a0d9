package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UNMAP, WRITE SAME(10/16), GET LBA STATUS and what the LU advertises about provisioning, through
 * {@link ScsiTarget}. LUN 0 is thin (a memory device tracks deallocated blocks), LUN 1 fully
 * provisioned (a backend with only the SPI's defaults), LUN 2 read-only.
 */
class ThinProvisioningTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 4096;
    private static final int THIN = 0;
    private static final int FULL = 1;
    private static final int READ_ONLY = 2;

    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        target = new ScsiTarget("iqn.2025-01.io.tandem:thin", List.of(
                new LunSpec(THIN, "thin", new MemoryBlockDevice(BLOCK, BLOCKS), false),
                new LunSpec(FULL, "full", new GatedBlockDevice(new MemoryBlockDevice(BLOCK, BLOCKS)), false),
                new LunSpec(READ_ONLY, "ro", new MemoryBlockDevice(BLOCK, 64), true)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1).login(THIN, FULL, READ_ONLY);
    }

    @AfterEach
    void tearDown() {
        target.close();
        assertThat(initiator.port.duplicateEndings()).isZero();
    }

    // ------------------------------------------------------------------ CDBs and parameter data

    static byte[] unmap(int listLength, int byte1) {
        byte[] c = Cdb.of(0x42, byte1, 0, 0, 0, 0, 0, 0, 0, 0);
        Cdb.put16(c, 7, listLength);
        return c;
    }

    /** UNMAP parameter list: header with honest lengths, then (lba, blocks) pairs. */
    static byte[] unmapList(long... lbaAndBlocks) {
        int descriptors = lbaAndBlocks.length / 2;
        byte[] p = new byte[8 + 16 * descriptors];
        Cdb.put16(p, 0, p.length - 2);
        Cdb.put16(p, 2, 16 * descriptors);
        for (int i = 0; i < descriptors; i++) {
            Cdb.put64(p, 8 + 16 * i, lbaAndBlocks[2 * i]);
            Cdb.put32(p, 8 + 16 * i + 8, lbaAndBlocks[2 * i + 1]);
        }
        return p;
    }

    static byte[] writeSame10(long lba, int blocks, int byte1) {
        byte[] c = Cdb.rw10(0x41, lba, blocks, byte1);
        return c;
    }

    static byte[] writeSame16(long lba, long blocks, int byte1) {
        return Cdb.rw16(0x93, lba, blocks, byte1);
    }

    static byte[] getLbaStatus(long lba, long allocation) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x9E;
        c[1] = 0x12;
        Cdb.put64(c, 2, lba);
        Cdb.put32(c, 10, allocation);
        return c;
    }

    private Initiator.Result unmapOut(int lun, byte[] list) {
        return initiator.sendOut(lun, unmap(list.length, 0), list);
    }

    /** One LBA status descriptor as the initiator decodes it. */
    record Status(long lba, long blocks, int provisioning) {
    }

    private List<Status> status(int lun, long lba) {
        Initiator.Result r = initiator.send(lun, getLbaStatus(lba, 8 + 16 * 32));
        assertThat(r.good()).as("GET LBA STATUS %s", r).isTrue();
        return decode(r.data());
    }

    private static List<Status> decode(byte[] d) {
        ByteBuffer b = ByteBuffer.wrap(d);
        int length = b.getInt(0);
        assertThat((length - 4) % 16).as("whole descriptors").isZero();
        List<Status> out = new ArrayList<>();
        for (int at = 8; at + 16 <= Math.min(d.length, length + 4); at += 16) {
            out.add(new Status(b.getLong(at), b.getInt(at + 8) & 0xFFFFFFFFL, d[at + 12] & 0x0F));
        }
        return out;
    }

    private byte[] write(int lun, long lba, int blocks, long seed) {
        byte[] data = new byte[blocks * BLOCK];
        new Random(seed).nextBytes(data);
        assertThat(initiator.sendOut(lun, Cdb.write16(lba, blocks), data).good()).isTrue();
        return data;
    }

    private byte[] read(int lun, long lba, int blocks) {
        Initiator.Result r = initiator.send(lun, Cdb.read16(lba, blocks));
        assertThat(r.good()).isTrue();
        return r.data();
    }

    private static byte[] pattern(int value) {
        byte[] b = new byte[BLOCK];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static long u32(byte[] d, int at) {
        return ByteBuffer.wrap(d).getInt(at) & 0xFFFFFFFFL;
    }

    // ------------------------------------------------------------------ what the LU advertises

    @Test
    void thinLuAdvertisesUnmapWriteSameAndZeroedDeallocatedBlocks() {
        byte[] lbp = initiator.send(THIN, Cdb.inquiry(true, 0xB2, 255)).data();
        assertThat(lbp).hasSize(8);
        assertThat(lbp[3]).isEqualTo((byte) 4);
        assertThat(lbp[5] & 0xFF).as("LBPU LBPWS LBPWS10, LBPRZ=001b, no ANC_SUP, no DP").isEqualTo(0xE4);
        assertThat(lbp[6] & 0x07).as("thin").isEqualTo(2);

        byte[] limits = initiator.send(THIN, Cdb.inquiry(true, 0xB0, 255)).data();
        assertThat(limits[4] & 0x01).as("WSNZ").isZero();
        assertThat(u32(limits, 20)).as("MAXIMUM UNMAP LBA COUNT").isEqualTo(1 << 20);
        assertThat(u32(limits, 24)).as("MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT").isEqualTo(4095);
        assertThat(u32(limits, 28)).as("OPTIMAL UNMAP GRANULARITY").isEqualTo(1);
        assertThat(u32(limits, 32)).as("UGAVALID, alignment 0").isEqualTo(0x80000000L);
        assertThat(ByteBuffer.wrap(limits).getLong(36)).as("MAXIMUM WRITE SAME LENGTH").isEqualTo(0xFFFF);

        byte[] capacity = initiator.send(THIN, Cdb.readCapacity16(32)).data();
        assertThat(capacity[14] & 0xC0).as("LBPME LBPRZ").isEqualTo(0xC0);
    }

    @Test
    void fullyProvisionedLuAdvertisesNoneOfItAndRefusesUnmap() {
        byte[] lbp = initiator.send(FULL, Cdb.inquiry(true, 0xB2, 255)).data();
        assertThat(Arrays.copyOfRange(lbp, 4, 8)).containsOnly(0);
        byte[] limits = initiator.send(FULL, Cdb.inquiry(true, 0xB0, 255)).data();
        assertThat(Arrays.copyOfRange(limits, 20, 36)).as("no UNMAP limits").containsOnly(0);
        assertThat(ByteBuffer.wrap(limits).getLong(36)).as("WRITE SAME still works").isEqualTo(0xFFFF);
        assertThat(initiator.send(FULL, Cdb.readCapacity16(32)).data()[14] & 0xC0).isZero();

        Initiator.Result unmap = unmapOut(FULL, unmapList(0, 8));
        assertThat(unmap.senseCode()).isEqualTo(0x052000);
        Initiator.Result wsUnmap = initiator.sendOut(FULL, writeSame16(0, 8, 0x08), new byte[BLOCK]);
        assertThat(wsUnmap.senseCode()).isEqualTo(0x052400);
        assertThat(wsUnmap.sense()[15] & 0xFF).as("SKSV, C/D, BPV, bit 3").isEqualTo(0xCB);
        assertThat(wsUnmap.sense()[17]).as("byte 1").isEqualTo((byte) 1);

        write(FULL, 0, 16, 1);
        assertThat(initiator.sendOut(FULL, writeSame10(0, 16, 0), new byte[BLOCK]).good()).isTrue();
        assertThat(read(FULL, 0, 16)).isEqualTo(new byte[16 * BLOCK]);
        assertThat(status(FULL, 5)).containsExactly(new Status(5, BLOCKS - 5, 0));
    }

    // ------------------------------------------------------------------ UNMAP

    @Test
    void unmapDeallocatesEveryDescriptorAndTheBlocksReadAsZeroes() {
        byte[] data = write(THIN, 0, 64, 2);
        assertThat(unmapOut(THIN, unmapList(40, 8, 8, 16, 30, 0)).good()).isTrue();

        byte[] back = read(THIN, 0, 64);
        byte[] expected = data.clone();
        Arrays.fill(expected, 8 * BLOCK, 24 * BLOCK, (byte) 0);
        Arrays.fill(expected, 40 * BLOCK, 48 * BLOCK, (byte) 0);
        assertThat(back).isEqualTo(expected);
        assertThat(status(THIN, 0)).startsWith(new Status(0, 8, 0), new Status(8, 16, 1), new Status(24, 16, 0),
                new Status(40, 8, 1), new Status(48, 16, 0), new Status(64, BLOCKS - 64, 1));
    }

    @Test
    void unmapParameterListIsValidatedBeforeAnythingIsDeallocated() {
        byte[] data = write(THIN, 0, 16, 3);
        // No parameter data at all is not an error; a list shorter than its header is.
        assertThat(initiator.send(THIN, unmap(0, 0)).good()).isTrue();
        for (int n = 1; n < 8; n++) {
            assertThat(initiator.sendOut(THIN, unmap(n, 0), new byte[n]).senseCode()).as("%d bytes", n).isEqualTo(0x051A00);
        }
        // A header alone, or descriptors of zero blocks (even at the LBA just past the end), do nothing.
        assertThat(unmapOut(THIN, unmapList()).good()).isTrue();
        assertThat(unmapOut(THIN, unmapList(3, 0, BLOCKS, 0)).good()).isTrue();

        // Out of range anywhere in the list: nothing is deallocated, not even the valid first range.
        assertThat(unmapOut(THIN, unmapList(0, 4, BLOCKS - 1, 2)).senseCode()).isEqualTo(0x052100);
        assertThat(unmapOut(THIN, unmapList(0, 4, -1L, 1)).senseCode()).isEqualTo(0x052100);
        // Too many blocks in total: INVALID FIELD IN PARAMETER LIST, pointing at the descriptor's count.
        // (257 descriptors of the whole LU: 1052672 blocks > 2^20; the 257th crosses the limit.)
        long[] whole = new long[2 * 257];
        for (int d = 0; d < 257; d++) {
            whole[2 * d + 1] = BLOCKS;
        }
        Initiator.Result tooMany = unmapOut(THIN, unmapList(whole));
        assertThat(tooMany.senseCode()).isEqualTo(0x052600);
        assertThat(tooMany.sense()[15] & 0xC0).as("SKSV, C/D=0: parameter list").isEqualTo(0x80);
        assertThat(((tooMany.sense()[16] & 0xFF) << 8) | (tooMany.sense()[17] & 0xFF)).isEqualTo(8 + 16 * 256 + 8);
        // (More descriptors than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT cannot be sent: 4095 fill
        // the largest parameter list a 16-bit PARAMETER LIST LENGTH allows.)
        assertThat(read(THIN, 0, 16)).isEqualTo(data);

        // ANCHOR is not supported (ANC_SUP=0).
        assertThat(initiator.sendOut(THIN, unmap(24, 0x01), unmapList(0, 1)).senseCode()).isEqualTo(0x052400);
        // Read-only LU: the precheck's write protection.
        assertThat(unmapOut(READ_ONLY, unmapList(0, 1)).senseCode()).isEqualTo(0x072700);
    }

    @Test
    void unmapHonoursTheDescriptorLengthsActuallyReceived() {
        byte[] data = write(THIN, 0, 16, 4);
        // The block descriptor length claims two descriptors but only one and a half arrived:
        // the complete one counts, the partial one is ignored.
        byte[] list = unmapList(2, 2, 8, 4);
        Cdb.put16(list, 2, 48);
        byte[] truncated = Arrays.copyOf(list, 8 + 16 + 10);
        assertThat(initiator.sendOut(THIN, unmap(truncated.length, 0), truncated).good()).isTrue();
        byte[] expected = data.clone();
        Arrays.fill(expected, 2 * BLOCK, 4 * BLOCK, (byte) 0);
        assertThat(read(THIN, 0, 16)).isEqualTo(expected);
        // A smaller BLOCK DESCRIPTOR DATA LENGTH hides the descriptors after it.
        byte[] hidden = unmapList(10, 2, 12, 2);
        Cdb.put16(hidden, 2, 16);
        assertThat(initiator.sendOut(THIN, unmap(hidden.length, 0), hidden).good()).isTrue();
        Arrays.fill(expected, 10 * BLOCK, 12 * BLOCK, (byte) 0);
        assertThat(read(THIN, 0, 16)).isEqualTo(expected);
    }

    // ------------------------------------------------------------------ WRITE SAME

    @Test
    void writeSameRepeatsTheBlockAndZeroMeansToTheEnd() {
        byte[] a = pattern('a');
        assertThat(initiator.sendOut(THIN, writeSame10(10, 20, 0), a).good()).isTrue();
        byte[] back = read(THIN, 9, 22);
        assertThat(Arrays.copyOfRange(back, 0, BLOCK)).isEqualTo(new byte[BLOCK]);
        for (int i = 1; i <= 20; i++) {
            assertThat(Arrays.copyOfRange(back, i * BLOCK, (i + 1) * BLOCK)).isEqualTo(a);
        }
        assertThat(Arrays.copyOfRange(back, 21 * BLOCK, 22 * BLOCK)).isEqualTo(new byte[BLOCK]);
        assertThat(status(THIN, 10)).startsWith(new Status(10, 20, 0), new Status(30, BLOCKS - 30, 1));

        byte[] b = pattern('b');
        assertThat(initiator.sendOut(THIN, writeSame16(BLOCKS - 3, 0, 0), b).good()).isTrue();
        assertThat(read(THIN, BLOCKS - 3, 3)).isEqualTo(concat(b, b, b));
        // zero blocks at the LBA just past the end: nothing to write, not an error
        assertThat(initiator.sendOut(THIN, writeSame16(BLOCKS, 0, 0), b).good()).isTrue();
        assertThat(initiator.sendOut(THIN, writeSame16(BLOCKS + 1, 0, 0), b).senseCode()).isEqualTo(0x052100);
        assertThat(initiator.sendOut(THIN, writeSame10(BLOCKS - 1, 2, 0), b).senseCode()).isEqualTo(0x052100);
        assertThat(initiator.sendOut(THIN, writeSame16(-1L, 1, 0), b).senseCode()).isEqualTo(0x052100);
        assertThat(initiator.sendOut(READ_ONLY, writeSame10(0, 1, 0), b).senseCode()).isEqualTo(0x072700);
    }

    @Test
    void writeSameLongerThanTheMaximumIsAnInvalidLength() {
        long blocks = 0xFFFF + 100;
        ScsiTarget big = new ScsiTarget("iqn.2025-01.io.tandem:ws", List.of(
                new LunSpec(0, "big", new MemoryBlockDevice(BLOCK, blocks), false)));
        try {
            Initiator i = new Initiator(big, "iqn.2025-01.test:init", 1).login(0);
            Initiator.Result whole = i.sendOut(0, writeSame10(0, 0, 0), new byte[BLOCK]);
            assertThat(whole.senseCode()).as("0 blocks = the whole LU, past the maximum").isEqualTo(0x052400);
            assertThat(whole.sense()[17]).as("NUMBER OF LOGICAL BLOCKS").isEqualTo((byte) 7);
            Initiator.Result sixteen = i.sendOut(0, writeSame16(0, 0x10000, 0x08), new byte[BLOCK]);
            assertThat(sixteen.senseCode()).isEqualTo(0x052400);
            assertThat(sixteen.sense()[17]).isEqualTo((byte) 10);
            assertThat(i.sendOut(0, writeSame10(blocks - 0xFFFF - 1, 0, 0), new byte[BLOCK]).senseCode()).isEqualTo(0x052400);
            assertThat(i.sendOut(0, writeSame10(blocks - 0xFFFF, 0, 0), pattern(7)).good()).isTrue();
            assertThat(i.send(0, Cdb.read16(blocks - 1, 1)).data()).isEqualTo(pattern(7));
        } finally {
            big.close();
        }
    }

    @Test
    void writeSameWithUnmapDeallocatesWhateverTheBlockHolds() {
        write(THIN, 0, 64, 5);
        assertThat(initiator.sendOut(THIN, writeSame16(8, 16, 0x08), pattern(0xFF)).good()).isTrue();
        assertThat(initiator.sendOut(THIN, writeSame10(32, 8, 0x08), new byte[BLOCK]).good()).isTrue();
        assertThat(read(THIN, 8, 16)).isEqualTo(new byte[16 * BLOCK]);
        assertThat(read(THIN, 32, 8)).isEqualTo(new byte[8 * BLOCK]);
        assertThat(status(THIN, 0)).startsWith(new Status(0, 8, 0), new Status(8, 16, 1), new Status(24, 8, 0),
                new Status(32, 8, 1), new Status(40, 24, 0));
        // ...to the end of the LU with zero blocks
        assertThat(initiator.sendOut(THIN, writeSame10(60, 0, 0x08), new byte[BLOCK]).good()).isTrue();
        assertThat(status(THIN, 40)).containsExactly(new Status(40, 20, 0), new Status(60, BLOCKS - 60, 1));
    }

    @Test
    void ndobWritesZeroesWithoutDataOut() {
        write(THIN, 0, 32, 6);
        Initiator.Result ndob = initiator.send(THIN, writeSame16(0, 8, 0x01));
        assertThat(ndob.good()).isTrue();
        assertThat(ndob.task().commandDataOutLength()).isZero();
        assertThat(read(THIN, 0, 8)).isEqualTo(new byte[8 * BLOCK]);
        assertThat(status(THIN, 0)).startsWith(new Status(0, 32, 0));
        assertThat(initiator.send(THIN, writeSame16(8, 8, 0x09)).good()).isTrue();
        assertThat(status(THIN, 0)).startsWith(new Status(0, 8, 0), new Status(8, 8, 1), new Status(16, 16, 0));
        // WRITE SAME(10) has no NDOB: bit 0 is refused
        assertThat(initiator.sendOut(THIN, writeSame10(0, 1, 0x01), new byte[BLOCK]).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void writeSameDataOutMustBeExactlyOneBlock() {
        byte[] data = write(THIN, 0, 4, 7);
        for (int edtl : new int[]{0, BLOCK / 2, BLOCK + 1, 2 * BLOCK}) {
            Initiator.Result r = initiator.sendOut(THIN, writeSame10(0, 4, 0x08), pattern(1), edtl);
            assertThat(r.senseCode()).as("EDTL %d", edtl).isEqualTo(0x050E03);
            r = initiator.sendOut(THIN, writeSame16(0, 4, 0), pattern(1), edtl);
            assertThat(r.senseCode()).as("EDTL %d", edtl).isEqualTo(0x050E03);
        }
        assertThat(read(THIN, 0, 4)).isEqualTo(data);
    }

    @Test
    void writeSameRefusesAnchorLbdataPbdataAndWrprotect() {
        for (int bit : new int[]{1, 2, 4, 5, 6, 7}) {
            Initiator.Result r = initiator.sendOut(THIN, writeSame10(0, 1, 0x08 | (1 << bit)), new byte[BLOCK]);
            assertThat(r.senseCode()).as("bit %d", bit).isEqualTo(0x052400);
            assertThat(r.sense()[15] & 0x07).as("bit pointer").isEqualTo(bit);
            assertThat(initiator.sendOut(THIN, writeSame16(0, 1, 1 << bit), new byte[BLOCK]).senseCode())
                    .isEqualTo(0x052400);
        }
    }

    // ------------------------------------------------------------------ GET LBA STATUS

    @Test
    void getLbaStatusStartsAtTheRequestedLbaAndFillsTheAllocationLength() {
        write(THIN, 100, 50, 8);
        assertThat(status(THIN, 120)).containsExactly(new Status(120, 30, 0), new Status(150, BLOCKS - 150, 1));
        assertThat(status(THIN, 0)).containsExactly(new Status(0, 100, 1), new Status(100, 50, 0),
                new Status(150, BLOCKS - 150, 1));
        assertThat(status(THIN, BLOCKS - 1)).containsExactly(new Status(BLOCKS - 1, 1, 1));

        Initiator.Result one = initiator.send(THIN, getLbaStatus(0, 24));
        assertThat(one.dataLength()).isEqualTo(24);
        assertThat(u32(one.data(), 0)).as("PARAMETER DATA LENGTH of what was prepared").isEqualTo(20);
        // Room for two descriptors and a bit: two are prepared (the device may return less than asked).
        assertThat(initiator.send(THIN, getLbaStatus(0, 8 + 16 * 2 + 5)).dataLength()).isEqualTo(8 + 32);
        assertThat(initiator.send(THIN, getLbaStatus(0, 4)).dataLength()).isEqualTo(4);

        for (long lba : new long[]{BLOCKS, BLOCKS + 1, 0x8000000000000000L, -1L}) {
            assertThat(initiator.send(THIN, getLbaStatus(lba, 24)).senseCode()).as("LBA %x", lba).isEqualTo(0x052100);
        }
        byte[] reportType = getLbaStatus(0, 24);
        reportType[14] = 1;
        assertThat(initiator.send(THIN, reportType).senseCode()).isEqualTo(0x052400);
    }

    // ------------------------------------------------------------------ a real sparse file

    @Test
    void fileBackedLuReportsItsHolesAndPunchesWholeFileSystemBlocks(@TempDir Path dir) throws Exception {
        FileBlockDevice file = FileBlockDevice.open(dir.resolve("lun.img"), BLOCKS * BLOCK, BLOCK, false);
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:file", List.of(new LunSpec(0, "f", file, false)));
        try {
            Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(0);
            byte[] limits = i.send(0, Cdb.inquiry(true, 0xB0, 255)).data();
            long granularity = u32(limits, 28);
            assertThat(granularity).as("file system block / 512").isEqualTo(file.deallocationGranularity() / BLOCK);
            assertThat(granularity).isGreaterThan(1);
            int g = (int) granularity;

            byte[] data = new byte[8 * g * BLOCK];
            new Random(9).nextBytes(data);
            assertThat(i.sendOut(0, Cdb.write16(0, 8L * g), data).good()).isTrue();
            assertThat(decode(i.send(0, getLbaStatus(0, 1024)).data()))
                    .startsWith(new Status(0, 8L * g, 0), new Status(8L * g, BLOCKS - 8L * g, 1));

            // Blocks g+1 .. 3g+1: [2g, 3g) is a whole file system block and becomes a hole; the
            // partial blocks on either side are zeroed in place and stay mapped.
            assertThat(i.sendOut(0, unmap(24, 0), unmapList(g + 1, 2L * g)).good()).isTrue();
            assertThat(decode(i.send(0, getLbaStatus(0, 1024)).data())).startsWith(
                    new Status(0, 2L * g, 0), new Status(2L * g, g, 1), new Status(3L * g, 5L * g, 0));
            byte[] back = i.send(0, Cdb.read16(0, 8L * g)).data();
            byte[] expected = data.clone();
            Arrays.fill(expected, (g + 1) * BLOCK, (3 * g + 1) * BLOCK, (byte) 0);
            assertThat(back).isEqualTo(expected);

            assertThat(i.sendOut(0, writeSame16(0, 8L * g, 0x08), pattern(0xEE)).good()).isTrue();
            assertThat(decode(i.send(0, getLbaStatus(0, 1024)).data()))
                    .containsExactly(new Status(0, BLOCKS, 1));
        } finally {
            t.close();
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] r = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }
}
