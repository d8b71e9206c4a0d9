package io.tandem.scsi;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.BlockDevice;
import io.tandem.storage.FileBlockDevice;
import io.tandem.storage.MemoryBlockDevice;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** EXTENDED COPY(LID1), RECEIVE COPY RESULTS and the Third-party Copy VPD page through the SCSI target. */
@Timeout(60)
class ExtendedCopyTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 4096;

    @TempDir
    Path dir;
    private ScsiTarget target;
    private Initiator a;
    private GatedBlockDevice gated;

    @AfterEach
    void tearDown() {
        if (gated != null) {
            gated.open();
        }
        if (target != null) {
            target.close();
        }
        if (a != null) {
            assertThat(a.port.duplicateEndings()).isZero();
        }
    }

    /** LUN 0 and 1 writable (memory or file), LUN 2 read-only, LUN 3 with 4 KiB blocks. */
    private void start(String kind) throws Exception {
        BlockDevice lun0;
        BlockDevice lun1;
        if (kind.equals("file")) {
            lun0 = FileBlockDevice.open(dir.resolve("l0.img"), BLOCKS * BLOCK, BLOCK, false);
            lun1 = FileBlockDevice.open(dir.resolve("l1.img"), BLOCKS * BLOCK, BLOCK, false);
        } else {
            gated = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, BLOCKS));
            lun0 = gated;
            lun1 = new MemoryBlockDevice(BLOCK, BLOCKS);
        }
        target = new ScsiTarget("iqn.2025-01.io.tandem:xcopy", List.of(
                new LunSpec(0, "lun0", lun0, false),
                new LunSpec(1, "lun1", lun1, false),
                new LunSpec(2, "ro", new MemoryBlockDevice(BLOCK, 64), true),
                new LunSpec(3, "big", new MemoryBlockDevice(4096, 64), false)));
        a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0, 1, 2, 3);
    }

    private byte[] naa(int lun) {
        return target.logicalUnit(lun).identity().naa();
    }

    private Initiator.Result xcopy(int lun, byte[] list) {
        return a.sendOut(lun, XcopyList.cdb(list.length), list);
    }

    private static byte[] random(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static int fieldPointer(Initiator.Result r) {
        return ((r.sense()[16] & 0xFF) << 8) | (r.sense()[17] & 0xFF);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void copiesBetweenTwoLunsAndWithinOne(String kind) throws Exception {
        start(kind);
        byte[] data = random(300 * BLOCK, 1);
        a.sendOut(0, Cdb.write16(10, 300), data);
        byte[] list = new XcopyList().identification(naa(0), BLOCK).identification(naa(1), BLOCK)
                .blockToBlock(0, 1, 300, 10, 2000)      // LUN 0 -> LUN 1
                .blockToBlock(1, 1, 100, 2000, 3000)    // within LUN 1
                .blockToBlock(0, 0, 50, 10, BLOCKS - 50) // within LUN 0, to its end
                .build();
        assertThat(xcopy(1, list).good()).as("sent to the copy manager of LUN 1").isTrue();
        assertThat(a.send(1, Cdb.read16(2000, 300)).data()).isEqualTo(data);
        assertThat(a.send(1, Cdb.read16(3000, 100)).data()).isEqualTo(Arrays.copyOf(data, 100 * BLOCK));
        assertThat(a.send(0, Cdb.read16(BLOCKS - 50, 50)).data()).isEqualTo(Arrays.copyOf(data, 50 * BLOCK));
        assertThat(a.send(1, Cdb.read16(1999, 1)).data()).as("nothing before the range").containsOnly(0);
    }

    @Test
    void anEmptyParameterListIsNotAnError() throws Exception {
        start("memory");
        assertThat(a.send(0, XcopyList.cdb(0), 0).good()).isTrue();
    }

    @Test
    void headerAndDescriptorErrorsAreReportedBeforeAnythingIsCopied() throws Exception {
        start("memory");
        a.sendOut(0, Cdb.write16(0, 8), random(8 * BLOCK, 2));
        XcopyList valid = new XcopyList().identification(naa(0), BLOCK).blockToBlock(0, 0, 8, 0, 100);
        byte[] list = valid.build();
        // Truncated: the header promises more descriptor bytes than the parameter list holds.
        assertThat(xcopy(0, Arrays.copyOf(list, 16 + 31)).senseCode()).isEqualTo(0x051A00);
        assertThat(xcopy(0, Arrays.copyOf(list, list.length - 1)).senseCode()).isEqualTo(0x051A00);
        assertThat(xcopy(0, Arrays.copyOf(list, 10)).senseCode()).isEqualTo(0x051A00);
        // Longer than any valid list: refused without taking it all in.
        Initiator.Result huge = a.sendOut(0, XcopyList.cdb(1 << 30), Arrays.copyOf(list, 4096), 1 << 30);
        assertThat(huge.senseCode()).isEqualTo(0x051A00);
        assertThat(huge.task().commandDataOutLength()).isLessThanOrEqualTo(16 + 16 * 32 + 64 * 28 + 1);
        // LIST ID USAGE 01b is reserved; 11b (no list identifier) needs LIST IDENTIFIER 0.
        byte[] reserved = list.clone();
        reserved[1] = 0x08;
        assertThat(xcopy(0, reserved).senseCode()).isEqualTo(0x052600);
        byte[] noList = list.clone();
        noList[1] = 0x18;
        assertThat(xcopy(0, noList).senseCode()).isEqualTo(0x052600);
        byte[] unlisted = new XcopyList().listId(0, 0b11).identification(naa(0), BLOCK).blockToBlock(0, 0, 8, 0, 200).build();
        assertThat(xcopy(0, unlisted).good()).isTrue();
        assertThat(a.send(0, Cdb.read16(200, 8)).data()).isEqualTo(a.send(0, Cdb.read16(0, 8)).data());
        // Unsupported descriptor types.
        byte[] fibreChannel = new byte[32];
        fibreChannel[0] = (byte) 0xE0;
        Initiator.Result r = xcopy(0, new XcopyList().rawCscd(fibreChannel).blockToBlock(0, 0, 1, 0, 1).build());
        assertThat(r.senseCode()).isEqualTo(0x052607);
        assertThat(fieldPointer(r)).isEqualTo(16);
        byte[] streamToStream = new byte[20];
        streamToStream[0] = 0x00;
        streamToStream[3] = 0x10;
        r = xcopy(0, new XcopyList().identification(naa(0), BLOCK).rawSegment(streamToStream).build());
        assertThat(r.senseCode()).isEqualTo(0x052609);
        assertThat(fieldPointer(r)).isEqualTo(48);
        assertThat(a.send(0, Cdb.read16(100, 8)).data()).as("nothing was copied").containsOnly(0);
    }

    @Test
    void descriptorLimitsMatchTheOperatingParameters() throws Exception {
        start("memory");
        byte[] op = a.send(0, XcopyList.receiveCopyResults(0x03, 0, 1024)).data();
        ByteBuffer p = ByteBuffer.wrap(op);
        int maxCscds = p.getShort(8);
        int maxSegments = p.getShort(10);
        int maxListLength = p.getInt(12);
        assertThat(p.getInt(0)).isEqualTo(op.length - 4);
        assertThat(op[43]).isEqualTo((byte) 2);
        assertThat(Arrays.copyOfRange(op, 44, 46)).containsExactly(0x02, 0xE4);

        XcopyList tooManyCscds = new XcopyList();
        for (int i = 0; i <= maxCscds; i++) {
            tooManyCscds.identification(naa(0), BLOCK);
        }
        assertThat(xcopy(0, tooManyCscds.blockToBlock(0, 0, 1, 0, 1).build()).senseCode()).isEqualTo(0x052606);
        XcopyList atLimit = new XcopyList();
        for (int i = 0; i < maxCscds; i++) {
            atLimit.identification(naa(0), BLOCK);
        }
        assertThat(xcopy(0, atLimit.blockToBlock(maxCscds - 1, 0, 1, 0, 1).build()).good()).isTrue();

        XcopyList tooManySegments = new XcopyList().identification(naa(0), BLOCK);
        for (int i = 0; i <= maxSegments; i++) {
            tooManySegments.blockToBlock(0, 0, 1, 0, 1);
        }
        assertThat(xcopy(0, tooManySegments.build()).senseCode()).isEqualTo(0x052608);
        XcopyList segmentsAtLimit = new XcopyList().identification(naa(0), BLOCK);
        for (int i = 0; i < maxSegments; i++) {
            segmentsAtLimit.blockToBlock(0, 0, 1, i, i + 1000);
        }
        assertThat(xcopy(0, segmentsAtLimit.build()).good()).isTrue();

        XcopyList tooLong = new XcopyList();
        for (int i = 0; i <= maxCscds; i++) {
            tooLong.identification(naa(0), BLOCK);
        }
        while (tooLong.cscdBytes() + (maxSegments + 1) * 28 <= maxListLength) {
            tooLong.identification(naa(0), BLOCK);
        }
        for (int i = 0; i <= maxSegments; i++) {
            tooLong.blockToBlock(0, 0, 1, 0, 1);
        }
        assertThat(xcopy(0, tooLong.build()).senseCode()).as("longer than MAXIMUM DESCRIPTOR LIST LENGTH").isEqualTo(0x051A00);
    }

    @Test
    void segmentsThatCannotBeCarriedOutAbortTheCopyPointingAtTheSegment() throws Exception {
        start("memory");
        byte[] data = random(4 * BLOCK, 3);
        a.sendOut(0, Cdb.write16(0, 4), data);
        // The second segment runs past the end: the first must not have been copied either.
        byte[] list = new XcopyList().identification(naa(0), BLOCK).identification(naa(1), BLOCK)
                .blockToBlock(0, 1, 4, 0, 100)
                .blockToBlock(0, 1, 4, 0, BLOCKS - 1).build();
        Initiator.Result r = xcopy(0, list);
        assertThat(r.senseCode()).isEqualTo(0x0A0D02);
        assertThat(fieldPointer(r)).as("SEGMENT POINTER: second segment").isEqualTo(16 + 64 + 28);
        assertThat(a.send(1, Cdb.read16(100, 4)).data()).containsOnly(0);

        // A CSCD index past the list, and a designator naming no LU of this target.
        assertThat(xcopy(0, new XcopyList().identification(naa(0), BLOCK).blockToBlock(0, 1, 1, 0, 0).build())
                .senseCode()).isEqualTo(0x0A0D02);
        byte[] stranger = naa(0);
        stranger[15] ^= 1;
        assertThat(xcopy(0, new XcopyList().identification(stranger, BLOCK).blockToBlock(0, 0, 1, 0, 1).build())
                .senseCode()).isEqualTo(0x0A0D02);
        // A block length that is not the LU's, and copies between LUs of different block sizes.
        assertThat(xcopy(0, new XcopyList().identification(naa(0), 4096).blockToBlock(0, 0, 1, 0, 1).build())
                .senseCode()).isEqualTo(0x0A0D03);
        assertThat(xcopy(0, new XcopyList().identification(naa(0), BLOCK).identification(naa(3), 4096)
                .blockToBlock(0, 1, 8, 0, 0).build()).senseCode()).isEqualTo(0x0A0D03);
        // A read-only destination.
        assertThat(xcopy(0, new XcopyList().identification(naa(0), BLOCK).identification(naa(2), BLOCK)
                .blockToBlock(0, 1, 1, 0, 0).build()).senseCode()).isEqualTo(0x072700);
        // Zero blocks: valid, copies nothing.
        assertThat(xcopy(0, new XcopyList().identification(naa(0), BLOCK).blockToBlock(0, 0, 0, 0, 5).build())
                .good()).isTrue();
    }

    @Test
    void copyStatusAndFailureDetailsAreHeldPerListIdentifier() throws Exception {
        start("memory");
        a.sendOut(0, Cdb.write16(0, 16), random(16 * BLOCK, 4));
        assertThat(a.send(0, XcopyList.receiveCopyResults(0x00, 7, 64)).senseCode())
                .as("no such list").isEqualTo(0x052400);

        byte[] ok = new XcopyList().listId(7, 0b00).identification(naa(0), BLOCK)
                .blockToBlock(0, 0, 16, 0, 100).blockToBlock(0, 0, 4, 0, 200).build();
        assertThat(xcopy(0, ok).good()).isTrue();
        ByteBuffer status = ByteBuffer.wrap(a.send(0, XcopyList.receiveCopyResults(0x00, 7, 64)).data());
        assertThat(status.getInt(0)).isEqualTo(8);
        assertThat(status.get(4)).as("completed without errors").isEqualTo((byte) 0x01);
        assertThat(status.getShort(5)).as("segments processed").isEqualTo((short) 2);
        assertThat(status.get(7)).as("units: bytes").isZero();
        assertThat(status.getInt(8)).isEqualTo(20 * BLOCK);
        assertThat(a.send(0, XcopyList.receiveCopyResults(0x01, 7, 64)).senseCode())
                .as("reported results of a successful copy are dropped").isEqualTo(0x052400);

        byte[] failing = new XcopyList().listId(9, 0b00).identification(naa(0), BLOCK)
                .blockToBlock(0, 0, 4, BLOCKS, 0).build();
        assertThat(xcopy(0, failing).senseCode()).isEqualTo(0x0A0D02);
        status = ByteBuffer.wrap(a.send(0, XcopyList.receiveCopyResults(0x00, 9, 64)).data());
        assertThat(status.get(4)).as("completed with errors").isEqualTo((byte) 0x02);
        byte[] details = a.send(0, XcopyList.receiveCopyResults(0x04, 9, 256)).data();
        assertThat(details[56]).as("CHECK CONDITION").isEqualTo((byte) 0x02);
        int senseLength = ((details[58] & 0xFF) << 8) | (details[59] & 0xFF);
        assertThat(senseLength).isEqualTo(18);
        assertThat(details[60 + 2] & 0x0F).as("COPY ABORTED").isEqualTo(0x0A);
        assertThat(details[60 + 12] & 0xFF).isEqualTo(0x0D);
        assertThat(a.send(0, XcopyList.receiveCopyResults(0x04, 9, 256)).senseCode()).isEqualTo(0x052400);

        // LIST ID USAGE 10b: nothing held; results belong to the sending nexus only.
        assertThat(xcopy(0, new XcopyList().listId(11, 0b10).identification(naa(0), BLOCK)
                .blockToBlock(0, 0, 1, 0, 300).build()).good()).isTrue();
        assertThat(a.send(0, XcopyList.receiveCopyResults(0x00, 11, 64)).senseCode()).isEqualTo(0x052400);
        assertThat(xcopy(0, new XcopyList().listId(12, 0b00).identification(naa(0), BLOCK)
                .blockToBlock(0, 0, 1, 0, 300).build()).good()).isTrue();
        Initiator b = new Initiator(target, "iqn.2025-01.test:b", 2).login(0);
        assertThat(b.send(0, XcopyList.receiveCopyResults(0x00, 12, 64)).senseCode()).isEqualTo(0x052400);
        target.nexusRemoved(a.nexus);
        Initiator again = new Initiator(target, "iqn.2025-01.test:a", 1).login(0);
        assertThat(again.send(0, XcopyList.receiveCopyResults(0x00, 12, 64)).senseCode())
                .as("held results end with the nexus").isEqualTo(0x052400);
    }

    @Test
    void aListIdentifierInUseByARunningCopyIsRefused() throws Exception {
        start("memory");
        gated.close(true);
        byte[] list = new XcopyList().listId(5, 0b00).identification(naa(0), BLOCK).blockToBlock(0, 0, 8, 0, 64).build();
        ScsiTask running = a.task(0, XcopyList.cdb(list.length), list.length, list, TaskAttribute.SIMPLE);
        target.submit(running);
        gated.awaitStarted(1);
        ByteBuffer status = ByteBuffer.wrap(a.send(0, XcopyList.receiveCopyResults(0x00, 5, 64)).data());
        assertThat(status.get(4)).as("in progress").isZero();
        assertThat(xcopy(0, list).senseCode()).isEqualTo(0x050016);
        byte[] other = new XcopyList().listId(6, 0b00).identification(naa(0), BLOCK).blockToBlock(0, 0, 8, 0, 128).build();
        ScsiTask second = a.task(0, XcopyList.cdb(other.length), other.length, other, TaskAttribute.SIMPLE);
        target.submit(second);
        gated.open();
        assertThat(a.result(running).good()).isTrue();
        assertThat(a.result(second).good()).isTrue();
    }

    @Test
    void inquiryAdvertisesTheCopyManager() throws Exception {
        start("memory");
        byte[] standard = a.send(0, Cdb.inquiry(false, 0, 96)).data();
        assertThat(standard[5] & 0x08).as("3PC").isEqualTo(0x08);
        byte[] pages = a.send(0, Cdb.inquiry(true, 0x00, 255)).data();
        assertThat(Arrays.copyOfRange(pages, 4, pages.length)).contains((byte) 0x8F);
        byte[] page = a.send(0, Cdb.inquiry(true, 0x8F, 1024)).data();
        assertThat(page[1] & 0xFF).isEqualTo(0x8F);
        ByteBuffer p = ByteBuffer.wrap(page);
        assertThat(p.getShort(2) & 0xFFFF).isEqualTo(page.length - 4);
        List<Integer> types = new ArrayList<>();
        int maxCscds = -1;
        int maxSegments = -1;
        for (int o = 4; o < page.length; ) {
            int type = p.getShort(o) & 0xFFFF;
            int length = p.getShort(o + 2) & 0xFFFF;
            assertThat((length + 4) % 4).as("descriptor %04x padded", type).isZero();
            types.add(type);
            if (type == 0x0004) {
                maxCscds = p.getShort(o + 8);
                maxSegments = p.getShort(o + 10);
            }
            if (type == 0x0001) {
                int listLength = page[o + 4];
                byte[] commands = Arrays.copyOfRange(page, o + 5, o + 5 + listLength);
                assertThat(commands).startsWith((byte) 0x83, (byte) 1, (byte) 0);
            }
            o += 4 + length;
        }
        assertThat(types).containsExactly(0x0001, 0x0004, 0x0008, 0x000C, 0x8001);
        ByteBuffer op = ByteBuffer.wrap(a.send(0, XcopyList.receiveCopyResults(0x03, 0, 1024)).data());
        assertThat(maxCscds).isEqualTo(op.getShort(8));
        assertThat(maxSegments).isEqualTo(op.getShort(10));
    }
}
