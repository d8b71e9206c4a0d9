package io.tandem.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(CephClusterExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RbdImageTest {

    private static final long MIB = 1 << 20;
    private static Rados rados;
    private static IoCtx io;
    private String name;
    private RbdImage image;

    @BeforeAll
    static void connect(CephCluster cluster) {
        rados = cluster.connect();
        io = rados.ioContext(CephCluster.POOL);
    }

    @AfterAll
    static void disconnect() {
        io.close();
        rados.close();
    }

    @BeforeEach
    void createImage() {
        name = "img-" + UUID.randomUUID();
        RbdImage.create(io, name, 64 * MIB, RbdFeature.mask(RbdFeature.LAYERING, RbdFeature.DEEP_FLATTEN), 22);
        image = RbdImage.open(io, name);
    }

    @AfterEach
    void removeImage() {
        image.close();
        RbdImage.remove(io, name);
    }

    private static MemorySegment filled(int length, int value) {
        MemorySegment s = Arena.ofAuto().allocate(length);
        s.fill((byte) value);
        return s;
    }

    private byte[] read(long offset, int length) {
        MemorySegment into = Arena.ofAuto().allocate(length);
        assertThat(image.readAsync(offset, into, 0).join()).isEqualTo(length);
        return into.toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void describesTheImage() {
        assertThat(RbdImage.libraryVersion()).startsWith("1.");
        RbdImage.Info info = image.stat();
        assertThat(info.size()).isEqualTo(64 * MIB);
        assertThat(info.objectSize()).isEqualTo(4 * MIB);
        assertThat(info.objectCount()).isEqualTo(16);
        assertThat(info.order()).isEqualTo(22);
        assertThat(info.blockNamePrefix()).isEqualTo(image.blockNamePrefix()).isEqualTo("rbd_data." + image.id());
        assertThat(RbdFeature.of(image.features())).containsExactly(RbdFeature.LAYERING, RbdFeature.DEEP_FLATTEN);
        assertThat(image.stripeCount()).isEqualTo(1);
        assertThat(image.stripeUnit()).isEqualTo(4 * MIB);
        assertThat(image.parentOverlap()).isZero();
        assertThat(image.dataPoolId()).isEqualTo(rados.poolId(CephCluster.POOL));
    }

    @Test
    void asynchronousWritesAndReadsRoundTrip() {
        assertThat(image.writeAsync(8192, filled(4096, 0x5a), RbdImage.OP_FLAG_FUA).join()).isZero();
        assertThat(image.flushAsync().join()).isZero();
        assertThat(read(8192, 4096)).containsOnly(0x5a);
        assertThat(read(0, 4096)).containsOnly(0);
        // the data lands in the data object the layout names
        String object = String.format("%s.%016x", image.blockNamePrefix(), 0);
        assertThat(io.read(object, 8192, 4)).containsOnly(0x5a);
    }

    @Test
    void manyWritesInFlightAllComplete() {
        List<CompletableFuture<Long>> writes = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            writes.add(image.writeAsync(i * 4096L, filled(4096, i), 0));
        }
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
        for (int i = 0; i < 256; i += 51) {
            assertThat(read(i * 4096L, 4096)).containsOnly((byte) i);
        }
        assertThat(LibRbd.completions.pendingCount()).isZero();
    }

    @Test
    void writeSameZeroesAndDiscard() {
        MemorySegment pattern = filled(512, 0x11);
        assertThat(image.writeSameAsync(MIB, 64 * 1024, pattern, 0).join()).isZero();
        assertThat(read(MIB, 64 * 1024)).containsOnly(0x11);
        assertThat(image.writeZeroesAsync(MIB + 4096, 4096, 0, 0).join()).isZero();
        assertThat(read(MIB + 4096, 4096)).containsOnly(0);
        assertThat(read(MIB, 4096)).containsOnly(0x11);
        // a discard smaller than rbd_discard_granularity_bytes (64 KiB) is skipped silently
        image.discardAsync(MIB + 8192, 4096).join();
        assertThat(read(MIB + 8192, 4096)).containsOnly(0x11);
        image.discardAsync(MIB, 64 * 1024).join();
        assertThat(read(MIB, 64 * 1024)).containsOnly(0);
    }

    @Test
    void errorsFailTheFutureWithTheErrno() {
        var past = image.writeAsync(64 * MIB, filled(4096, 1), 0);
        assertThatThrownBy(past::join).cause()
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errnoName()).isIn("EINVAL", "ERANGE"));
        // writesame with a length that is not a multiple of the pattern: refused before queueing
        var refused = image.writeSameAsync(0, 1000, filled(512, 1), 0);
        assertThatThrownBy(refused::join).cause()
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> RbdImage.open(io, "no-such-image"))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        assertThat(LibRbd.completions.pendingCount()).isZero();
    }

    @Test
    void aSecondClientSeesAResizeThroughTheUpdateWatch(CephCluster cluster) throws Exception {
        try (Rados other = cluster.connect(); IoCtx otherIo = other.ioContext(CephCluster.POOL);
             RbdImage watcher = RbdImage.open(otherIo, name)) {
            Semaphore updates = new Semaphore(0);
            long handle = watcher.watchUpdates(updates::release);
            image.resize(128 * MIB);
            assertThat(updates.tryAcquire(30, TimeUnit.SECONDS)).isTrue();
            assertThat(watcher.size()).isEqualTo(128 * MIB);
            watcher.unwatchUpdates(handle);
        }
    }

    @Test
    void diffIterationReportsWrittenExtents() {
        image.writeAsync(5 * MIB, filled(4096, 7), 0).join();
        image.writeAsync(9 * MIB, filled(8192, 7), 0).join();
        List<long[]> extents = new ArrayList<>();
        image.diffIterate(0, 64 * MIB, false, (offset, length, exists) -> {
            extents.add(new long[] {offset, length, exists ? 1 : 0});
            return true;
        });
        // Without a starting snapshot librbd reports each object that exists, from its start to its
        // end (not block by block): one extent per written object, covering the write.
        assertThat(extents).hasSize(2);
        assertThat(extents.get(0)[0]).isEqualTo(4 * MIB);
        assertThat(extents.get(0)[0] + extents.get(0)[1]).isBetween(5 * MIB + 4096, 8 * MIB);
        assertThat(extents.get(1)[0]).isEqualTo(8 * MIB);
        assertThat(extents.get(1)[0] + extents.get(1)[1]).isBetween(9 * MIB + 8192, 12 * MIB);
        assertThat(extents).allSatisfy(e -> assertThat(e[2]).isEqualTo(1));
        List<long[]> first = new ArrayList<>();
        image.diffIterate(0, 64 * MIB, true, (offset, length, exists) -> {
            first.add(new long[] {offset, length});
            return false;
        });
        assertThat(first).containsExactly(new long[] {4 * MIB, 4 * MIB});
    }

    @Test
    void heapMemoryIsRefused() {
        assertThatThrownBy(() -> image.writeAsync(0, MemorySegment.ofArray(new byte[512]), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
