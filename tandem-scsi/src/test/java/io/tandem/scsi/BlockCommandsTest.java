package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BlockCommandsTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 4096;
    private GatedBlockDevice device;
    private ScsiTarget target;
    private Initiator initiator;

    @BeforeEach
    void setUp() {
        device = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, BLOCKS));
        target = new ScsiTarget("iqn.2025-01.io.tandem:sbc", List.of(
                new LunSpec(0, "lun0", device, false),
                new LunSpec(1, "ro", new MemoryBlockDevice(BLOCK, 64), true)));
        initiator = new Initiator(target, "iqn.2025-01.test:init", 1).login(0, 1);
    }

    @AfterEach
    void tearDown() {
        target.close();
        assertThat(initiator.port.duplicateEndings()).isZero();
    }

    private static byte[] random(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Opcodes with a data phase sized by the transfer length, for the range-check matrix. */
    private Initiator.Result blockCommand(int opcode, long lba, long blocks) {
        byte[] cdb = switch (opcode) {
            case 0x28, 0x2A, 0x2E, 0x2F, 0x34, 0x35 -> Cdb.rw10(opcode, lba, (int) blocks, 0);
            case 0xA8, 0xAA, 0xAE, 0xAF -> Cdb.rw12(opcode, lba, blocks, 0);
            default -> Cdb.rw16(opcode, lba, blocks, 0);
        };
        boolean out = opcode == 0x2A || opcode == 0xAA || opcode == 0x8A || opcode == 0x2E || opcode == 0xAE || opcode == 0x8E;
        return out ? initiator.sendOut(0, cdb, new byte[(int) Math.min(blocks, 256) * BLOCK])
                : initiator.send(0, cdb);
    }

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(ints = {0x28, 0x2A, 0x2E, 0x2F, 0x34, 0x35, 0xA8, 0xAA, 0xAE, 0xAF, 0x88, 0x8A, 0x8E, 0x8F, 0x90, 0x91})
    void lbaRangeIsCheckedIncludingWrapAround(int opcode) {
        boolean sixteen = opcode >= 0x88 && opcode <= 0x91;
        for (int blocks = 1; blocks <= 256; blocks *= 2) {
            assertThat(blockCommand(opcode, BLOCKS - blocks, blocks).status())
                    .as("last %d blocks", blocks).isIn(ScsiResponse.GOOD, ScsiResponse.CONDITION_MET);
            assertThat(blockCommand(opcode, BLOCKS + 1 - blocks, blocks).senseCode()).isEqualTo(0x052100);
            assertThat(blockCommand(opcode, BLOCKS - 1, blocks + 1).senseCode()).isEqualTo(0x052100);
            assertThat(blockCommand(opcode, 0xFFFFFFFFL, blocks).senseCode()).isEqualTo(0x052100);
            assertThat(blockCommand(opcode, 0x80000000L, blocks).senseCode()).isEqualTo(0x052100);
            if (sixteen) {
                assertThat(blockCommand(opcode, -1L, blocks).senseCode()).isEqualTo(0x052100);
                assertThat(blockCommand(opcode, 0x8000000000000000L, blocks).senseCode()).isEqualTo(0x052100);
                assertThat(blockCommand(opcode, 1L << 55, blocks).senseCode()).isEqualTo(0x052100);
            }
        }
        // Zero blocks: no data, but an LBA past the end is still out of range.
        assertThat(blockCommand(opcode, 0, 0).status()).isIn(ScsiResponse.GOOD, ScsiResponse.CONDITION_MET);
        assertThat(blockCommand(opcode, BLOCKS + 1, 0).senseCode()).isEqualTo(0x052100);
        assertThat(blockCommand(opcode, 0xFFFFFFFFL, 0).senseCode()).isEqualTo(0x052100);
    }

    @Test
    void read6And_write6_useTwentyOneBitLbaAndZeroMeans256() {
        byte[] data = random(256 * BLOCK, 6);
        assertThat(initiator.sendOut(0, Cdb.write6(1000, 0), data).good()).isTrue();
        Initiator.Result r = initiator.send(0, Cdb.read6(1000, 0));
        assertThat(r.dataLength()).isEqualTo(256 * BLOCK);
        assertThat(r.data()).isEqualTo(data);
        assertThat(initiator.send(0, Cdb.read6(BLOCKS - 1, 2)).senseCode()).isEqualTo(0x052100);
        assertThat(initiator.send(0, Cdb.read6(0x1FFFFF, 1)).senseCode()).isEqualTo(0x052100);
    }

    @Test
    void transferLongerThanBlockLimitsIsInvalidField() {
        long max = 8L * 1024 * 1024 / BLOCK;
        ScsiTarget big = new ScsiTarget("iqn.2025-01.io.tandem:big", List.of(
                new LunSpec(0, "l", new MemoryBlockDevice(BLOCK, 4 * max), false)));
        Initiator i = new Initiator(big, "iqn.2025-01.test:init", 1).login(0);
        Initiator.Result r = i.send(0, Cdb.read16(0, max + 1));
        assertThat(r.senseCode()).isEqualTo(0x052400);
        assertThat(r.sense()[17]).isEqualTo((byte) 10);
        assertThat(i.send(0, Cdb.rw16(0x91, 0, max + 1, 0)).good()).as("SYNCHRONIZE CACHE has no limit").isTrue();
        big.close();
    }

    @Test
    void fuaReachesTheBackendAndDpoIsAccepted() {
        byte[] one = new byte[BLOCK];
        assertThat(initiator.sendOut(0, Cdb.rw10(0x2A, 0, 1, 0x08), one).good()).isTrue();
        assertThat(initiator.sendOut(0, Cdb.rw10(0x2A, 0, 1, 0x10), one).good()).isTrue();
        assertThat(initiator.sendOut(0, Cdb.rw16(0x8A, 0, 1, 0x18), one).good()).isTrue();
        assertThat(initiator.sendOut(0, Cdb.write6(0, 1), one).good()).isTrue();
        assertThat(device.writeFuaFlags).containsExactly(true, false, true, false);
        assertThat(initiator.send(0, Cdb.rw10(0x28, 0, 1, 0x18)).good()).isTrue();
        // RDPROTECT / WRPROTECT are refused: the LU has no protection information.
        assertThat(initiator.send(0, Cdb.rw10(0x28, 0, 1, 0x20)).senseCode()).isEqualTo(0x052400);
        assertThat(initiator.sendOut(0, Cdb.rw10(0x2A, 0, 1, 0x40), one).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void readOnlyLunRefusesWritesWithDataProtect() {
        assertThat(initiator.sendOut(1, Cdb.write10(0, 1), new byte[BLOCK]).senseCode()).isEqualTo(0x072700);
        assertThat(initiator.send(1, Cdb.read10(0, 1)).good()).isTrue();
        assertThat(initiator.send(1, Cdb.modeSense6(true, 0, 0x3F, 0, 255)).data()[2] & 0x80).isEqualTo(0x80);
    }

    @Test
    void writeDataOutLengthAndResidualCases() {
        // The CDB implies the Data-Out length the fabric reports residuals against.
        ScsiTask t = initiator.task(0, Cdb.write10(0, 2), 2 * BLOCK, new byte[2 * BLOCK], TaskAttribute.SIMPLE);
        target.submit(t);
        assertThat(initiator.result(t).good()).isTrue();
        assertThat(t.commandDataOutLength()).isEqualTo(2 * BLOCK);

        byte[] a = filled(4 * BLOCK, 'a');
        assertThat(initiator.sendOut(0, Cdb.write10(0, 4), a).good()).isTrue();
        byte[] b = filled(10000, 'b');

        // Underflow (EDTL 10000 > 1 block): one block is written.
        Initiator.Result under = initiator.sendOut(0, Cdb.write10(0, 1), b, 10000);
        assertThat(under.good()).isTrue();
        assertThat(under.task().commandDataOutLength()).isEqualTo(BLOCK);
        assertThat(read(0, 2)).isEqualTo(concat(filled(BLOCK, 'b'), filled(BLOCK, 'a')));

        // Overflow by whole blocks (2 blocks, EDTL 1 block): what was sent is written, nothing more.
        assertThat(initiator.sendOut(0, Cdb.write10(0, 4), a).good()).isTrue();
        Initiator.Result over = initiator.sendOut(0, Cdb.write10(0, 2), b, BLOCK);
        assertThat(over.good()).isTrue();
        assertThat(over.task().commandDataOutLength()).isEqualTo(2 * BLOCK);
        assertThat(read(0, 2)).isEqualTo(concat(filled(BLOCK, 'b'), filled(BLOCK, 'a')));

        // EDTL 0: nothing transferred, nothing written.
        assertThat(initiator.sendOut(0, Cdb.write10(0, 4), a).good()).isTrue();
        Initiator.Result none = initiator.sendOut(0, Cdb.write10(0, 1), new byte[0], 0);
        assertThat(none.good()).isTrue();
        assertThat(read(0, 1)).isEqualTo(filled(BLOCK, 'a'));

        // Overflow by a partial block (EDTL 200): refused, nothing written.
        Initiator.Result partial = initiator.sendOut(0, Cdb.write10(0, 1), b, 200);
        assertThat(partial.senseCode()).isEqualTo(0x050E03);
        assertThat(partial.task().commandDataOutLength()).isEqualTo(BLOCK);
        assertThat(read(0, 1)).isEqualTo(filled(BLOCK, 'a'));
    }

    @Test
    void readDataInIsTheWholeTransferWhateverTheExpectedLength() {
        // The fabric cuts data-in to its EDTL and reports the overflow; the core answers the CDB.
        assertThat(initiator.send(0, Cdb.read10(0, 1), 0).dataLength()).isEqualTo(BLOCK);
        assertThat(initiator.send(0, Cdb.read10(0, 2), BLOCK).dataLength()).isEqualTo(2 * BLOCK);
        assertThat(initiator.send(0, Cdb.read10(0, 0)).dataLength()).isZero();
    }

    private byte[] read(long lba, int blocks) {
        return initiator.send(0, Cdb.read10(lba, blocks)).data();
    }

    private static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    private static byte[] concat(byte[] x, byte[] y) {
        byte[] r = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }

    @Test
    void verifyComparesAndReportsTheFirstMismatchOffset() {
        byte[] data = random(8 * BLOCK, 8);
        assertThat(initiator.sendOut(0, Cdb.write10(40, 8), data).good()).isTrue();
        assertThat(initiator.sendOut(0, Cdb.rw10(0x2F, 40, 8, 0x02), data).good()).isTrue();
        byte[] changed = data.clone();
        changed[3 * BLOCK + 17] ^= 'X';
        Initiator.Result mis = initiator.sendOut(0, Cdb.rw10(0x2F, 40, 8, 0x02), changed);
        assertThat(mis.senseCode()).isEqualTo(0x0E1D00);
        assertThat(mis.sense()[0] & 0x80).as("VALID").isEqualTo(0x80);
        long info = ((mis.sense()[3] & 0xFFL) << 24) | ((mis.sense()[4] & 0xFF) << 16) | ((mis.sense()[5] & 0xFF) << 8)
                | (mis.sense()[6] & 0xFF);
        assertThat(info).isEqualTo(3 * BLOCK + 17);
        // BYTCHK=0: medium verification only, the Data-Out phase is absent.
        Initiator.Result noCompare = initiator.send(0, Cdb.rw16(0x8F, 40, 8, 0x10));
        assertThat(noCompare.good()).isTrue();
        assertThat(noCompare.task().commandDataOutLength()).isZero();
        // BYTCHK=11b: one block compared with every block.
        byte[] same = filled(BLOCK, 'z');
        assertThat(initiator.sendOut(0, Cdb.write10(60, 1), same).good()).isTrue();
        assertThat(initiator.sendOut(0, Cdb.write10(61, 1), same).good()).isTrue();
        Initiator.Result oneBlock = initiator.sendOut(0, Cdb.rw12(0xAF, 60, 2, 0x06), same);
        assertThat(oneBlock.good()).isTrue();
        assertThat(oneBlock.task().commandDataOutLength()).isEqualTo(BLOCK);
        assertThat(initiator.sendOut(0, Cdb.rw12(0xAF, 60, 3, 0x06), same).senseCode()).isEqualTo(0x0E1D00);
        // BYTCHK=10b is reserved.
        assertThat(initiator.send(0, Cdb.rw10(0x2F, 40, 1, 0x04)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void writeAndVerifyWritesThroughAndCompares() {
        byte[] data = random(4 * BLOCK, 9);
        assertThat(initiator.sendOut(0, Cdb.rw16(0x8E, 100, 4, 0x02), data).good()).isTrue();
        assertThat(read(100, 4)).isEqualTo(data);
        assertThat(device.writeFuaFlags).containsExactly(true);
        assertThat(initiator.sendOut(0, Cdb.rw10(0x2E, 100, 0, 0x02), new byte[0], 0).good()).isTrue();
        assertThat(initiator.send(0, Cdb.rw10(0x2E, 100, 1, 0x06)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void prefetchReportsConditionMetAndSynchronizeCacheFlushes() {
        assertThat(initiator.send(0, Cdb.rw10(0x34, 0, 16, 0)).status()).isEqualTo(ScsiResponse.CONDITION_MET);
        assertThat(initiator.send(0, Cdb.rw16(0x90, 0, 16, 0x02)).status()).isEqualTo(ScsiResponse.CONDITION_MET);
        assertThat(initiator.send(0, Cdb.rw10(0x35, 0, 0, 0)).good()).isTrue();
        assertThat(initiator.send(0, Cdb.rw16(0x91, 0, 0, 0x02)).good()).isTrue();
        assertThat(device.flushes.get()).isEqualTo(2);
    }

    @Test
    void readCapacity16ReportsPhysicalBlockExponentAndHonoursAllocationLength() {
        byte[] d = initiator.send(0, Cdb.readCapacity16(32)).data();
        assertThat(d).hasSize(32);
        assertThat(d[7] & 0xFF).isEqualTo(0xFF); // last LBA 4095
        assertThat(d[6]).isEqualTo((byte) 0x0F);
        assertThat(d[10]).isEqualTo((byte) 0x02);
        assertThat(d[13] & 0x0F).as("one logical block per physical block").isZero();
        for (int alloc = 0; alloc < 40; alloc++) {
            assertThat(initiator.send(0, Cdb.readCapacity16(alloc)).dataLength()).isEqualTo(Math.min(alloc, 32));
        }
    }

    @Test
    void a512eUnitReportsEightLogicalBlocksPerPhysicalBlock() {
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:e", List.of(
                new LunSpec(0, "l", new MemoryBlockDevice(512, 64), false, 4096)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(0);
        assertThat(i.send(0, Cdb.readCapacity16(32)).data()[13] & 0x0F).isEqualTo(3);
        t.close();
        assertThatThrownBy(() -> new LunSpec(0, "l", new MemoryBlockDevice(512, 64), false, 1536))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readCapacity10SaturatesForHugeUnits() {
        // 2^32 + 8 blocks of 4 KiB would not fit in memory; a sparse file is enough.
        // (Covered by the arithmetic: last LBA > FFFFFFFFh reports FFFFFFFFh.)
        ScsiTarget small = new ScsiTarget("iqn.2025-01.io.tandem:rc", List.of(
                new LunSpec(0, "l", new MemoryBlockDevice(4096, 16), false)));
        Initiator i = new Initiator(small, "iqn.2025-01.test:init", 1).login(0);
        assertThat(i.send(0, Cdb.readCapacity10()).data()).containsExactly(0, 0, 0, 15, 0, 0, 0x10, 0);
        byte[] pmiWithoutLba = Cdb.readCapacity10();
        pmiWithoutLba[5] = 1;
        assertThat(i.send(0, pmiWithoutLba).senseCode()).isEqualTo(0x052400);
        small.close();
    }

    @Test
    void aConfiguredPhysicalBlockSizeIsReportedAsTheExponent() {
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:phys", List.of(
                new LunSpec(0, "p", new MemoryBlockDevice(512, 64), false, 4096)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(0);
        assertThat(i.send(0, Cdb.readCapacity16(32)).data()[13] & 0x0F).isEqualTo(3);
        t.close();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> new LunSpec(0, "p", new MemoryBlockDevice(512, 64), false, 1536))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hugeFileBackedUnitSaturatesReadCapacity10(@TempDir Path dir) throws Exception {
        long blocks = 0x1_0000_0010L;
        FileBlockDevice file = FileBlockDevice.open(dir.resolve("huge.img"), blocks * 512, 512, false);
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:huge", List.of(new LunSpec(0, "h", file, false)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(0);
        assertThat(i.send(0, Cdb.readCapacity10()).data()).startsWith(0xFF, 0xFF, 0xFF, 0xFF);
        byte[] rc16 = i.send(0, Cdb.readCapacity16(32)).data();
        assertThat(Arrays.copyOf(rc16, 8)).containsExactly(0, 0, 0, 1, 0, 0, 0, 0x0F);
        byte[] data = random(BLOCK, 11);
        assertThat(i.sendOut(0, Cdb.write16(blocks - 1, 1), data).good()).isTrue();
        assertThat(i.send(0, Cdb.read16(blocks - 1, 1)).data()).isEqualTo(data);
        assertThat(i.send(0, Cdb.read16(blocks, 1)).senseCode()).isEqualTo(0x052100);
        t.close();
    }

    @Test
    void fileBackedDataSurvivesReopen(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("lun.img");
        byte[] data = random(64 * BLOCK, 12);
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:file", List.of(
                new LunSpec(0, "f", FileBlockDevice.open(path, 1024 * BLOCK, BLOCK, false), false)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(0);
        assertThat(i.sendOut(0, Cdb.rw12(0xAA, 500, 64, 0x08), data).good()).isTrue();
        t.close();
        ScsiTarget again = new ScsiTarget("iqn.2025-01.io.tandem:file", List.of(
                new LunSpec(0, "f", FileBlockDevice.open(path, 0, BLOCK, false), false)));
        Initiator j = new Initiator(again, "iqn.2025-01.test:init", 1).login(0);
        assertThat(j.send(0, Cdb.rw12(0xA8, 500, 64, 0)).data()).isEqualTo(data);
        again.close();
    }

    @Test
    void startStopUnitIsAcceptedButCannotEject() {
        assertThat(initiator.send(0, Cdb.of(0x1B, 0, 0, 0, 0x00, 0)).good()).isTrue();  // stop
        assertThat(initiator.send(0, Cdb.read10(0, 1)).good()).as("shared LU keeps serving").isTrue();
        assertThat(initiator.send(0, Cdb.of(0x1B, 1, 0, 0, 0x01, 0)).good()).isTrue();  // start, immed
        assertThat(initiator.send(0, Cdb.of(0x1B, 0, 0, 0, 0x30, 0)).good()).isTrue();  // standby power condition
        assertThat(initiator.send(0, Cdb.of(0x1B, 0, 0, 0, 0x02, 0)).senseCode()).isEqualTo(0x052400); // eject
        assertThat(initiator.send(0, Cdb.of(0x1B, 0, 0, 0, 0x40, 0)).senseCode()).isEqualTo(0x052400); // reserved
    }

    @Test
    void reportLunsListsUnitsAndEnforcesTheMinimumAllocation() {
        byte[] d = initiator.send(0, Cdb.reportLuns(0, 256)).data();
        assertThat(d).hasSize(8 + 16);
        assertThat(d[3]).isEqualTo((byte) 16);
        assertThat(d[8 + 1]).isEqualTo((byte) 0);
        assertThat(d[16 + 1]).isEqualTo((byte) 1);
        assertThat(initiator.send(0, Cdb.reportLuns(0, 15)).senseCode()).isEqualTo(0x052400);
        assertThat(initiator.send(0, Cdb.reportLuns(0, 16)).dataLength()).isEqualTo(16);
        assertThat(initiator.send(0, Cdb.reportLuns(1, 64)).data()).hasSize(8);
        assertThat(initiator.send(0, Cdb.reportLuns(3, 64)).senseCode()).isEqualTo(0x052400);
    }

    @Test
    void largeLunNumbersUseFlatAddressing() {
        ScsiTarget t = new ScsiTarget("iqn.2025-01.io.tandem:flat", List.of(
                new LunSpec(300, "l", new MemoryBlockDevice(BLOCK, 8), false)));
        Initiator i = new Initiator(t, "iqn.2025-01.test:init", 1).login(300);
        byte[] d = i.send(300, Cdb.reportLuns(0, 64)).data();
        assertThat(d[8] & 0xFF).isEqualTo(0x40 | 1);
        assertThat(d[9] & 0xFF).isEqualTo(300 & 0xFF);
        assertThat(i.send(300, Cdb.testUnitReady()).good()).isTrue();
        t.close();
    }
}
