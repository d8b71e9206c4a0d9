package io.tandem.it.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import io.tandem.it.support.TandemProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * An rbd LUN served by two Tandem servers at once, each its own JVM with its own Ceph client, as
 * two nodes would: what one path writes the other reads, COMPARE AND WRITE increments racing
 * through both lose nothing (the OSD compares and writes), a small UNMAP reads back zeroes, and an
 * image grown with {@code rbd resize} is reported on both paths with CAPACITY DATA HAS CHANGED.
 */
@ExtendWith(CephClusterExtension.class)
class TandemRbdTest {

    private static final String TARGET = "iqn.2025-01.io.tandem.it:rbd";
    private static final int BLOCK = 512;
    private static final long COUNTER_LBA = 8;

    @TempDir
    Path dir;
    private String image;
    private CephCluster cluster;

    @BeforeEach
    void name(CephCluster cluster) {
        this.cluster = cluster;
        image = "it-" + UUID.randomUUID();
    }

    @AfterEach
    void removeImage() {
        cluster.cli("rbd", "rm", "--no-progress", CephCluster.POOL + "/" + image);
    }

    private TandemProcess server(String node) throws Exception {
        Path config = dir.resolve(node + ".yaml");
        Files.writeString(config, "luns:\n  - { number: 0, name: shared, backend: rbd, pool: " + CephCluster.POOL
                + ", image: " + image + ", ceph-conf: " + cluster.conf() + ", create: 64M, block-size: " + BLOCK + " }\n");
        Path data = Files.createDirectories(dir.resolve(node));
        return TandemProcess.serve("--data", data.toString(), "--target-name", TARGET, "--config", config.toString());
    }

    private static IscsiSession login(TandemProcess server, String initiator) throws IOException {
        return IscsiSession.login(server.portal(), LoginOptions.normal(TARGET).initiatorName("iqn.2025-01.io.tandem.it:" + initiator));
    }

    private static void clearUnitAttentions(ScsiDevice d) throws IOException {
        for (int i = 0; i < 10 && !d.testUnitReady().isGood(); i++) {
            // the login's unit attention
        }
    }

    @Test
    @Timeout(240)
    void twoServersShareOneImage() throws Exception {
        try (TandemProcess a = server("a");
             TandemProcess b = server("b");
             IscsiSession sa = login(a, "path-a");
             IscsiSession sb = login(b, "path-b")) {
            ScsiDevice da = sa.device(0);
            ScsiDevice db = sb.device(0);
            clearUnitAttentions(da);
            clearUnitAttentions(db);
            assertThat(da.readCapacity16().blocks()).isEqualTo(64L * 1024 * 1024 / BLOCK);

            // what one node writes the other reads
            byte[] data = new byte[8 * BLOCK];
            Arrays.fill(data, (byte) 0x5c);
            da.write16(100, data);
            assertThat(db.read16(100, 8)).isEqualTo(data);

            // UNMAP of one block (far below librbd's discard granularity) reads back zeroes
            ScsiResult unmap = da.session().execute(ScsiRequest.write(0, unmapCdb(), unmapList(101, 1)));
            assertThat(unmap.isGood()).as("%s", unmap).isTrue();
            byte[] after = db.read16(100, 3);
            assertThat(Arrays.copyOfRange(after, 0, BLOCK)).containsOnly(0x5c);
            assertThat(Arrays.copyOfRange(after, BLOCK, 2 * BLOCK)).containsOnly(0);
            assertThat(Arrays.copyOfRange(after, 2 * BLOCK, 3 * BLOCK)).containsOnly(0x5c);

            // COMPARE AND WRITE increments through both nodes: each success is one increment
            da.write16(COUNTER_LBA, new byte[BLOCK]);
            int rounds = 150;
            List<CompletableFuture<Integer>> racers = new ArrayList<>();
            for (ScsiDevice d : List.of(da, db)) {
                racers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return race(d, rounds);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            int wins = 0;
            for (CompletableFuture<Integer> r : racers) {
                wins += r.get(150, TimeUnit.SECONDS);
            }
            assertThat(ByteBuffer.wrap(db.read16(COUNTER_LBA, 1)).getLong(0)).isEqualTo(wins);
            assertThat(wins).isGreaterThanOrEqualTo(rounds);

            // grown out of band: both paths hear CAPACITY DATA HAS CHANGED and see the new size
            cluster.cli("rbd", "resize", "--no-progress", "--size", "96M", CephCluster.POOL + "/" + image);
            for (ScsiDevice d : List.of(da, db)) {
                assertThat(awaitCapacityChanged(d)).as("CAPACITY DATA HAS CHANGED on LUN via %s", d).isTrue();
                assertThat(d.readCapacity16().blocks()).isEqualTo(96L * 1024 * 1024 / BLOCK);
            }
            byte[] last = new byte[BLOCK];
            Arrays.fill(last, (byte) 1);
            db.write16(96L * 1024 * 1024 / BLOCK - 1, last);
            assertThat(da.read16(96L * 1024 * 1024 / BLOCK - 1, 1)).isEqualTo(last);
        }
    }

    private static boolean awaitCapacityChanged(ScsiDevice d) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            ScsiResult r = d.testUnitReady();
            if (!r.isGood() && r.sense() != null && r.sense().is(Sense.UNIT_ATTENTION, 0x2A, 0x09)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static int race(ScsiDevice device, int times) throws IOException {
        int wins = 0;
        for (int i = 0; i < times; i++) {
            byte[] current = device.session().execute(ScsiRequest.read(0, read16(COUNTER_LBA), BLOCK)).requireGood();
            byte[] swap = new byte[2 * BLOCK];
            System.arraycopy(current, 0, swap, 0, BLOCK);
            System.arraycopy(current, 0, swap, BLOCK, BLOCK);
            ByteBuffer.wrap(swap).putLong(BLOCK, ByteBuffer.wrap(current).getLong(0) + 1);
            ScsiResult r = device.session().execute(ScsiRequest.write(0, caw(COUNTER_LBA), swap));
            if (r.isGood()) {
                wins++;
            } else {
                assertThat(r.sense().key()).as("%s", r).isEqualTo(Sense.MISCOMPARE);
            }
        }
        return wins;
    }

    private static byte[] caw(long lba) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x89;
        ByteBuffer.wrap(c).putLong(2, lba);
        c[13] = 1;
        return c;
    }

    private static byte[] read16(long lba) {
        byte[] c = new byte[16];
        c[0] = (byte) 0x88;
        ByteBuffer.wrap(c).putLong(2, lba).putInt(10, 1);
        return c;
    }

    private static byte[] unmapCdb() {
        byte[] c = new byte[10];
        c[0] = 0x42;
        c[8] = 24; // parameter list length
        return c;
    }

    private static byte[] unmapList(long lba, int blocks) {
        ByteBuffer b = ByteBuffer.allocate(24);
        b.putShort(0, (short) 22).putShort(2, (short) 16).putLong(8, lba).putInt(16, blocks);
        return b.array();
    }
}
