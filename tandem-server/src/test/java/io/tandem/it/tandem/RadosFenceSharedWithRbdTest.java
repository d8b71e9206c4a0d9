package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.cluster.LuState;
import io.tandem.cluster.LuStateWatcher;
import io.tandem.cluster.RadosCoordinator;
import io.tandem.storage.StorageException;
import io.tandem.storage.rbd.RbdBlockDevice;
import io.tandem.storage.rbd.RbdSettings;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An RBD image opened through the RADOS coordinator's own client shares the coordinator's fence:
 * when a survivor declares the node gone it blocklists that client, so the node's image writes
 * are refused by the OSDs from the moment the survivor went on without it.
 */
@ExtendWith(CephClusterExtension.class)
@Timeout(90)
class RadosFenceSharedWithRbdTest {

    static final String LU = "600140500000000000000000000000dd";
    static final int BLOCK = 512;
    static final LuStateWatcher IGNORE = (p, n) -> CompletableFuture.completedFuture(null);

    @Test
    void aNodeDeclaredGoneCanNoLongerWriteItsImages(CephCluster ceph) throws Exception {
        String cluster = "fence-" + UUID.randomUUID().toString().substring(0, 8);
        String image = cluster + "-img";
        RbdBlockDevice.createImage(new RbdSettings(CephCluster.POOL, image, ceph.conf(), null, null), 4L << 20);
        RadosCoordinator.Settings base = RadosCoordinator.Settings.of(ceph.conf(), "1").withPool(CephCluster.POOL).withCluster(cluster);
        try (RadosCoordinator survivor = RadosCoordinator.start(base.withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(20)));
             RadosCoordinator lost = RadosCoordinator.start(new RadosCoordinator.Settings(ceph.conf(), null, null, CephCluster.POOL,
                     cluster, "2", Duration.ofSeconds(4), Duration.ofSeconds(10), java.util.Map.of()))) {
            survivor.join(LU, IGNORE);
            lost.join(LU, IGNORE);
            RbdBlockDevice lostImage = RbdBlockDevice.open(lost.rados(), CephCluster.POOL, image, BLOCK, false);
            RbdBlockDevice survivorImage = RbdBlockDevice.open(survivor.rados(), CephCluster.POOL, image, BLOCK, false);
            try {
                lostImage.write(0, ByteBuffer.wrap(pattern(1)), false).get(10, TimeUnit.SECONDS);

                silence(lost);
                LuState stored = survivor.update(LU, LuState::nextPrGeneration).get(20, TimeUnit.SECONDS);
                assertThat(stored.version()).isEqualTo(1);

                // The survivor went on without node 2: node 2's image writes are refused from now on.
                ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> lostImage.write(1, ByteBuffer.wrap(pattern(2)), false).get(10, TimeUnit.SECONDS));
                assertThat(refused.getCause()).isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.FENCED));

                ByteBuffer two = ByteBuffer.allocate(2 * BLOCK);
                survivorImage.read(0, two).get(10, TimeUnit.SECONDS);
                assertThat(Arrays.copyOfRange(two.array(), 0, BLOCK)).isEqualTo(pattern(1));
                assertThat(Arrays.copyOfRange(two.array(), BLOCK, 2 * BLOCK)).isEqualTo(new byte[BLOCK]);
            } finally {
                survivorImage.close();
                lostImage.close();
            }
        } finally {
            ceph.cli("rbd", "rm", "--no-progress", CephCluster.POOL + "/" + image);
        }
    }

    private static byte[] pattern(int seed) {
        byte[] b = new byte[BLOCK];
        Arrays.fill(b, (byte) seed);
        return b;
    }

    /** The coordinator's test hook: the node goes silent (package-private on purpose: it is no API). */
    private static void silence(RadosCoordinator node) throws Exception {
        Method silence = RadosCoordinator.class.getDeclaredMethod("silence", boolean.class);
        silence.setAccessible(true);
        silence.invoke(node, true);
    }
}
