package io.tandem.storage;

/**
 * A run of logical blocks with one provisioning state, as {@link BlockDevice#provisioningStatus}
 * reports it.
 *
 * @param lba    first block of the run
 * @param blocks number of blocks in the run (at least one)
 * @param state  whether the blocks have storage behind them
 */
public record ProvisioningExtent(long lba, long blocks, State state) {

    public enum State {
        /** The blocks have storage allocated (or the device cannot tell). */
        MAPPED,
        /** No storage is allocated; the blocks read as zeroes. */
        DEALLOCATED
    }

    public ProvisioningExtent {
        if (lba < 0 || blocks <= 0) {
            throw new IllegalArgumentException("extent " + lba + "+" + blocks);
        }
        java.util.Objects.requireNonNull(state, "state");
    }

    public long end() {
        return lba + blocks;
    }
}
