package io.tandem.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Creating a missing LU file when several openers race for it, as the nodes of a cluster do when
 * they all apply one new LUN backed by one shared file: every opener gets the file at its full
 * size, exactly one file results, and no temporary file is left behind.
 */
@Timeout(60)
class FileBlockDeviceCreateTest {

    private static final int BLOCK = 512;
    private static final long SIZE = 4L << 20;

    @TempDir
    Path dir;

    @Test
    void openersRacingToCreateOneFileAllOpenItAtItsFullSize() throws Exception {
        int openers = 8;
        for (int round = 0; round < 20; round++) {
            Path file = dir.resolve("lun-" + round + ".img");
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<FileBlockDevice>> opened = new ArrayList<>();
            for (int i = 0; i < openers; i++) {
                opened.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                        return FileBlockDevice.open(file, SIZE, BLOCK, false);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, r -> Thread.ofPlatform().start(r)));
            }
            start.countDown();
            for (CompletableFuture<FileBlockDevice> f : opened) {
                try (FileBlockDevice device = f.get(30, TimeUnit.SECONDS)) {
                    assertThat(device.blockCount()).as("round %d", round).isEqualTo(SIZE / BLOCK);
                }
            }
            assertThat(Files.size(file)).isEqualTo(SIZE);
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no temporary file left")
                    .allMatch(name -> name.matches("lun-\\d+\\.img"));
        }
    }
}
