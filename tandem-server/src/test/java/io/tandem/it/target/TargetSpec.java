package io.tandem.it.target;

import java.time.Duration;

/**
 * What a test needs from a target: one data LUN of the given geometry, optional CHAP, optional
 * target-initiated NOP-In pings. Launchers cache targets per spec, so equal specs share a target.
 *
 * @param nopInInterval null for no target pings
 */
public record TargetSpec(int blockSize, long lunBytes, ChapSecrets chap, Duration nopInInterval) {
    public static final long DEFAULT_LUN_BYTES = 64L << 20;

    public static TargetSpec plain() {
        return new TargetSpec(512, DEFAULT_LUN_BYTES, null, null);
    }

    public static TargetSpec blockSize(int blockSize) {
        return new TargetSpec(blockSize, DEFAULT_LUN_BYTES, null, null);
    }

    public TargetSpec withChap(ChapSecrets secrets) {
        return new TargetSpec(blockSize, lunBytes, secrets, nopInInterval);
    }

    public TargetSpec withNopIn(Duration interval) {
        return new TargetSpec(blockSize, lunBytes, chap, interval);
    }

    /** Secrets the target requires (initiator side) and proves (target side, mutual CHAP, may be null). */
    public record ChapSecrets(String initiatorUser, String initiatorSecret, String targetUser, String targetSecret) {
        public boolean mutual() {
            return targetUser != null;
        }
    }
}
