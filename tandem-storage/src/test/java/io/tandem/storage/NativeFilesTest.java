package io.tandem.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FFM bindings against the real kernel, on a temporary file. */
class NativeFilesTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void linux() {
        assertThat(NativeFiles.available()).as("native file calls bind on Linux x86-64/AArch64").isTrue();
    }

    private Path writtenFile(int bytes) throws IOException {
        Path file = dir.resolve("f");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer data = ByteBuffer.allocate(bytes);
            while (data.hasRemaining()) {
                data.put((byte) 0x5A);
            }
            ch.write(data.flip(), 0);
            ch.force(true);
        }
        return file;
    }

    @Test
    void punchedHoleIsFoundBySeekHoleAndFreesItsBlocks() throws Exception {
        Path file = writtenFile(MIB);
        NativeFiles nf = NativeFiles.get();
        int fd = nf.open(file, true);
        try {
            assertThat(nf.lseek(fd, 0, NativeFiles.SEEK_HOLE)).as("no hole before EOF").isEqualTo(MIB);
            long before = FileSystemSpace.allocatedBytes(file);

            nf.fallocate(fd, NativeFiles.FALLOC_FL_PUNCH_HOLE | NativeFiles.FALLOC_FL_KEEP_SIZE, 256 * 1024, 256 * 1024);

            assertThat(nf.lseek(fd, 0, NativeFiles.SEEK_HOLE)).isEqualTo(256 * 1024);
            assertThat(nf.lseek(fd, 256 * 1024, NativeFiles.SEEK_DATA)).isEqualTo(512 * 1024);
            assertThat(FileSystemSpace.allocatedBytes(file)).isEqualTo(before - 256 * 1024);
            assertThat(java.nio.file.Files.size(file)).as("KEEP_SIZE").isEqualTo(MIB);
        } finally {
            nf.close(fd);
        }
    }

    @Test
    void seekDataPastTheLastDataAnswersMinusOne() throws Exception {
        Path file = writtenFile(64 * 1024);
        NativeFiles nf = NativeFiles.get();
        int fd = nf.open(file, true);
        try {
            nf.fallocate(fd, NativeFiles.FALLOC_FL_PUNCH_HOLE | NativeFiles.FALLOC_FL_KEEP_SIZE, 32 * 1024, 32 * 1024);
            assertThat(nf.lseek(fd, 32 * 1024, NativeFiles.SEEK_DATA)).isEqualTo(-1);
            assertThat(nf.lseek(fd, 0, NativeFiles.SEEK_DATA)).isZero();
        } finally {
            nf.close(fd);
        }
    }

    @Test
    void failuresCarryTheErrno() throws Exception {
        NativeFiles nf = NativeFiles.get();
        assertThatThrownBy(() -> nf.open(dir.resolve("missing"), false))
                .isInstanceOfSatisfying(NativeFiles.NativeException.class, e -> assertThat(e.errno()).isEqualTo(2))
                .hasMessageContaining("ENOENT");
        Path file = writtenFile(4096);
        int readOnly = nf.open(file, false);
        try {
            // fallocate needs a descriptor open for writing: EBADF, not "unsupported".
            assertThatThrownBy(() -> nf.fallocate(readOnly, NativeFiles.FALLOC_FL_PUNCH_HOLE
                    | NativeFiles.FALLOC_FL_KEEP_SIZE, 0, 4096))
                    .isInstanceOfSatisfying(NativeFiles.NativeException.class, e -> {
                        assertThat(e.errno()).isEqualTo(9);
                        assertThat(e.unsupported()).isFalse();
                    });
            // A punch without KEEP_SIZE is refused outright with EOPNOTSUPP, the answer a file
            // system without holes gives: it must classify as unsupported.
            assertThatThrownBy(() -> nf.fallocate(readOnly, NativeFiles.FALLOC_FL_PUNCH_HOLE, 0, 4096))
                    .isInstanceOfSatisfying(NativeFiles.NativeException.class, e -> {
                        assertThat(e.errno()).isEqualTo(NativeFiles.EOPNOTSUPP);
                        assertThat(e.unsupported()).isTrue();
                    });
        } finally {
            nf.close(readOnly);
        }
    }
}
