package io.tandem.storage;

import static io.tandem.storage.ProvisioningExtent.State.DEALLOCATED;
import static io.tandem.storage.ProvisioningExtent.State.MAPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Thin provisioning of {@link FileBlockDevice} on real file systems: the temporary directory
 * (ext4 here) and /dev/shm (tmpfs), both of which punch holes in 4 KiB units.
 */
class FileBlockDeviceProvisioningTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 8192;          // 4 MiB
    private static final int PER_FS_BLOCK = 4096 / BLOCK;

    @TempDir
    static Path tempDir;

    private FileBlockDevice device;
    private Path shmDir;

    @AfterEach
    void tearDown() throws Exception {
        if (device != null) {
            device.close();
        }
        if (shmDir != null) {
            try (Stream<Path> files = Files.list(shmDir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(shmDir);
        }
    }

    static Stream<String> fileSystems() {
        return Files.isDirectory(Path.of("/dev/shm")) ? Stream.of("temp", "shm") : Stream.of("temp");
    }

    private Path directory(String fileSystem) throws Exception {
        if (fileSystem.equals("shm")) {
            shmDir = Files.createTempDirectory(Path.of("/dev/shm"), "tandem-test-");
            return shmDir;
        }
        return Files.createTempDirectory(tempDir, "fs-");
    }

    private FileBlockDevice open(String fileSystem, int blockSize) throws Exception {
        Path file = directory(fileSystem).resolve("lun.img");
        device = FileBlockDevice.open(file, BLOCKS * BLOCK, blockSize, false);
        return device;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    private byte[] fill(long lba, long blocks, long seed) throws Exception {
        byte[] data = new byte[(int) (blocks * device.blockSize())];
        new Random(seed).nextBytes(data);
        await(device.write(lba, ByteBuffer.wrap(data), false));
        return data;
    }

    private byte[] read(long lba, long blocks) throws Exception {
        ByteBuffer dst = ByteBuffer.allocate((int) (blocks * device.blockSize()));
        await(device.read(lba, dst));
        return dst.array();
    }

    private List<ProvisioningExtent> status(long lba) throws Exception {
        return await(device.provisioningStatus(lba, 64));
    }

    private static ProvisioningExtent extent(long from, long to, ProvisioningExtent.State state) {
        return new ProvisioningExtent(from, to - from, state);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void newFileIsThinAndWhollyDeallocated(String fs) throws Exception {
        open(fs, BLOCK);
        assertThat(device.thinProvisioned()).isTrue();
        assertThat(device.deallocationGranularity()).isEqualTo(4096);
        assertThat(status(0)).containsExactly(extent(0, BLOCKS, DEALLOCATED));
        assertThat(status(100)).containsExactly(extent(100, BLOCKS, DEALLOCATED));
        assertThat(FileSystemSpace.allocatedBytes(device.path())).isLessThanOrEqualTo(4096);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void deallocatingAnAlignedRangePunchesAHoleThatReadsAsZeroes(String fs) throws Exception {
        open(fs, BLOCK);
        byte[] data = fill(0, BLOCKS, 1);
        await(device.flush());
        long before = FileSystemSpace.allocatedBytes(device.path());

        await(device.deallocate(8, 16, false));

        assertThat(FileSystemSpace.allocatedBytes(device.path())).isEqualTo(before - 16 * BLOCK);
        assertThat(read(8, 16)).isEqualTo(new byte[16 * BLOCK]);
        byte[] all = read(0, BLOCKS);
        assertThat(java.util.Arrays.copyOfRange(all, 0, 8 * BLOCK)).isEqualTo(java.util.Arrays.copyOfRange(data, 0, 8 * BLOCK));
        assertThat(java.util.Arrays.copyOfRange(all, 24 * BLOCK, all.length))
                .isEqualTo(java.util.Arrays.copyOfRange(data, 24 * BLOCK, data.length));
        assertThat(status(0)).containsExactly(extent(0, 8, MAPPED), extent(8, 24, DEALLOCATED),
                extent(24, BLOCKS, MAPPED));
        // A report may start inside a run: its first extent begins exactly at the asked LBA.
        assertThat(status(10)).containsExactly(extent(10, 24, DEALLOCATED), extent(24, BLOCKS, MAPPED));
        assertThat(status(3)).startsWith(extent(3, 8, MAPPED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void unalignedEdgesAreZeroedInPlaceAndStayMapped(String fs) throws Exception {
        open(fs, BLOCK);
        byte[] data = fill(0, 64, 2);
        await(device.deallocate(3, 20, false));   // blocks 3..22: fs blocks [8,16) whole, 3..7 and 16..22 partial

        byte[] all = read(0, 64);
        assertThat(java.util.Arrays.copyOfRange(all, 3 * BLOCK, 23 * BLOCK)).isEqualTo(new byte[20 * BLOCK]);
        assertThat(java.util.Arrays.copyOfRange(all, 0, 3 * BLOCK)).isEqualTo(java.util.Arrays.copyOfRange(data, 0, 3 * BLOCK));
        assertThat(java.util.Arrays.copyOfRange(all, 23 * BLOCK, 64 * BLOCK))
                .isEqualTo(java.util.Arrays.copyOfRange(data, 23 * BLOCK, 64 * BLOCK));
        assertThat(status(0)).containsExactly(extent(0, 8, MAPPED), extent(8, 16, DEALLOCATED),
                extent(16, 64, MAPPED), extent(64, BLOCKS, DEALLOCATED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void rangeInsideOneFileSystemBlockIsZeroedNotPunched(String fs) throws Exception {
        open(fs, BLOCK);
        byte[] data = fill(0, PER_FS_BLOCK, 3);
        await(device.deallocate(1, 2, false));
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, BLOCK, 3 * BLOCK, (byte) 0);
        assertThat(read(0, PER_FS_BLOCK)).isEqualTo(expected);
        assertThat(status(0)).first().isEqualTo(extent(0, PER_FS_BLOCK, MAPPED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void deallocatingWhatIsAlreadyAHoleAllocatesNothing(String fs) throws Exception {
        open(fs, BLOCK);
        await(device.deallocate(3, 2, true));
        await(device.deallocate(BLOCKS - 5, 5, false));
        await(device.flush());
        assertThat(FileSystemSpace.allocatedBytes(device.path())).isLessThanOrEqualTo(4096);
        assertThat(status(0)).containsExactly(extent(0, BLOCKS, DEALLOCATED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void statusAlternatesAndStopsAtMaxExtents(String fs) throws Exception {
        open(fs, BLOCK);
        for (long lba = 0; lba < 64; lba += 16) {
            fill(lba, 8, lba);
        }
        List<ProvisioningExtent> three = await(device.provisioningStatus(4, 3));
        assertThat(three).containsExactly(extent(4, 8, MAPPED), extent(8, 16, DEALLOCATED), extent(16, 24, MAPPED));
        List<ProvisioningExtent> all = status(0);
        assertThat(all).hasSize(8);
        assertThat(all.getLast()).isEqualTo(extent(56, BLOCKS, DEALLOCATED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void writeSameRepeatsThePatternAcrossChunks(String fs) throws Exception {
        open(fs, BLOCK);
        byte[] pattern = new byte[BLOCK];
        new Random(4).nextBytes(pattern);
        long blocks = 2 * (BlockFill.CHUNK_BYTES / BLOCK) + 7;   // more than two chunks, ragged end
        await(device.writeSame(5, blocks, ByteBuffer.wrap(pattern), true, false));
        byte[] back = read(5, blocks);
        for (int i = 0; i < blocks; i++) {
            assertThat(java.util.Arrays.copyOfRange(back, i * BLOCK, (i + 1) * BLOCK)).as("block %d", i).isEqualTo(pattern);
        }
        assertThat(read(5 + blocks, 1)).isEqualTo(new byte[BLOCK]);
        // Mapped up to the end of the file system block holding the last pattern block.
        long mappedEnd = Math.ceilDiv(5 + blocks, PER_FS_BLOCK) * PER_FS_BLOCK;
        assertThat(status(5)).first().isEqualTo(extent(5, mappedEnd, MAPPED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void zeroWriteSameDeallocatesOnlyWhenAllowed(String fs) throws Exception {
        open(fs, BLOCK);
        fill(0, 256, 5);
        await(device.writeSame(0, 64, ByteBuffer.allocate(BLOCK), true, false));
        assertThat(status(0)).startsWith(extent(0, 64, DEALLOCATED), extent(64, 256, MAPPED));
        await(device.writeSame(0, 32, ByteBuffer.allocate(BLOCK), false, false));
        assertThat(status(0)).startsWith(extent(0, 32, MAPPED), extent(32, 64, DEALLOCATED));
        await(device.writeZeroes(32, 8, false, true));
        assertThat(status(0)).startsWith(extent(0, 40, MAPPED), extent(40, 64, DEALLOCATED));
        assertThat(read(0, 64)).isEqualTo(new byte[64 * BLOCK]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileSystems")
    void fourKiBBlocksPunchEveryBlock(String fs) throws Exception {
        open(fs, 4096);
        assertThat(device.blockCount()).isEqualTo(BLOCKS * BLOCK / 4096);
        fill(0, 16, 6);
        await(device.deallocate(1, 2, false));
        assertThat(read(1, 2)).isEqualTo(new byte[2 * 4096]);
        assertThat(status(0)).startsWith(extent(0, 1, MAPPED), extent(1, 3, DEALLOCATED), extent(3, 16, MAPPED));
    }

    @Test
    void withoutHolesDeallocationWritesZeroesAndEverythingIsMapped() throws Exception {
        Path file = directory("temp").resolve("full.img");
        device = FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, false, false);
        assertThat(device.thinProvisioned()).isFalse();
        assertThat(device.deallocationGranularity()).isEqualTo(BLOCK);
        fill(0, 64, 7);
        await(device.deallocate(8, 16, true));
        assertThat(read(8, 16)).isEqualTo(new byte[16 * BLOCK]);
        assertThat(status(0)).containsExactly(extent(0, BLOCKS, MAPPED));
        await(device.flush());
        assertThat(FileSystemSpace.allocatedBytes(file)).as("zeroes written, nothing punched")
                .isGreaterThanOrEqualTo(64 * BLOCK);
        // zero-pattern WRITE SAME with the unmap hint also just writes
        await(device.writeSame(100, 8, ByteBuffer.allocate(BLOCK), true, false));
        assertThat(FileSystemSpace.allocatedBytes(file)).isGreaterThanOrEqualTo(72 * BLOCK);
    }

    @Test
    void readOnlyAndOutOfRangeAreRefused() throws Exception {
        Path file = directory("temp").resolve("ro.img");
        FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, false).close();
        device = FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, true);
        assertThat(device.thinProvisioned()).isFalse();
        assertThatThrownBy(() -> await(device.deallocate(0, 1, false)))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.WRITE_PROTECTED));
        device.close();

        device = FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, false);
        for (var call : List.<java.util.concurrent.Callable<?>>of(
                () -> await(device.deallocate(BLOCKS - 1, 2, false)),
                () -> await(device.writeSame(BLOCKS, 1, ByteBuffer.allocate(BLOCK).put(0, (byte) 1), false, false)),
                () -> await(device.provisioningStatus(BLOCKS, 1)))) {
            assertThatThrownBy(call::call).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.OUT_OF_RANGE));
        }
    }
}
