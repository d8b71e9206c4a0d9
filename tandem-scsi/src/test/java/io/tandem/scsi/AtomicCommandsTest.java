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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** COMPARE AND WRITE, ORWRITE(16) and WRITE ATOMIC(16) through the SCSI target. */
@Timeout(60)
class AtomicCommandsTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 2048;

    @TempDir
    Path dir;
    private ScsiTarget target;
    private final List<Initiator> initiators = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (target != null) {
            target.close();
        }
        for (Initiator i : initiators) {
            assertThat(i.port.duplicateEndings()).isZero();
        }
    }

    private BlockDevice device(String kind) throws Exception {
        return kind.equals("file") ? FileBlockDevice.open(dir.resolve("lun.img"), BLOCKS * BLOCK, BLOCK, false)
                : new MemoryBlockDevice(BLOCK, BLOCKS);
    }

    private Initiator start(BlockDevice device) {
        target = new ScsiTarget("iqn.2025-01.io.tandem:atomic", List.of(
                new LunSpec(0, "lun0", device, false),
                new LunSpec(1, "ro", new MemoryBlockDevice(BLOCK, 64), true)));
        return initiator("iqn.2025-01.test:a", 1);
    }

    private Initiator initiator(String name, int port) {
        Initiator i = new Initiator(target, name, port).login(0, 1);
        initiators.add(i);
        return i;
    }

    static byte[] caw(long lba, int blocks, int flags) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x89;
        c[1] = (byte) flags;
        Cdb.put64(c, 2, lba);
        c[13] = (byte) blocks;
        return c;
    }

    static byte[] orWrite(long lba, long blocks) {
        return Cdb.rw16(0x8B, lba, blocks, 0);
    }

    static byte[] writeAtomic(long lba, int blocks, int flags) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x9C;
        c[1] = (byte) flags;
        Cdb.put64(c, 2, lba);
        Cdb.put16(c, 12, blocks);
        return c;
    }

    private static byte[] fill(int blocks, int value) {
        byte[] b = new byte[blocks * BLOCK];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static long information(Initiator.Result r) {
        byte[] s = r.sense();
        assertThat(s[0] & 0x80).as("VALID").isEqualTo(0x80);
        return ByteBuffer.wrap(s, 3, 4).getInt() & 0xFFFFFFFFL;
    }

    // ---------------------------------------------------------------- COMPARE AND WRITE

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void compareAndWriteReplacesMatchingBlocks(String kind) throws Exception {
        Initiator a = start(device(kind));
        assertThat(a.sendOut(0, Cdb.write16(100, 3), fill(3, 'A')).good()).isTrue();
        assertThat(a.sendOut(0, caw(100, 3, 0), concat(fill(3, 'A'), fill(3, 'B'))).good()).isTrue();
        assertThat(a.send(0, Cdb.read16(100, 3)).data()).containsOnly('B');
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void miscompareReportsTheFirstDifferingByteAndWritesNothing(String kind) throws Exception {
        Initiator a = start(device(kind));
        a.sendOut(0, Cdb.write16(BLOCKS - 2, 2), fill(2, 'A'));
        byte[] verify = fill(2, 'A');
        verify[2 * BLOCK - 27] = 'C';
        Initiator.Result r = a.sendOut(0, caw(BLOCKS - 2, 2, 0), concat(verify, fill(2, 'B')));
        assertThat(r.senseCode()).isEqualTo(0x0E1D00);
        assertThat(information(r)).isEqualTo(2 * BLOCK - 27);
        assertThat(a.send(0, Cdb.read16(BLOCKS - 2, 2)).data()).containsOnly('A');
    }

    @Test
    void dataOutOtherThanTwiceTheBlocksIsRefusedWithoutWriting() throws Exception {
        Initiator a = start(device("memory"));
        a.sendOut(0, Cdb.write16(0, 4), fill(4, 'A'));
        // Too much: the CDB says one block (two in the Data-Out), the initiator sends four.
        assertThat(a.sendOut(0, caw(0, 1, 0), concat(fill(2, 'A'), fill(2, 'B'))).senseCode()).isEqualTo(0x052400);
        // Too little: three blocks (six in the Data-Out), four sent.
        assertThat(a.sendOut(0, caw(0, 3, 0), concat(fill(2, 'A'), fill(2, 'B'))).senseCode()).isEqualTo(0x052400);
        // NUMBER OF LOGICAL BLOCKS 0 with data: also a mismatch.
        assertThat(a.sendOut(0, caw(0, 0, 0), fill(2, 'A')).senseCode()).isEqualTo(0x052400);
        assertThat(a.send(0, Cdb.read16(0, 4)).data()).containsOnly('A');
        assertThat(a.send(0, caw(0, 0, 0), 0).good()).as("zero blocks, no data").isTrue();
    }

    @Test
    void compareAndWriteHonoursFuaAndWriteProtection() throws Exception {
        GatedBlockDevice gated = new GatedBlockDevice(new MemoryBlockDevice(BLOCK, BLOCKS));
        Initiator a = start(gated);
        a.sendOut(0, caw(7, 1, 0x08), concat(fill(1, 0), fill(1, 1)));
        assertThat(gated.writeFuaFlags).containsExactly(true);
        assertThat(a.sendOut(1, caw(0, 1, 0), concat(fill(1, 0), fill(1, 1))).senseCode()).isEqualTo(0x072700);
        byte[] limits = a.send(0, Cdb.inquiry(true, 0xB0, 64)).data();
        assertThat(limits[5] & 0xFF).as("MAXIMUM COMPARE AND WRITE LENGTH").isEqualTo(255);
    }

    /**
     * Two I_T nexuses race COMPARE AND WRITE on one block, each swapping the value it read for the
     * next one: every success must be a distinct increment, so the block ends at the number of
     * successes and each round has exactly one winner among the contenders.
     */
    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void concurrentCompareAndWritesFromTwoNexusesAreAtomic(String kind) throws Exception {
        Initiator a = start(device(kind));
        Initiator b = initiator("iqn.2025-01.test:b", 2);
        a.sendOut(0, Cdb.write16(9, 1), fill(1, 0));
        int rounds = 200;
        AtomicInteger wins = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(2);
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (Initiator i : List.of(a, b)) {
            Thread.ofVirtual().start(() -> {
                try {
                    for (int n = 0; n < rounds; n++) {
                        byte[] current = i.send(0, Cdb.read16(9, 1)).data();
                        byte[] next = current.clone();
                        ByteBuffer.wrap(next).putLong(0, ByteBuffer.wrap(current).getLong(0) + 1);
                        Initiator.Result r = i.sendOut(0, caw(9, 1, 0), concat(current, next));
                        if (r.good()) {
                            wins.incrementAndGet();
                        } else {
                            assertThat(r.senseCode()).isEqualTo(0x0E1D00);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    done.countDown();
                }
            });
        }
        assertThat(done.await(50, TimeUnit.SECONDS)).isTrue();
        assertThat(errors).isEmpty();
        long value = ByteBuffer.wrap(a.send(0, Cdb.read16(9, 1)).data()).getLong(0);
        assertThat(value).isEqualTo(wins.get());
        assertThat(wins.get()).isGreaterThanOrEqualTo(rounds); // at least one of each racing pair wins
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void ofManySimultaneousCompareAndWritesOfOneOldValueExactlyOneSucceeds(String kind) throws Exception {
        Initiator first = start(device(kind));
        List<Initiator> all = new ArrayList<>(List.of(first));
        for (int i = 2; i <= 6; i++) {
            all.add(initiator("iqn.2025-01.test:n" + i, i));
        }
        for (int round = 0; round < 30; round++) {
            first.sendOut(0, Cdb.write16(3, 1), fill(1, 0));
            List<ScsiTask> tasks = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                tasks.add(all.get(i).task(0, caw(3, 1, 0), 2 * BLOCK, concat(fill(1, 0), fill(1, i + 1)), TaskAttribute.SIMPLE));
            }
            tasks.parallelStream().forEach(t -> target.submit(t));
            int winners = 0;
            for (int i = 0; i < tasks.size(); i++) {
                Initiator.Result r = all.get(i).result(tasks.get(i));
                if (r.good()) {
                    winners++;
                } else {
                    assertThat(r.senseCode()).isEqualTo(0x0E1D00);
                    assertThat(information(r)).isZero();
                }
            }
            assertThat(winners).as("round %d", round).isEqualTo(1);
        }
    }

    // ---------------------------------------------------------------- ORWRITE

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void orWriteMergesBitsIntoTheMedium(String kind) throws Exception {
        Initiator a = start(device(kind));
        a.sendOut(0, Cdb.write16(20, 4), fill(4, 0));
        assertThat(a.sendOut(0, orWrite(20, 4), fill(4, 0xA5)).good()).isTrue();
        assertThat(a.send(0, Cdb.read16(20, 4)).data()).containsOnly((byte) 0xA5);
        assertThat(a.sendOut(0, orWrite(21, 2), fill(2, 0x5A)).good()).isTrue();
        byte[] after = a.send(0, Cdb.read16(20, 4)).data();
        assertThat(Arrays.copyOfRange(after, BLOCK, 3 * BLOCK)).containsOnly((byte) 0xFF);
        assertThat(Arrays.copyOfRange(after, 0, BLOCK)).containsOnly((byte) 0xA5);
        assertThat(a.send(0, orWrite(0, 0)).good()).isTrue();
        assertThat(a.send(0, orWrite(BLOCKS + 1, 0)).senseCode()).isEqualTo(0x052100);
        assertThat(a.sendOut(1, orWrite(0, 1), fill(1, 1)).senseCode()).isEqualTo(0x072700);
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void concurrentOrWritesOfDifferentBitsLoseNone(String kind) throws Exception {
        Initiator a = start(device(kind));
        List<Initiator> all = new ArrayList<>(List.of(a));
        for (int i = 2; i <= 8; i++) {
            all.add(initiator("iqn.2025-01.test:or" + i, i));
        }
        for (int round = 0; round < 40; round++) {
            a.sendOut(0, Cdb.write16(50, 8), fill(8, 0));
            List<ScsiTask> tasks = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                tasks.add(all.get(i).task(0, orWrite(50, 8), 8 * BLOCK, fill(8, 1 << i), TaskAttribute.SIMPLE));
            }
            tasks.parallelStream().forEach(t -> target.submit(t));
            for (int i = 0; i < tasks.size(); i++) {
                assertThat(all.get(i).result(tasks.get(i)).good()).isTrue();
            }
            assertThat(a.send(0, Cdb.read16(50, 8)).data()).as("round %d", round).containsOnly((byte) 0xFF);
        }
    }

    // ---------------------------------------------------------------- WRITE ATOMIC(16)

    @Test
    void writeAtomicLimitsFollowThePhysicalBlockAndAreEnforced() throws Exception {
        target = new ScsiTarget("iqn.2025-01.io.tandem:512e", List.of(
                new LunSpec(0, "lun0", new MemoryBlockDevice(BLOCK, BLOCKS), false, 4096),
                new LunSpec(1, "ro", new MemoryBlockDevice(BLOCK, 64), true, 4096)));
        Initiator a = initiator("iqn.2025-01.test:a", 1);
        byte[] limits = a.send(0, Cdb.inquiry(true, 0xB0, 64)).data();
        ByteBuffer bl = ByteBuffer.wrap(limits);
        int maxTransfer = bl.getInt(8);
        assertThat(bl.getInt(44)).as("MAXIMUM ATOMIC TRANSFER LENGTH").isEqualTo(maxTransfer);
        assertThat(bl.getInt(48)).as("ATOMIC ALIGNMENT: one 4 KiB physical block").isEqualTo(8);
        assertThat(bl.getInt(52)).as("ATOMIC TRANSFER LENGTH GRANULARITY").isEqualTo(8);
        assertThat(bl.getInt(56)).as("no atomic boundaries").isZero();
        assertThat(bl.getInt(60)).isZero();

        assertThat(a.sendOut(0, writeAtomic(16, 8, 0x08), fill(8, 'W')).good()).isTrue();
        assertThat(a.send(0, Cdb.read16(16, 8)).data()).containsOnly('W');
        Initiator.Result misaligned = a.sendOut(0, writeAtomic(4, 8, 0), fill(8, 'X'));
        assertThat(misaligned.senseCode()).isEqualTo(0x052400);
        assertThat(misaligned.sense()[17]).as("field pointer: LBA").isEqualTo((byte) 2);
        Initiator.Result partial = a.sendOut(0, writeAtomic(16, 4, 0), fill(4, 'X'));
        assertThat(partial.senseCode()).isEqualTo(0x052400);
        assertThat(partial.sense()[17]).as("field pointer: TRANSFER LENGTH").isEqualTo((byte) 12);
        byte[] boundary = writeAtomic(16, 8, 0);
        boundary[11] = 1; // ATOMIC BOUNDARY: not supported
        assertThat(a.sendOut(0, boundary, fill(8, 'X')).senseCode()).isEqualTo(0x052400);
        assertThat(a.send(0, Cdb.read16(16, 8)).data()).as("nothing refused was written").containsOnly('W');
        assertThat(a.send(0, writeAtomic(0, 0, 0)).good()).isTrue();
        assertThat(a.send(0, writeAtomic(BLOCKS + 8, 0, 0)).senseCode()).isEqualTo(0x052100);
        assertThat(a.sendOut(0, writeAtomic(BLOCKS - 8, 16, 0), fill(16, 'X')).senseCode()).isEqualTo(0x052100);
        assertThat(a.sendOut(1, writeAtomic(0, 8, 0), fill(8, 'X')).senseCode()).isEqualTo(0x072700);
    }

    @Test
    void lunsWhosePhysicalBlockIsTheLogicalOneHaveNoAtomicAlignmentConstraint() throws Exception {
        target = new ScsiTarget("iqn.2025-01.io.tandem:4k", List.of(
                new LunSpec(0, "l", new MemoryBlockDevice(4096, 64), false),
                new LunSpec(1, "m", new MemoryBlockDevice(512, 64), false)));
        Initiator a = new Initiator(target, "iqn.2025-01.test:a", 1).login(0, 1);
        initiators.add(a);
        for (int lun : new int[]{0, 1}) {
            ByteBuffer bl = ByteBuffer.wrap(a.send(lun, Cdb.inquiry(true, 0xB0, 64)).data());
            assertThat(bl.getInt(48)).isEqualTo(1);
            assertThat(bl.getInt(52)).isEqualTo(1);
        }
        assertThat(a.sendOut(0, writeAtomic(3, 1, 0), new byte[4096]).good()).isTrue();
        assertThat(a.sendOut(1, writeAtomic(3, 1, 0), new byte[512]).good()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "file"})
    void readersNeverSeeAnAtomicWriteTorn(String kind) throws Exception {
        Initiator writer = start(device(kind));
        Initiator reader = initiator("iqn.2025-01.test:reader", 2);
        int blocks = 256;
        writer.sendOut(0, writeAtomic(0, blocks, 0), fill(blocks, 0));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger torn = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        CompletableFuture<Void> readers = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                byte[] d = reader.send(0, Cdb.read16(0, blocks)).data();
                reads.incrementAndGet();
                for (byte x : d) {
                    if (x != d[0]) {
                        torn.incrementAndGet();
                        break;
                    }
                }
            }
        });
        for (int i = 0; i < 200; i++) {
            assertThat(writer.sendOut(0, writeAtomic(0, blocks, 0), fill(blocks, (i & 1) == 0 ? 0xFF : 0)).good()).isTrue();
        }
        stop.set(true);
        readers.get(20, TimeUnit.SECONDS);
        assertThat(reads.get()).isPositive();
        assertThat(torn.get()).isZero();
    }
}
