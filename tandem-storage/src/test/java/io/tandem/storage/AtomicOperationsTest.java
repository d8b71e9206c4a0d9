package io.tandem.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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

/** update / compareAndWrite / writeAtomic / copyTo of the file and memory backends. */
@Timeout(60)
class AtomicOperationsTest {

    private static final int BLOCK = 512;
    private static final long BLOCKS = 1024;

    @TempDir
    Path dir;
    private final List<BlockDevice> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(BlockDevice::close);
    }

    private BlockDevice device(String kind) throws Exception {
        BlockDevice d = switch (kind) {
            case "file" -> FileBlockDevice.open(dir.resolve("lun.img"), BLOCKS * BLOCK, BLOCK, false);
            case "memory" -> new MemoryBlockDevice(BLOCK, BLOCKS);
            default -> throw new IllegalArgumentException(kind);
        };
        opened.add(d);
        return d;
    }

    private static ByteBuffer filled(int blocks, int value) {
        byte[] b = new byte[blocks * BLOCK];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static byte[] read(BlockDevice d, long lba, int blocks) {
        ByteBuffer b = ByteBuffer.allocate(blocks * BLOCK);
        d.read(lba, b).join();
        return b.array();
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void compareAndWriteWritesOnlyOnMatchAndReportsTheFirstDifference(String kind) throws Exception {
        BlockDevice d = device(kind);
        d.write(10, filled(2, 'A'), false).join();
        assertThat(d.compareAndWrite(10, filled(2, 'A'), filled(2, 'B'), false).join()).isEqualTo(-1L);
        assertThat(read(d, 10, 2)).containsOnly('B');

        ByteBuffer expected = filled(2, 'B');
        expected.put(BLOCK + 37, (byte) 'X');
        assertThat(d.compareAndWrite(10, expected, filled(2, 'C'), false).join()).isEqualTo(BLOCK + 37L);
        assertThat(read(d, 10, 2)).as("a miscompare writes nothing").containsOnly('B');
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void concurrentCompareAndWritesOfTheSameOldValueHaveExactlyOneWinner(String kind) throws Exception {
        BlockDevice d = device(kind);
        for (int round = 0; round < 50; round++) {
            d.write(5, filled(1, 0), false).join();
            int contenders = 8;
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Long>> results = new ArrayList<>();
            for (int t = 0; t < contenders; t++) {
                int value = t + 1;
                CompletableFuture<Long> r = new CompletableFuture<>();
                results.add(r);
                Thread.ofVirtual().start(() -> {
                    try {
                        go.await();
                        r.complete(d.compareAndWrite(5, filled(1, 0), filled(1, value), false).join());
                    } catch (Throwable e) {
                        r.completeExceptionally(e);
                    }
                });
            }
            go.countDown();
            long winners = results.stream().map(CompletableFuture::join).filter(x -> x < 0).count();
            assertThat(winners).as("round %d", round).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void compareAndWriteIncrementsFromManyThreadsLoseNothing(String kind) throws Exception {
        BlockDevice d = device(kind);
        int threads = 6;
        int each = 300;
        CountDownLatch done = new CountDownLatch(threads);
        AtomicInteger misses = new AtomicInteger();
        for (int t = 0; t < threads; t++) {
            Thread.ofVirtual().start(() -> {
                misses.addAndGet(CawCounter.increment(d, each));
                done.countDown();
            });
        }
        assertThat(done.await(50, TimeUnit.SECONDS)).isTrue();
        assertThat(CawCounter.value(d)).isEqualTo((long) threads * each);
    }

    @Test
    void compareAndWriteIsAtomicAcrossProcessesSharingTheFile() throws Exception {
        Path file = dir.resolve("shared.img");
        BlockDevice d = FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, false);
        opened.add(d);
        int each = 1500;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path errors = dir.resolve("other.err");
        Process other = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                CawCounter.class.getName(), file.toString(), Integer.toString(each))
                .redirectError(errors.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).as("other process: %s", (Object) errors).isEqualTo("ready");
            int misses = CawCounter.increment(d, each);
            assertThat(other.waitFor(50, TimeUnit.SECONDS)).isTrue();
            assertThat(out.readLine()).isEqualTo("done");
            assertThat(CawCounter.value(d)).as("%d local misses", misses).isEqualTo(2L * each);
        } finally {
            other.destroyForcibly();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void anOrdinaryWriteToARangeUnderUpdateWaitsForIt(String kind) throws Exception {
        BlockDevice d = device(kind);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> update = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> update.complete(d.update(100, ByteBuffer.allocate(4 * BLOCK), medium -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            medium.put(0, new byte[4 * BLOCK]).put(0, filled(4, 'U').array());
            return true;
        }, false).join()));
        assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> overlapping = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> overlapping.complete(d.write(102, filled(1, 'W'), false).join()));
        // A write elsewhere is not held up.
        d.write(200, filled(1, 'Z'), false).get(5, TimeUnit.SECONDS);
        Thread.sleep(100);
        assertThat(overlapping).as("overlapping write waits for the update").isNotDone();

        release.countDown();
        assertThat(update.get(5, TimeUnit.SECONDS)).isTrue();
        overlapping.get(5, TimeUnit.SECONDS);
        byte[] after = read(d, 100, 4);
        assertThat(Arrays.copyOfRange(after, 2 * BLOCK, 3 * BLOCK)).containsOnly('W');
        assertThat(Arrays.copyOfRange(after, 0, 2 * BLOCK)).containsOnly('U');
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void anExceptionFromTheChangeStepFailsTheUpdateUnchangedAndWritesNothing(String kind) throws Exception {
        BlockDevice d = device(kind);
        d.write(7, filled(1, 'K'), false).join();
        IllegalStateException thrown = new IllegalStateException("refused");
        assertThatThrownBy(() -> d.update(7, ByteBuffer.allocate(BLOCK), medium -> {
            medium.put(0, (byte) 'Q');
            throw thrown;
        }, false).join()).isInstanceOf(CompletionException.class).cause().isSameAs(thrown);
        assertThat(read(d, 7, 1)).containsOnly('K');
        // The range is free again.
        assertThat(d.compareAndWrite(7, filled(1, 'K'), filled(1, 'L'), false).get(5, TimeUnit.SECONDS)).isEqualTo(-1L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void readersNeverSeeAnAtomicWriteHalfDone(String kind) throws Exception {
        BlockDevice d = device(kind);
        int blocks = 128; // 64 KiB: several page-cache pages, so an unlocked read could tear
        d.write(0, filled(blocks, 0), false).join();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger torn = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            readers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    byte[] b = read(d, 0, blocks);
                    reads.incrementAndGet();
                    for (byte x : b) {
                        if (x != b[0]) {
                            torn.incrementAndGet();
                            break;
                        }
                    }
                }
            }));
        }
        for (int i = 0; i < 400; i++) {
            d.writeAtomic(0, filled(blocks, (i & 1) == 0 ? 0xFF : 0x00), false).join();
        }
        stop.set(true);
        for (Thread t : readers) {
            t.join(5000);
        }
        assertThat(reads.get()).isPositive();
        assertThat(torn.get()).isZero();
    }

    @Test
    void readOnlyFileRefusesUpdateAndAtomicWrite() throws Exception {
        Path file = dir.resolve("ro.img");
        FileBlockDevice.open(file, BLOCKS * BLOCK, BLOCK, false).close();
        BlockDevice ro = FileBlockDevice.open(file, 0, BLOCK, true);
        opened.add(ro);
        assertThatThrownBy(() -> ro.compareAndWrite(0, filled(1, 0), filled(1, 1), false).join())
                .cause().isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.WRITE_PROTECTED));
        assertThatThrownBy(() -> ro.writeAtomic(0, filled(1, 1), false).join())
                .cause().isInstanceOfSatisfying(StorageException.class,
                        e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.WRITE_PROTECTED));
    }

    @ParameterizedTest
    @ValueSource(strings = {"file->file", "file->memory", "memory->file", "memory->memory", "file->same"})
    void copyToCopiesTheRangeExactly(String route) throws Exception {
        String[] ends = route.split("->");
        BlockDevice src = device(ends[0]);
        BlockDevice dst;
        if (ends[1].equals("same")) {
            dst = src;
        } else if (ends[1].equals(ends[0])) {
            dst = ends[1].equals("file")
                    ? FileBlockDevice.open(dir.resolve("dst.img"), BLOCKS * BLOCK, BLOCK, false)
                    : new MemoryBlockDevice(BLOCK, BLOCKS);
            opened.add(dst);
        } else {
            dst = device(ends[1]);
        }
        byte[] pattern = new byte[3000 * BLOCK / 10];
        new java.util.Random(7).nextBytes(pattern);
        int blocks = pattern.length / BLOCK;
        src.write(3, ByteBuffer.wrap(pattern, 0, blocks * BLOCK), false).join();
        dst.write(600, filled(blocks + 2, 0x5A), false).join();

        src.copyTo(dst, 3, 601, blocks).get(10, TimeUnit.SECONDS);

        byte[] copied = read(dst, 600, blocks + 2);
        assertThat(Arrays.copyOfRange(copied, BLOCK, (blocks + 1) * BLOCK))
                .isEqualTo(Arrays.copyOfRange(pattern, 0, blocks * BLOCK));
        assertThat(Arrays.copyOfRange(copied, 0, BLOCK)).as("before the range").containsOnly(0x5A);
        assertThat(Arrays.copyOfRange(copied, (blocks + 1) * BLOCK, copied.length)).as("after").containsOnly(0x5A);
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "memory"})
    void copyPastTheEndOfEitherDeviceIsOutOfRange(String kind) throws Exception {
        BlockDevice d = device(kind);
        for (long[] bad : new long[][]{{BLOCKS - 1, 0, 2}, {0, BLOCKS - 1, 2}, {0, BLOCKS, 1}}) {
            assertThatThrownBy(() -> d.copyTo(d, bad[0], bad[1], bad[2]).join())
                    .cause().isInstanceOfSatisfying(StorageException.class,
                            e -> assertThat(e.kind()).isEqualTo(StorageException.Kind.OUT_OF_RANGE));
        }
    }
}
