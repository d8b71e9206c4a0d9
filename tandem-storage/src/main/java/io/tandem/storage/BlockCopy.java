package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** The portable EXTENDED COPY data path: read a chunk, write it, repeat. */
final class BlockCopy {

    /** Large enough to amortise per-operation cost, small enough to keep memory per copy bounded. */
    static final int CHUNK_BYTES = 1 << 20;

    private BlockCopy() {
    }

    static CompletableFuture<Void> byChunks(BlockDevice source, BlockDevice target, long srcLba, long dstLba, long blocks) {
        int blockSize = source.blockSize();
        try {
            BlockSizes.checkRange(srcLba, blocks * blockSize, blockSize, source.blockCount());
            BlockSizes.checkRange(dstLba, blocks * blockSize, blockSize, target.blockCount());
        } catch (StorageException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        int chunkBlocks = Math.max(1, CHUNK_BYTES / blockSize);
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(blocks, chunkBlocks) * blockSize);
        return next(source, target, buffer, srcLba, dstLba, blocks, chunkBlocks);
    }

    private static CompletableFuture<Void> next(BlockDevice source, BlockDevice target, ByteBuffer buffer,
                                                long srcLba, long dstLba, long remaining, int chunkBlocks) {
        if (remaining == 0) {
            return CompletableFuture.completedFuture(null);
        }
        int n = (int) Math.min(remaining, chunkBlocks);
        buffer.clear().limit(n * source.blockSize());
        return source.read(srcLba, buffer)
                .thenCompose(v -> target.write(dstLba, buffer.flip(), false))
                .thenCompose(v -> next(source, target, buffer, srcLba + n, dstLba + n, remaining - n, chunkBlocks));
    }
}
