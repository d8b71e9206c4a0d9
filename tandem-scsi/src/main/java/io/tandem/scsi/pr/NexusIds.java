package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.PersistentReservation;
import io.tandem.cluster.Registration;
import io.tandem.scsi.Nexus;
import java.util.Locale;

/**
 * How the cluster's stored nexus identities ({@link NexusId}) relate to live I_T nexuses.
 *
 * <p>An initiator port is stored as its iSCSI TransportID text: {@code <name>,i,0x<isid>} (one
 * port), or the bare {@code <name>} when a TransportID of format 00b named the initiator device
 * (every port with that name). iSCSI names compare case-insensitively (RFC 3722 folds them to
 * lower case), so they are stored folded. A relative target port id of 0 stands for every target
 * port (ALL_TG_PT).
 */
public final class NexusIds {

    static final String PORT_SEPARATOR = ",i,0x";

    private NexusIds() {
    }

    /** The exact nexus: this initiator port through this target port. */
    public static NexusId exact(Nexus n) {
        return new NexusId(port(n), n.targetPort().relativeTargetPortId());
    }

    /** The id a registration made through {@code n} gets: on its target port, or all with ALL_TG_PT. */
    public static NexusId registering(Nexus n, boolean allTargetPorts) {
        return new NexusId(port(n), allTargetPorts ? NexusId.ALL_TARGET_PORTS : n.targetPort().relativeTargetPortId());
    }

    /** The initiator port text of a live nexus, folded. */
    static String port(Nexus n) {
        return initiatorPort(n.initiatorName(), n.isid());
    }

    static String initiatorPort(String name, long isid) {
        return name.toLowerCase(Locale.ROOT) + PORT_SEPARATOR + String.format("%012x", isid);
    }

    static String deviceName(String initiatorPort) {
        int at = initiatorPort.indexOf(PORT_SEPARATOR);
        return at < 0 ? initiatorPort : initiatorPort.substring(0, at);
    }

    static boolean namesDevice(NexusId id) {
        return !id.initiatorPort().contains(PORT_SEPARATOR);
    }

    /** Whether the stored id covers the live nexus (same port or device, same or every target port). */
    public static boolean covers(NexusId id, Nexus n) {
        if (!id.allTargetPorts() && id.relativeTargetPortId() != n.targetPort().relativeTargetPortId()) {
            return false;
        }
        String port = port(n);
        return namesDevice(id) ? id.initiatorPort().equals(deviceName(port)) : id.initiatorPort().equals(port);
    }

    /** Whether some nexus could be covered by both ids (two registrations must never overlap). */
    static boolean overlap(NexusId a, NexusId b) {
        boolean ports = a.allTargetPorts() || b.allTargetPorts() || a.relativeTargetPortId() == b.relativeTargetPortId();
        if (!ports) {
            return false;
        }
        if (namesDevice(a) || namesDevice(b)) {
            return deviceName(a.initiatorPort()).equals(deviceName(b.initiatorPort()));
        }
        return a.initiatorPort().equals(b.initiatorPort());
    }

    /** The registration the nexus acts through, or null when it is not registered. */
    public static Registration registrationOf(LuState s, Nexus n) {
        for (Registration r : s.registrations()) {
            if (covers(r.nexus(), n)) {
                return r;
            }
        }
        return null;
    }

    /** Whether the nexus holds the LU's persistent reservation (every registrant does for All Registrants types). */
    public static boolean isHolder(LuState s, Nexus n) {
        PersistentReservation res = s.reservation();
        if (res == null) {
            return false;
        }
        return res.type().allRegistrants() ? registrationOf(s, n) != null : covers(res.holder(), n);
    }
}
