package io.tandem.cluster;

/**
 * Told when {@link Coordinator#serving()} flips. Called on the coordinator's event thread, one call
 * at a time, in order; it must not block.
 */
@FunctionalInterface
public interface ServingListener {

    /** @param serving the new value of {@link Coordinator#serving()} */
    void servingChanged(boolean serving);
}
