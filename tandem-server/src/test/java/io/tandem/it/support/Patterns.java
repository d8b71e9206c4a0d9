package io.tandem.it.support;

import java.util.HexFormat;

/**
 * Self-describing block contents: every 8-byte word of a block encodes the block's LBA, a writer tag
 * and the word index, so a block that lands at the wrong LBA, a stale block, or a torn block is told
 * apart from a correct one, and a mismatch message says what was found.
 */
public final class Patterns {
    private Patterns() {}

    public static byte[] blocks(long lba, int blocks, int blockSize, int tag) {
        byte[] out = new byte[blocks * blockSize];
        for (int b = 0; b < blocks; b++) {
            fillBlock(out, b * blockSize, lba + b, blockSize, tag);
        }
        return out;
    }

    private static void fillBlock(byte[] out, int at, long lba, int blockSize, int tag) {
        for (int w = 0; w < blockSize / 8; w++) {
            long v = (lba << 24) ^ ((long) tag << 44) ^ (w * 0x9E3779B97F4A7C15L);
            int o = at + w * 8;
            for (int i = 0; i < 8; i++) {
                out[o + i] = (byte) (v >>> (56 - 8 * i));
            }
        }
    }

    /** Null if equal, else a description of the first differing block. */
    public static String firstMismatch(byte[] expected, byte[] actual, long lba, int blockSize) {
        if (expected.length != actual.length) {
            return "length " + actual.length + " != expected " + expected.length;
        }
        for (int at = 0; at < expected.length; at += blockSize) {
            if (!java.util.Arrays.equals(expected, at, at + blockSize, actual, at, at + blockSize)) {
                return String.format("block at LBA %d differs: expected %s..., got %s...", lba + at / blockSize,
                        HexFormat.of().formatHex(expected, at, at + 16), HexFormat.of().formatHex(actual, at, at + 16));
            }
        }
        return null;
    }
}
