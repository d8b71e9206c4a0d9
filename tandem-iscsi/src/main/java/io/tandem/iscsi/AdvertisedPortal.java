package io.tandem.iscsi;

import java.util.Objects;

/**
 * A portal SendTargets advertises: where an initiator can reach the target, and the target portal
 * group tag of that portal (in a cluster, each node's portals form their own portal group, i.e.
 * their own SCSI target port). A wildcard host (0.0.0.0, ::) is only meaningful for the node that
 * answers: it is replaced by the address the discovery connection reached.
 *
 * @param host           an IP literal (IPv6 without brackets) or DNS name
 * @param port           TCP port
 * @param portalGroupTag target portal group tag (0..65535)
 */
public record AdvertisedPortal(String host, int port, int portalGroupTag) {

    public AdvertisedPortal {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 0xffff) {
            throw new IllegalArgumentException("port must be 1..65535: " + port);
        }
        if (portalGroupTag < 0 || portalGroupTag > 0xffff) {
            throw new IllegalArgumentException("portal group tag is 16 bits: " + portalGroupTag);
        }
    }

    /** Whether the host is the any-local (wildcard) address. */
    public boolean wildcard() {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }
}
