package io.tandem.it.tandem;

import io.tandem.it.support.TandemProcess;
import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The design's promise that COMPARE AND WRITE is atomic across nodes through the backing store:
 * two Tandem servers, each its own JVM (so only the file's record locks can serialize them), export
 * one LU file under one target name; two initiators, one per server, race COMPARE AND WRITE
 * increments of a counter block. Every successful swap must be a distinct increment.
 */
class TandemCompareAndWriteAcrossProcessesTest {

    private static final String TARGET = "iqn.2025-01.io.tandem.it:shared";
    private static final int BLOCK = 512;
    private static final long COUNTER_LBA = 8;

    @TempDir
    Path dir;

    /** This test's server in its own JVM. */
    private static TandemProcess server(Path data, Path config) throws Exception {
        return TandemProcess.serve("--data", data.toString(), "--target-name", TARGET, "--config", config.toString());
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

    /** Increments the counter {@code times} times through one path; returns the successful swaps. */
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
                assertThat(r.sense().asc()).isEqualTo(0x1D);
            }
        }
        return wins;
    }

    @Test
    @Timeout(180)
    void compareAndWriteFromTwoServerProcessesOnOneFileLosesNoIncrement() throws Exception {
        Path lun = dir.resolve("shared.img");
        Path config = dir.resolve("luns.yaml");
        Files.writeString(config, "luns:\n  - { number: 0, name: shared, file: " + lun + ", size: 16M }\n");
        try (TandemProcess a = server(Files.createDirectories(dir.resolve("a")), config);
             TandemProcess b = server(Files.createDirectories(dir.resolve("b")), config);
             IscsiSession sa = IscsiSession.login(a.portal(), LoginOptions.normal(TARGET).initiatorName("iqn.2025-01.io.tandem.it:path-a"));
             IscsiSession sb = IscsiSession.login(b.portal(), LoginOptions.normal(TARGET).initiatorName("iqn.2025-01.io.tandem.it:path-b"))) {
            ScsiDevice da = sa.device(0);
            ScsiDevice db = sb.device(0);
            for (ScsiDevice d : List.of(da, db)) {
                while (!d.testUnitReady().isGood()) {
                    // clear the login unit attention
                }
            }
            // The first designator is the LU's NAA: the same through both servers.
            assertThat(java.util.Arrays.copyOfRange(da.inquiryVpd(0x83, 255), 4, 24))
                    .as("one LU, same identity on both paths")
                    .isEqualTo(java.util.Arrays.copyOfRange(db.inquiryVpd(0x83, 255), 4, 24));
            da.write16(COUNTER_LBA, new byte[BLOCK]);
            int rounds = 400;
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
            long counter = ByteBuffer.wrap(db.read16(COUNTER_LBA, 1)).getLong(0);
            assertThat(counter).as("every successful COMPARE AND WRITE is one increment").isEqualTo(wins);
            assertThat(wins).isGreaterThanOrEqualTo(rounds);
        }
    }
}
