package io.tandem.storage;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Increments a counter held in block 0 of a file device with COMPARE AND WRITE, retrying on
 * miscompare: read the block, then swap it for the incremented value only if it is unchanged.
 * Increments are lost exactly when a compare-and-write is not atomic against another one. Runs
 * in-process from tests and as a separate JVM ({@link #main}) for the cross-process check.
 */
final class CawCounter {

    private CawCounter() {
    }

    static int increment(BlockDevice device, int times) {
        int blockSize = device.blockSize();
        int misses = 0;
        for (int i = 0; i < times; ) {
            ByteBuffer current = ByteBuffer.allocate(blockSize);
            device.read(0, current).join();
            current.flip();
            ByteBuffer next = ByteBuffer.allocate(blockSize);
            next.putLong(0, current.getLong(0) + 1);
            long result = device.compareAndWrite(0, current, next, false).join();
            if (result < 0) {
                i++;
            } else {
                misses++;
            }
        }
        return misses;
    }

    static long value(BlockDevice device) {
        ByteBuffer b = ByteBuffer.allocate(device.blockSize());
        device.read(0, b).join();
        return b.getLong(0);
    }

    /** {@code CawCounter <file> <increments>}: prints "done" when finished. */
    public static void main(String[] args) throws Exception {
        try (FileBlockDevice device = FileBlockDevice.open(Path.of(args[0]), 0, 512, false)) {
            System.out.println("ready");
            System.out.flush();
            increment(device, Integer.parseInt(args[1]));
        }
        System.out.println("done");
    }
}
