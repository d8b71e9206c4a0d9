package io.tandem.it.target;

/** Starts targets for a test class; closing it stops them all. */
public interface TargetLauncher extends AutoCloseable {
    /** A target for this spec; equal specs may return the same running target. */
    TargetUnderTest target(TargetSpec spec) throws Exception;

    /** Short name for messages ("tgt", "tandem"). */
    String name();

    @Override
    void close();
}
