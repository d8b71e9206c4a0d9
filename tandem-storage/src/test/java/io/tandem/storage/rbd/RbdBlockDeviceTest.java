package io.tandem.storage.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.ceph.IoCtx;
import io.tandem.ceph.Rados;
import io.tandem.ceph.RbdFeature;
import io.tandem.ceph.RbdImage;
import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.storage.ProvisioningExtent;
import io.tandem.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(CephClusterExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RbdBlockDeviceTest {

    private static final long MIB = 1 << 20;
    private static final long OBJECT = 4 * MIB;
    private static final int BLOCK = 4096;
    private static final long ACTIVE_ACTIVE = RbdFeature.mask(RbdFeature.LAYERING, RbdFeature.DEEP_FLATTEN);

    private static Rados admin;
    private static IoCtx adminIo;
    private final List<AutoCloseable> opened = new ArrayList<>();
    /** Images a test made besides {@link #name}, removed after it. */
    private final List<String> images = new ArrayList<>();
    private String name;
    private RbdBlockDevice device;

    @BeforeAll
    static void connect(CephCluster cluster) {
        admin = cluster.connect();
        adminIo = admin.ioContext(CephCluster.POOL);
    }

    @AfterAll
    static void disconnect() {
        adminIo.close();
        admin.close();
    }

    @BeforeEach
    void createImage(CephCluster cluster) throws IOException {
        name = "dev-" + UUID.randomUUID();
        RbdImage.create(adminIo, name, 64 * MIB, ACTIVE_ACTIVE, 22);
        device = openDevice(cluster, BLOCK, false);
    }

    @AfterEach
    void removeImage() throws Exception {
        for (AutoCloseable c : opened.reversed()) {
            c.close();
        }
        RbdImage.remove(adminIo, name);
        for (String other : images) {
            RbdImage.remove(adminIo, other);
        }
    }

    /** A device with its own RADOS client, as another node would have. */
    private RbdBlockDevice openDevice(CephCluster cluster, int blockSize, boolean readOnly) throws IOException {
        RbdBlockDevice d = RbdBlockDevice.open(settings(cluster), blockSize, readOnly);
        opened.add(d);
        return d;
    }

    private RbdSettings settings(CephCluster cluster) {
        return new RbdSettings(CephCluster.POOL, name, cluster.conf(), null, null);
    }

    private static ByteBuffer block(int value, boolean direct) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(BLOCK) : ByteBuffer.allocate(BLOCK);
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
        return b.flip();
    }

    private static ByteBuffer bytes(int length, int value) {
        ByteBuffer b = ByteBuffer.allocateDirect(length);
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
        return b.flip();
    }

    private byte[] read(RbdBlockDevice d, long lba, int blocks) {
        ByteBuffer dst = ByteBuffer.allocateDirect(blocks * d.blockSize());
        d.read(lba, dst).join();
        assertThat(dst.hasRemaining()).isFalse();
        byte[] out = new byte[dst.capacity()];
        dst.flip().get(out);
        return out;
    }

    private static StorageException.Kind failureKind(CompletableFuture<?> future) {
        try {
            future.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(StorageException.class);
            return ((StorageException) e.getCause()).kind();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void describesTheImage() {
        assertThat(device.blockSize()).isEqualTo(BLOCK);
        assertThat(device.blockCount()).isEqualTo(64 * MIB / BLOCK);
        assertThat(device.readOnly()).isFalse();
        assertThat(device.thinProvisioned()).isTrue();
        assertThat(device.deallocationGranularity()).isEqualTo(64 * 1024);
        assertThat(device.spec()).isEqualTo("rbd/" + name);
    }

    @Test
    void writesAndReadsDirectAndHeapBuffers() {
        ByteBuffer direct = block(0x21, true);
        device.write(10, direct, false).join();
        assertThat(direct.hasRemaining()).isFalse();
        ByteBuffer heap = block(0x42, false);
        device.write(11, heap, true).join();
        device.flush().join();
        assertThat(read(device, 10, 1)).containsOnly(0x21);
        ByteBuffer heapDst = ByteBuffer.allocate(BLOCK);
        device.read(11, heapDst).join();
        assertThat(heapDst.position()).isEqualTo(BLOCK);
        assertThat(heapDst.array()).containsOnly(0x42);
        assertThat(read(device, 12, 4)).containsOnly(0);
    }

    @Test
    void manyConcurrentWritesLandWhereAddressed() {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 512; i++) {
            writes.add(device.write(i * 7L, block(i, true), false));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        for (int i = 0; i < 512; i += 37) {
            assertThat(read(device, i * 7L, 1)).containsOnly((byte) i);
        }
    }

    @Test
    void rangesPastTheEndAreRefused() {
        assertThat(failureKind(device.write(device.blockCount(), block(1, true), false)))
                .isEqualTo(StorageException.Kind.OUT_OF_RANGE);
        assertThat(failureKind(device.read(device.blockCount() - 1, ByteBuffer.allocateDirect(2 * BLOCK))))
                .isEqualTo(StorageException.Kind.OUT_OF_RANGE);
        assertThat(failureKind(device.deallocate(device.blockCount() - 1, 2, false)))
                .isEqualTo(StorageException.Kind.OUT_OF_RANGE);
    }

    @Test
    void compareAndWriteInOneObject() {
        // the object does not exist yet: it compares as zeroes
        assertThat(device.compareAndWrite(3, block(0, false), block(7, false), false).join()).isEqualTo(-1);
        assertThat(read(device, 3, 1)).containsOnly(7);
        ByteBuffer expected = block(7, true);
        expected.put(100, (byte) 8);
        assertThat(device.compareAndWrite(3, expected, block(9, true), false).join()).isEqualTo(100);
        assertThat(read(device, 3, 1)).containsOnly(7);
        assertThat(device.compareAndWrite(3, block(7, true), block(9, true), true).join()).isEqualTo(-1);
        assertThat(read(device, 3, 1)).containsOnly(9);
        // a missing object and a wrong guess: nothing is created
        assertThat(device.compareAndWrite(OBJECT / BLOCK * 5, block(1, false), block(2, false), false).join()).isZero();
        assertThat(read(device, OBJECT / BLOCK * 5, 1)).containsOnly(0);
    }

    @Test
    void compareAndWriteAcrossAnObjectBoundary() {
        long lba = OBJECT / BLOCK - 1; // last block of object 0, first of object 1
        assertThat(device.compareAndWrite(lba, bytes(2 * BLOCK, 0), bytes(2 * BLOCK, 5), false).join()).isEqualTo(-1);
        assertThat(read(device, lba, 2)).containsOnly(5);
        ByteBuffer expected = bytes(2 * BLOCK, 5);
        expected.put(BLOCK + 10, (byte) 6); // differs in the second object
        assertThat(device.compareAndWrite(lba, expected, bytes(2 * BLOCK, 1), false).join()).isEqualTo(BLOCK + 10);
        assertThat(read(device, lba, 2)).containsOnly(5);
        assertThat(device.compareAndWrite(lba, bytes(2 * BLOCK, 5), bytes(2 * BLOCK, 1), false).join()).isEqualTo(-1);
        assertThat(read(device, lba, 2)).containsOnly(1);
        // no lock is left behind on either object
        assertThat(device.compareAndWrite(lba + 1, bytes(BLOCK, 1), bytes(BLOCK, 3), false).join()).isEqualTo(-1);
        assertThat(device.compareAndWrite(lba, bytes(BLOCK, 1), bytes(BLOCK, 3), false).join()).isEqualTo(-1);
    }

    /** Two nodes (separate RADOS clients) swap the same old value: exactly one wins, every round. */
    @Test
    void racingCompareAndWritesFromTwoClientsHaveOneWinner(CephCluster cluster) throws Exception {
        RbdBlockDevice other = openDevice(cluster, BLOCK, false);
        for (long lba : new long[] {20, OBJECT / BLOCK - 1}) {
            int blocks = lba == 20 ? 1 : 2; // one object, then straddling two
            for (int r = 0; r < 10; r++) {
                int round = r;
                ByteBuffer old = bytes(blocks * BLOCK, round);
                CountDownLatch go = new CountDownLatch(1);
                var first = CompletableFuture.supplyAsync(() -> {
                    await(go);
                    return device.compareAndWrite(lba, old.duplicate(), bytes(blocks * BLOCK, round + 1), false).join();
                });
                var second = CompletableFuture.supplyAsync(() -> {
                    await(go);
                    return other.compareAndWrite(lba, old.duplicate(), bytes(blocks * BLOCK, round + 1), false).join();
                });
                go.countDown();
                List<Long> results = List.of(first.get(60, TimeUnit.SECONDS), second.get(60, TimeUnit.SECONDS));
                assertThat(results).as("lba %d round %d", lba, round).containsOnlyOnce(-1L);
                assertThat(read(device, lba, blocks)).containsOnly((byte) (round + 1));
            }
        }
    }

    /** Increments by compare-and-write retry loops from two clients lose nothing. */
    @Test
    void concurrentIncrementsFromTwoClientsLoseNothing(CephCluster cluster) throws Exception {
        RbdBlockDevice other = openDevice(cluster, BLOCK, false);
        long lba = OBJECT / BLOCK - 1; // the counter straddles two objects: the locked path
        int perClient = 15;
        var a = CompletableFuture.runAsync(() -> increment(device, lba, perClient));
        var b = CompletableFuture.runAsync(() -> increment(other, lba, perClient));
        a.get(80, TimeUnit.SECONDS);
        b.get(80, TimeUnit.SECONDS);
        ByteBuffer value = ByteBuffer.wrap(read(device, lba, 2));
        assertThat(value.getLong(0)).isEqualTo(2L * perClient);
        assertThat(value.getLong(BLOCK + 8)).isEqualTo(2L * perClient);
    }

    /** The counter is written in both objects; each increment reads it and swaps it. */
    private static void increment(RbdBlockDevice d, long lba, int times) {
        for (int done = 0; done < times; ) {
            ByteBuffer current = ByteBuffer.allocateDirect(2 * BLOCK);
            d.read(lba, current).join();
            long n = current.getLong(0);
            ByteBuffer next = ByteBuffer.allocateDirect(2 * BLOCK);
            next.putLong(0, n + 1).putLong(BLOCK + 8, n + 1);
            if (d.compareAndWrite(lba, current.flip(), next, false).join() == -1) {
                done++;
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new CompletionException(e);
        }
    }

    @Test
    void updateAndWriteAtomic() {
        device.write(30, block(0x0f, true), false).join();
        boolean written = device.update(30, ByteBuffer.allocate(BLOCK), medium -> {
            for (int i = 0; i < medium.limit(); i++) {
                medium.put(i, (byte) (medium.get(i) | 0xf0));
            }
            return true;
        }, false).join();
        assertThat(written).isTrue();
        assertThat(read(device, 30, 1)).containsOnly(0xff);
        assertThat(device.update(30, ByteBuffer.allocate(BLOCK), medium -> false, false).join()).isFalse();
        assertThatThrownBy(() -> device.update(30, ByteBuffer.allocate(BLOCK), medium -> {
            throw new IllegalStateException("refused by the change");
        }, false).join()).cause().isInstanceOf(IllegalStateException.class).hasMessage("refused by the change");
        assertThat(read(device, 30, 1)).containsOnly(0xff);

        device.writeAtomic(31, block(0x33, true), false).join();
        long boundary = OBJECT / BLOCK - 1;
        device.writeAtomic(boundary, bytes(2 * BLOCK, 0x44), false).join();
        assertThat(read(device, 31, 1)).containsOnly(0x33);
        assertThat(read(device, boundary, 2)).containsOnly(0x44);
    }

    @Test
    void deallocationReadsBackZeroesForSmallRanges() throws Exception {
        device.write(40, bytes(8 * BLOCK, 0x77), false).join();
        device.deallocate(41, 1, false).join(); // 4 KiB: below librbd's discard granularity
        byte[] after = read(device, 40, 8);
        assertThat(java.util.Arrays.copyOfRange(after, 0, BLOCK)).containsOnly(0x77);
        assertThat(java.util.Arrays.copyOfRange(after, BLOCK, 2 * BLOCK)).containsOnly(0);
        assertThat(java.util.Arrays.copyOfRange(after, 2 * BLOCK, 8 * BLOCK)).containsOnly(0x77);
        device.writeZeroes(42, 2, false, true).join();
        assertThat(java.util.Arrays.copyOfRange(read(device, 40, 8), 2 * BLOCK, 4 * BLOCK)).containsOnly(0);
        // a whole object given back reads as zeroes too
        long object2 = 2 * OBJECT / BLOCK;
        device.write(object2 + 5, block(1, true), false).join();
        device.deallocate(object2, OBJECT / BLOCK, false).join();
        assertThat(read(device, object2 + 5, 1)).containsOnly(0);
    }

    @Test
    void provisioningStatusFollowsWrittenObjects() {
        long object3 = 3 * OBJECT / BLOCK;
        device.write(object3 + 2, block(1, true), false).join();
        List<ProvisioningExtent> extents = device.provisioningStatus(0, 16).join();
        assertThat(extents.getFirst()).isEqualTo(new ProvisioningExtent(0, object3, ProvisioningExtent.State.DEALLOCATED));
        assertThat(extents.get(1).lba()).isEqualTo(object3);
        assertThat(extents.get(1).state()).isEqualTo(ProvisioningExtent.State.MAPPED);
        assertThat(extents.get(1).end()).isGreaterThanOrEqualTo(object3 + 3);
        assertThat(extents.getLast().state()).isEqualTo(ProvisioningExtent.State.DEALLOCATED);
        assertThat(extents.getLast().end()).isEqualTo(device.blockCount());
        device.deallocate(object3, OBJECT / BLOCK, false).join();
        assertThat(device.provisioningStatus(object3, 4).join())
                .containsExactly(new ProvisioningExtent(object3, device.blockCount() - object3,
                        ProvisioningExtent.State.DEALLOCATED));
        assertThat(device.provisioningStatus(5, 1).join()).hasSize(1);
    }

    /**
     * An image of more objects than one diff iteration window (256 objects of 64 KiB) is described
     * to its end in one answer: libiscsi's Sanitize.BlockErase asks GET LBA STATUS with room for 15
     * descriptors and wants the whole LU covered.
     */
    @Test
    void provisioningStatusDescribesAnImageOfManyWindowsToItsEnd(CephCluster cluster) throws IOException {
        images.add(name);
        name = "dev-" + UUID.randomUUID();
        RbdImage.create(adminIo, name, 16 * MIB, ACTIVE_ACTIVE, 16);
        RbdBlockDevice many = openDevice(cluster, 512, false);
        long last = many.blockCount() - 1;
        ByteBuffer data = ByteBuffer.allocateDirect(512);
        many.write(1, data.duplicate(), false).join();
        many.write(last, data.duplicate(), false).join();
        List<ProvisioningExtent> extents = many.provisioningStatus(0, 15).join();
        assertThat(extents).extracting(ProvisioningExtent::state).containsExactly(
                ProvisioningExtent.State.MAPPED, ProvisioningExtent.State.DEALLOCATED, ProvisioningExtent.State.MAPPED);
        assertThat(extents.get(0).lba()).isZero();
        assertThat(extents.get(1).lba()).isEqualTo(extents.get(0).end());
        assertThat(extents.get(1).end()).isLessThanOrEqualTo(last);
        assertThat(extents.get(2).lba()).isEqualTo(extents.get(1).end());
        assertThat(extents.get(2).end()).isEqualTo(many.blockCount());
        many.deallocate(0, many.blockCount(), false).join();
        assertThat(many.provisioningStatus(0, 15).join())
                .containsExactly(new ProvisioningExtent(0, many.blockCount(), ProvisioningExtent.State.DEALLOCATED));
    }

    /** A huge sparse image is answered in parts: one call examines a bounded number of objects. */
    @Test
    void provisioningStatusOfAHugeSparseImageStopsAtItsScanBudget(CephCluster cluster) throws IOException {
        images.add(name);
        name = "dev-" + UUID.randomUUID();
        long objects = 2 * RbdBlockDevice.PROVISIONING_SCAN_OBJECTS;
        RbdImage.create(adminIo, name, objects * 4096, ACTIVE_ACTIVE, 12);
        RbdBlockDevice huge = openDevice(cluster, 512, false);
        long perObject = 4096 / 512;
        long budget = RbdBlockDevice.PROVISIONING_SCAN_OBJECTS * perObject;
        assertThat(huge.provisioningStatus(0, 15).join())
                .containsExactly(new ProvisioningExtent(0, budget, ProvisioningExtent.State.DEALLOCATED));
        assertThat(huge.provisioningStatus(budget, 15).join())
                .containsExactly(new ProvisioningExtent(budget, huge.blockCount() - budget, ProvisioningExtent.State.DEALLOCATED));
    }

    /** SANITIZE and file systems deallocate in chunks smaller than an object: the object is still given back. */
    @Test
    void deallocatingAnObjectInChunksGivesItBack() {
        long object4 = 4 * OBJECT / BLOCK;
        long perObject = OBJECT / BLOCK;
        device.write(object4 + 1, block(1, true), false).join();
        device.write(object4 + perObject - 1, block(1, true), false).join();
        long chunk = perObject / 4;
        for (long at = object4; at < object4 + perObject; at += chunk) {
            if (at == object4) {
                device.deallocate(at, chunk, false).join();
            } else {
                device.writeZeroes(at, chunk, true, false).join(); // as SANITIZE BLOCK ERASE does
            }
        }
        assertThat(device.provisioningStatus(object4, 4).join().getFirst())
                .isEqualTo(new ProvisioningExtent(object4, device.blockCount() - object4, ProvisioningExtent.State.DEALLOCATED));
        assertThat(read(device, object4 + perObject - 1, 1)).containsOnly(0);
        // data left in the object keeps it
        device.write(object4 + 1, block(1, true), false).join();
        device.deallocate(object4 + chunk, perObject - chunk, false).join();
        assertThat(device.provisioningStatus(object4, 4).join().getFirst().state()).isEqualTo(ProvisioningExtent.State.MAPPED);
        assertThat(read(device, object4 + 1, 1)).containsOnly(1);
    }

    @Test
    void writeSameRepeatsTheBlock() {
        ByteBuffer pattern = ByteBuffer.allocate(BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            pattern.put(i, (byte) i);
        }
        device.writeSame(50, 40, pattern, false, false).join();
        assertThat(pattern.remaining()).isEqualTo(BLOCK);
        byte[] data = read(device, 50, 40);
        for (int b = 0; b < 40; b++) {
            assertThat(java.util.Arrays.copyOfRange(data, b * BLOCK, (b + 1) * BLOCK)).isEqualTo(pattern.array());
        }
        device.writeSame(60, 10, ByteBuffer.allocate(BLOCK), true, false).join();
        assertThat(read(device, 58, 14)).startsWith(java.util.Arrays.copyOfRange(pattern.array(), 0, 16));
        assertThat(java.util.Arrays.copyOfRange(read(device, 60, 10), 0, 10 * BLOCK)).containsOnly(0);
    }

    @Test
    void aResizeIsSeenByAnotherClientThroughTheWatch(CephCluster cluster) throws Exception {
        RbdBlockDevice other = openDevice(cluster, BLOCK, false);
        LinkedBlockingQueue<Long> seen = new LinkedBlockingQueue<>();
        other.onCapacityChange(seen::add);
        device.resize(128 * MIB / BLOCK).join();
        assertThat(device.blockCount()).isEqualTo(128 * MIB / BLOCK);
        assertThat(seen.poll(30, TimeUnit.SECONDS)).isEqualTo(128 * MIB / BLOCK);
        assertThat(other.blockCount()).isEqualTo(128 * MIB / BLOCK);
        other.write(other.blockCount() - 1, block(3, true), false).join();
        // out of band, as an administrator would
        cluster.cli("rbd", "resize", "--size", "192M", CephCluster.POOL + "/" + name);
        assertThat(seen.poll(30, TimeUnit.SECONDS)).isEqualTo(192 * MIB / BLOCK);
        // idempotent on a node whose view is behind; shrinking is refused
        device.resize(192 * MIB / BLOCK).join();
        assertThat(failureKind(device.resize(10))).isEqualTo(StorageException.Kind.OUT_OF_RANGE);
    }

    @Test
    void imagesThatSerialiseWritersAreRefused(CephCluster cluster) throws IOException {
        String locked = "locked-" + UUID.randomUUID();
        RbdImage.create(adminIo, locked, 64 * MIB, RbdFeature.mask(RbdFeature.LAYERING, RbdFeature.EXCLUSIVE_LOCK,
                RbdFeature.OBJECT_MAP, RbdFeature.FAST_DIFF), 22);
        try {
            assertThatThrownBy(() -> RbdBlockDevice.open(
                    new RbdSettings(CephCluster.POOL, locked, cluster.conf(), null, null), BLOCK, false))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("exclusive-lock")
                    .hasMessageContaining("rbd feature disable rbd/" + locked + " fast-diff object-map exclusive-lock");
            // read-only access takes no lock: allowed
            try (RbdBlockDevice ro = RbdBlockDevice.open(
                    new RbdSettings(CephCluster.POOL, locked, cluster.conf(), null, null), BLOCK, true)) {
                assertThat(ro.readOnly()).isTrue();
                assertThat(failureKind(ro.write(0, block(1, true), false))).isEqualTo(StorageException.Kind.WRITE_PROTECTED);
            }
        } finally {
            RbdImage.remove(adminIo, locked);
        }
    }

    /**
     * The two librbd options Tandem's guarantees rest on win over ceph.conf and over the settings'
     * options, and a client connected some other way with either one wrong is refused by name.
     */
    @Test
    void theCacheAndZeroCopyWritesStayOffWhateverTheConfigurationSays(CephCluster cluster,
            @TempDir Path dir) throws Exception {
        Path conf = dir.resolve("ceph.conf");
        Files.writeString(conf, Files.readString(cluster.conf())
                + "\n[client]\n\trbd_cache = true\n\trbd_disable_zero_copy_writes = false\n");
        RbdSettings settings = new RbdSettings(CephCluster.POOL, name, conf, null, null,
                Map.of(RbdSettings.CACHE, "true", RbdSettings.NO_ZERO_COPY_WRITES, "false"));
        try (RbdBlockDevice d = RbdBlockDevice.open(settings, BLOCK, false)) {
            d.write(90, block(7, true), false).join();
        }
        assertThat(read(device, 90, 1)).containsOnly(7);

        for (var wrong : Map.of(RbdSettings.CACHE, "true", RbdSettings.NO_ZERO_COPY_WRITES, "false")
                .entrySet()) {
            try (Rados client = new RbdSettings(CephCluster.POOL, name, cluster.conf(), null, null).connect()) {
                client.set(wrong.getKey(), wrong.getValue());
                assertThatThrownBy(() -> RbdBlockDevice.open(client, CephCluster.POOL, name, BLOCK, false))
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining("rbd/" + name)
                        .hasMessageContaining(wrong.getKey() + "=" + wrong.getValue());
            }
        }
    }

    @Test
    void aMissingImageIsReported(CephCluster cluster) {
        assertThatThrownBy(() -> RbdBlockDevice.open(
                new RbdSettings(CephCluster.POOL, "no-such-image", cluster.conf(), null, null), BLOCK, false))
                .isInstanceOf(IOException.class).hasMessageContaining("rbd/no-such-image").hasMessageContaining("ENOENT");
    }

    @Test
    void aFencedClientsWritesAreRefused(CephCluster cluster) throws Exception {
        try (Rados victim = new RbdSettings(CephCluster.POOL, name, cluster.conf(), null, null).connect();
             RbdBlockDevice fenced = RbdBlockDevice.open(victim, CephCluster.POOL, name, BLOCK, false)) {
            fenced.write(70, block(1, true), false).join();
            assertThat(fenced.clientAddress()).isEqualTo(victim.addresses());
            admin.blocklistAdd(fenced.clientAddress(), 600);
            device.write(70, block(2, true), false).join(); // brings the OSD the new map
            assertThat(failureKind(fenced.write(70, block(3, true), false))).isEqualTo(StorageException.Kind.FENCED);
        }
        assertThat(read(device, 70, 1)).containsOnly(2);
    }

    @Test
    void aClosedDeviceRefusesCommands() throws Exception {
        device.close();
        device.close();
        assertThat(failureKind(device.read(0, ByteBuffer.allocateDirect(BLOCK)))).isEqualTo(StorageException.Kind.CLOSED);
        assertThat(failureKind(device.write(0, block(1, true), false))).isEqualTo(StorageException.Kind.CLOSED);
    }

    @Test
    void smallBlocksWork(CephCluster cluster) throws IOException {
        RbdBlockDevice small = openDevice(cluster, 512, false);
        assertThat(small.blockCount()).isEqualTo(64 * MIB / 512);
        ByteBuffer data = ByteBuffer.allocateDirect(512);
        data.put(0, (byte) 9).put(511, (byte) 9);
        small.write(1, data, false).join();
        ByteBuffer expected = ByteBuffer.allocateDirect(512).put(0, (byte) 9).put(511, (byte) 9);
        assertThat(small.compareAndWrite(1, expected, ByteBuffer.allocateDirect(512), false).join()).isEqualTo(-1);
        assertThat(read(small, 0, 3)).containsOnly(0);
        AtomicInteger changes = new AtomicInteger();
        small.onCapacityChange(n -> changes.incrementAndGet());
    }
}
