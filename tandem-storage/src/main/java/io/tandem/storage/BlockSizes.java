package io.tandem.storage;

/** Validation shared by every backend. */
final class BlockSizes {

    private BlockSizes() {
    }

    static void check(int blockSize) {
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096, got " + blockSize);
        }
    }

    /** Throws OUT_OF_RANGE unless [lba, lba + length/blockSize) lies inside the device and length is whole blocks. */
    static void checkRange(long lba, long length, int blockSize, long blockCount) {
        if (length % blockSize != 0) {
            throw new IllegalArgumentException("transfer of " + length + " bytes is not whole " + blockSize + "-byte blocks");
        }
        long blocks = length / blockSize;
        if (lba < 0 || lba > blockCount || blocks > blockCount - lba) {
            throw new StorageException(StorageException.Kind.OUT_OF_RANGE,
                    "blocks " + lba + "+" + blocks + " past end " + blockCount);
        }
    }

    /** Throws OUT_OF_RANGE unless [lba, lba + blocks) lies inside a device of {@code blockCount} blocks. */
    static void checkBlocks(long lba, long blocks, long blockCount) {
        if (lba < 0 || blocks < 0 || lba > blockCount || blocks > blockCount - lba) {
            throw new StorageException(StorageException.Kind.OUT_OF_RANGE,
                    "blocks " + lba + "+" + blocks + " past end " + blockCount);
        }
    }
}
