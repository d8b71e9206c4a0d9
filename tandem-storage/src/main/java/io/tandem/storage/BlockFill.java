package io.tandem.storage;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** Filling ranges with one repeated block: the portable way to zero or pattern-write a range. */
final class BlockFill {

    /** Largest buffer a fill writes at once. */
    static final int CHUNK_BYTES = 1 << 20;

    private BlockFill() {
    }

    static boolean isZero(ByteBuffer block) {
        ByteBuffer b = block.duplicate();
        while (b.remaining() >= Long.BYTES) {
            if (b.getLong() != 0) {
                return false;
            }
        }
        while (b.hasRemaining()) {
            if (b.get() != 0) {
                return false;
            }
        }
        return true;
    }

    /** Bytes of the chunk used to fill {@code blocks} blocks: whole blocks, at most {@link #CHUNK_BYTES}. */
    static int chunkBytes(long blocks, int blockSize) {
        long max = Math.max(1, CHUNK_BYTES / blockSize);
        return (int) (Math.min(blocks, max) * blockSize);
    }

    /** Copies {@code block} (one block, not consumed) into {@code into} until it is full. */
    static void repeat(ByteBuffer block, ByteBuffer into) {
        int n = block.remaining();
        for (int at = into.position(); at < into.limit(); at += n) {
            into.put(at, block, block.position(), n);
        }
    }

    static void checkBlock(ByteBuffer block, int blockSize) {
        if (block.remaining() != blockSize) {
            throw new IllegalArgumentException("pattern must be exactly one " + blockSize
                    + "-byte block, got " + block.remaining() + " bytes");
        }
    }

    /** Writes {@code block} to each of {@code blocks} blocks from {@code lba} through {@link BlockDevice#write}, one chunk after another. */
    static CompletableFuture<Void> writeRepeated(BlockDevice device, long lba, long blocks, ByteBuffer block,
                                                 boolean forceUnitAccess) {
        int blockSize = device.blockSize();
        try {
            checkBlock(block, blockSize);
            BlockSizes.checkBlocks(lba, blocks, device.blockCount());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        ByteBuffer chunk = ByteBuffer.allocateDirect(chunkBytes(blocks, blockSize));
        repeat(block, chunk);
        return writeFrom(device, lba, blocks, chunk, forceUnitAccess);
    }

    private static CompletableFuture<Void> writeFrom(BlockDevice device, long lba, long blocks, ByteBuffer chunk,
                                                     boolean forceUnitAccess) {
        int chunkBlocks = chunk.capacity() / device.blockSize();
        int n = (int) Math.min(blocks, chunkBlocks);
        ByteBuffer piece = chunk.duplicate().clear().limit(n * device.blockSize());
        CompletableFuture<Void> written = device.write(lba, piece, forceUnitAccess);
        if (n == blocks) {
            return written;
        }
        return written.thenCompose(v -> writeFrom(device, lba + n, blocks - n, chunk, forceUnitAccess));
    }
}
