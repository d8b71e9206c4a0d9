package io.tandem.storage;

import static io.tandem.storage.ProvisioningExtent.State.DEALLOCATED;
import static io.tandem.storage.ProvisioningExtent.State.MAPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The provisioning half of the SPI: {@link MemoryBlockDevice}'s deallocation bookkeeping, and the
 * interface's portable defaults as a backend that implements only read/write/flush gets them.
 */
class ProvisioningSpiTest {

    private static final int BLOCK = 512;

    /** A backend that knows nothing of provisioning: only the abstract methods, delegated. Records its writes. */
    static final class PlainDevice implements BlockDevice {
        final MemoryBlockDevice store = new MemoryBlockDevice(BLOCK, 4096);
        final List<long[]> writes = new ArrayList<>();

        @Override public int blockSize() { return store.blockSize(); }
        @Override public long blockCount() { return store.blockCount(); }
        @Override public boolean readOnly() { return false; }
        @Override public CompletableFuture<Void> read(long lba, ByteBuffer dst) { return store.read(lba, dst); }

        @Override
        public synchronized CompletableFuture<Void> write(long lba, ByteBuffer src, boolean fua) {
            writes.add(new long[]{lba, src.remaining() / BLOCK, fua ? 1 : 0});
            return store.write(lba, src, fua);
        }

        @Override public CompletableFuture<Void> flush() { return store.flush(); }
        @Override public void close() { store.close(); }
    }

    private static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static byte[] read(BlockDevice d, long lba, int blocks) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(blocks * BLOCK);
        await(d.read(lba, b));
        return b.array();
    }

    @Test
    void memoryDeviceStartsDeallocatedAndTracksWritesAndDeallocations() throws Exception {
        MemoryBlockDevice d = new MemoryBlockDevice(BLOCK, 1000);
        assertThat(d.thinProvisioned()).isTrue();
        assertThat(await(d.provisioningStatus(0, 10))).containsExactly(new ProvisioningExtent(0, 1000, DEALLOCATED));
        byte[] data = new byte[100 * BLOCK];
        new Random(1).nextBytes(data);
        await(d.write(100, ByteBuffer.wrap(data), false));
        await(d.deallocate(150, 10, false));
        assertThat(await(d.provisioningStatus(0, 10))).containsExactly(
                new ProvisioningExtent(0, 100, DEALLOCATED), new ProvisioningExtent(100, 50, MAPPED),
                new ProvisioningExtent(150, 10, DEALLOCATED), new ProvisioningExtent(160, 40, MAPPED),
                new ProvisioningExtent(200, 800, DEALLOCATED));
        assertThat(await(d.provisioningStatus(155, 2))).containsExactly(
                new ProvisioningExtent(155, 5, DEALLOCATED), new ProvisioningExtent(160, 40, MAPPED));
        assertThat(read(d, 150, 10)).isEqualTo(new byte[10 * BLOCK]);
        assertThat(read(d, 160, 1)).isEqualTo(java.util.Arrays.copyOfRange(data, 60 * BLOCK, 61 * BLOCK));
        // zero WRITE SAME with the hint deallocates, without it maps
        await(d.writeSame(100, 20, ByteBuffer.allocate(BLOCK), true, false));
        await(d.writeSame(110, 5, ByteBuffer.allocate(BLOCK), false, false));
        assertThat(await(d.provisioningStatus(100, 4))).containsExactly(
                new ProvisioningExtent(100, 10, DEALLOCATED), new ProvisioningExtent(110, 5, MAPPED),
                new ProvisioningExtent(115, 5, DEALLOCATED), new ProvisioningExtent(120, 30, MAPPED));
        assertThatThrownBy(() -> await(d.deallocate(999, 2, false))).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(StorageException.class);
        assertThatThrownBy(() -> await(d.provisioningStatus(1000, 1))).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(StorageException.class);
    }

    @Test
    void defaultsWriteZeroesAndReportEverythingMapped() throws Exception {
        PlainDevice d = new PlainDevice();
        assertThat(d.thinProvisioned()).isFalse();
        assertThat(d.deallocationGranularity()).isEqualTo(BLOCK);
        byte[] ones = new byte[8 * BLOCK];
        java.util.Arrays.fill(ones, (byte) 1);
        await(d.write(0, ByteBuffer.wrap(ones), false));

        await(d.deallocate(2, 3, true));
        assertThat(read(d, 2, 3)).isEqualTo(new byte[3 * BLOCK]);
        assertThat(read(d, 5, 1)[0]).isEqualTo((byte) 1);
        assertThat(d.writes.getLast()).containsExactly(2, 3, 1);
        await(d.writeZeroes(6, 2, true, false));
        assertThat(read(d, 6, 2)).isEqualTo(new byte[2 * BLOCK]);
        assertThat(await(d.provisioningStatus(7, 5))).containsExactly(new ProvisioningExtent(7, 4089, MAPPED));
        d.close();
    }

    @Test
    void defaultWriteSameChainsChunksAndLeavesThePatternUntouched() throws Exception {
        PlainDevice d = new PlainDevice();
        ByteBuffer pattern = ByteBuffer.allocate(BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            pattern.put(i, (byte) i);
        }
        long blocks = BlockFill.CHUNK_BYTES / BLOCK + 3;   // one full chunk and a short one
        await(d.writeSame(10, blocks, pattern, false, false));
        assertThat(pattern.remaining()).isEqualTo(BLOCK);
        assertThat(d.writes).hasSize(2);
        assertThat(d.writes.get(1)).containsExactly(10 + BlockFill.CHUNK_BYTES / BLOCK, 3, 0);
        byte[] back = read(d, 10, (int) blocks);
        for (int b = 0; b < blocks; b += 257) {
            for (int i = 0; i < BLOCK; i++) {
                assertThat(back[b * BLOCK + i]).isEqualTo((byte) i);
            }
        }
        assertThat(read(d, 10 + blocks, 1)).isEqualTo(new byte[BLOCK]);
        assertThatThrownBy(() -> await(d.writeSame(0, 1, ByteBuffer.allocate(BLOCK - 1).put(0, (byte) 1), false, false)))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IllegalArgumentException.class);
        d.close();
    }
}
