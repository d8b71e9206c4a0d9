package io.tandem.server;

import io.tandem.cluster.Fencer;
import io.tandem.cluster.Member;
import io.tandem.storage.rbd.RbdBlockDevice;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fencing at the storage for a node's rbd LUNs. Each rbd LUN writes through a Ceph client of its
 * own; this node announces their addresses as {@code rados <address>} fence targets in its
 * {@link Member} record, and when the coordinator declares another node lost, blocklists that
 * node's addresses through one of this node's clients (which waits for the OSD map carrying the
 * entries) and makes every other client of this node fetch that map too: whatever this node writes
 * afterwards reaches each OSD only after the OSD refuses the lost node's late writes.
 */
final class RbdFencer implements Fencer {

    /** How long a blocklist entry lasts: far longer than any stall a fenced process could wake from. */
    static final int BLOCKLIST_SECONDS = 3600;

    private static final System.Logger LOG = System.getLogger(RbdFencer.class.getName());

    private final List<RenewableRbdDevice> devices = new CopyOnWriteArrayList<>();

    /** Records a device this node opened (closed ones are skipped and dropped). */
    void register(RenewableRbdDevice device) {
        devices.add(device);
    }

    /** The current devices of the LUNs open now. */
    private List<RbdBlockDevice> open() {
        devices.removeIf(d -> d.current().isClosed());
        return devices.stream().map(RenewableRbdDevice::current).toList();
    }

    /** Reopens every LUN whose client is fenced through a new client; whether any was. */
    boolean renewFenced() throws java.io.IOException {
        boolean renewed = false;
        for (RenewableRbdDevice d : List.copyOf(devices)) {
            renewed |= d.renewIfFenced();
        }
        return renewed;
    }

    /** This node's fence targets: one {@code rados <address>} per distinct client of its open rbd LUNs. */
    List<String> targets() {
        Set<String> targets = new LinkedHashSet<>();
        for (RbdBlockDevice d : open()) {
            if (!d.readOnly()) {
                targets.add(Member.RADOS + " " + d.clientAddress());
            }
        }
        return new ArrayList<>(targets);
    }

    @Override
    public void fence(Member lost) {
        List<String> addresses = new ArrayList<>();
        for (String t : lost.fenceTargets()) {
            if (t.startsWith(Member.RADOS + " ")) {
                addresses.add(t.substring(Member.RADOS.length() + 1));
            } else {
                throw new IllegalStateException("node " + lost.nodeId() + " announced a fence target of an unknown kind: " + t);
            }
        }
        if (addresses.isEmpty()) {
            return;
        }
        List<RbdBlockDevice> mine = open();
        if (mine.isEmpty()) {
            throw new IllegalStateException("node " + lost.nodeId() + " must be fenced at Ceph (" + addresses
                    + ") but this node has no rbd LUN open, so no Ceph client to blocklist it with");
        }
        RbdBlockDevice fencing = mine.getFirst();
        for (String address : addresses) {
            fencing.blocklist(address, BLOCKLIST_SECONDS);
        }
        LOG.log(System.Logger.Level.INFO, "blocklisted node {0}''s Ceph clients {1}", lost.nodeId(), addresses);
        catchUp(mine, fencing);
    }

    @Override
    public void catchUp() {
        catchUp(open(), null);
    }

    private static void catchUp(List<RbdBlockDevice> mine, RbdBlockDevice except) {
        Set<String> done = new LinkedHashSet<>();
        if (except != null) {
            done.add(except.clientAddress());
        }
        for (RbdBlockDevice d : mine) {
            if (done.add(d.clientAddress())) {
                d.awaitLatestOsdMap();
            }
        }
    }
}
