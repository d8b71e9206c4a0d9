package io.tandem.it.target;

import java.net.InetSocketAddress;

/** A running iSCSI target the tests talk to. */
public interface TargetUnderTest {
    InetSocketAddress portal();

    String targetName();

    /** The LUN that carries the spec's storage. */
    int dataLun();

    TargetSpec spec();
}
