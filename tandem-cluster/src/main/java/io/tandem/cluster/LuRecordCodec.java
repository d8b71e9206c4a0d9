package io.tandem.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The whole {@link LuState} as the ZooKeeper coordinator stores it in an LU's znode: UTF-8 text, one
 * field per line, the same conventions as {@link StateFile} (keys in 16 hex digits, relative target
 * port id 0 = all ports, initiator ports URL-encoded) plus the runtime fields and the transition.
 *
 * <pre>
 * tandem-lu-record 1
 * lu 600140...
 * version 12
 * generation 7
 * aptpl false
 * registration 1122334455667701 1 iqn.1991-05.com.microsoft%3Anode1%2Ci%2C0x801234560001
 * reservation WRITE_EXCLUSIVE 1 iqn.1991-05.com.microsoft%3Anode1%2Ci%2C0x801234560001
 * spc2-holder 2 iqn...
 * alua-owner 1
 * port-group-state 2 UNAVAILABLE
 * port-group-status 2 2
 * reset-epoch 3
 * capacity 2097152
 * mode-parameters 5
 * medium-ejected true
 * removal-prevented 2 iqn...%2Ci%2C0x801234560002
 * sanitize IN_PROGRESS 2 16384 false
 * issuer 1 iqn...%2Ci%2C0x801234560001 77
 * notice REGISTRATIONS_PREEMPTED 2 iqn...%2Ci%2C0x801234560002 0 iqn.b
 * change n1%2F42
 * </pre>
 *
 * Lines with default values are left out; their order is fixed. The first line names the format
 * version; a reader refuses a version or a field it does not know rather than guess (a cluster is
 * upgraded with every node able to read the new format before any node writes it). ZooKeeper's
 * transaction log checksums the bytes, so the record carries no checksum of its own. The last line
 * names the change that stored this version (node id and a counter): after a connection loss in
 * the middle of a compare-and-set, it tells the writer whether its write landed.
 */
final class LuRecordCodec {

    static final String MAGIC = "tandem-lu-record 1";

    private LuRecordCodec() {
    }

    /** A stored record and the id of the change that stored it ("" for a record nobody changed yet). */
    record Stored(LuState state, String changeId) {
    }

    static byte[] render(LuState s, String changeId) {
        StringBuilder b = new StringBuilder(256);
        b.append(MAGIC).append('\n');
        b.append("lu ").append(enc(s.luId())).append('\n');
        b.append("version ").append(s.version()).append('\n');
        b.append("generation ").append(s.prGeneration()).append('\n');
        b.append("aptpl ").append(s.aptpl()).append('\n');
        for (Registration r : s.registrations()) {
            b.append("registration ").append(HexFormat.of().toHexDigits(r.key())).append(' ').append(nexus(r.nexus())).append('\n');
        }
        if (s.reservation() != null) {
            b.append("reservation ").append(s.reservation().type().name()).append(' ').append(nexus(s.reservation().holder())).append('\n');
        }
        if (s.spc2Holder() != null) {
            b.append("spc2-holder ").append(nexus(s.spc2Holder())).append('\n');
        }
        if (s.aluaOwnerGroup() != 0) {
            b.append("alua-owner ").append(s.aluaOwnerGroup()).append('\n');
        }
        for (Map.Entry<Integer, AccessState> e : s.sortedPortGroupStates().entrySet()) {
            b.append("port-group-state ").append(e.getKey()).append(' ').append(e.getValue().name()).append('\n');
        }
        for (Map.Entry<Integer, Integer> e : new TreeMap<>(s.portGroupStatus()).entrySet()) {
            b.append("port-group-status ").append(e.getKey()).append(' ').append(e.getValue()).append('\n');
        }
        if (s.resetEpoch() != 0) {
            b.append("reset-epoch ").append(s.resetEpoch()).append('\n');
        }
        if (s.capacityBlocks() != 0) {
            b.append("capacity ").append(s.capacityBlocks()).append('\n');
        }
        if (s.modeParameters() != 0) {
            b.append("mode-parameters ").append(Long.toHexString(s.modeParameters())).append('\n');
        }
        MediumState m = s.medium();
        if (m.ejected()) {
            b.append("medium-ejected true\n");
        }
        for (NexusId id : m.preventions()) {
            b.append("removal-prevented ").append(nexus(id)).append('\n');
        }
        SanitizeStatus z = m.sanitize();
        if (!z.equals(SanitizeStatus.IDLE)) {
            b.append("sanitize ").append(z.phase().name()).append(' ').append(z.targetPortGroup()).append(' ')
                    .append(z.progress()).append(' ').append(z.unrestrictedExit()).append('\n');
        }
        Transition t = s.transition();
        if (t.issuer() != null || t.issuerTag() != -1) {
            b.append("issuer ").append(t.issuer() == null ? "-" : nexus(t.issuer())).append(' ').append(t.issuerTag()).append('\n');
        }
        for (Notice n : t.notices()) {
            b.append("notice ").append(n.kind().name());
            for (NexusId id : n.nexuses()) {
                b.append(' ').append(nexus(id));
            }
            b.append('\n');
        }
        if (!changeId.isEmpty()) {
            b.append("change ").append(enc(changeId)).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Stored parse(String luId, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (!text.startsWith(MAGIC + "\n")) {
            int nl = text.indexOf('\n');
            throw corrupt(luId, "unknown record format '" + (nl < 0 ? text : text.substring(0, nl)) + "'");
        }
        String storedLu = null;
        long version = -1;
        long generation = -1;
        Boolean aptpl = null;
        List<Registration> registrations = new ArrayList<>();
        PersistentReservation reservation = null;
        NexusId spc2 = null;
        int owner = 0;
        Map<Integer, AccessState> states = new TreeMap<>();
        Map<Integer, Integer> status = new TreeMap<>();
        long resetEpoch = 0;
        long capacity = 0;
        long modeParameters = 0;
        boolean ejected = false;
        List<NexusId> preventions = new ArrayList<>();
        SanitizeStatus sanitize = SanitizeStatus.IDLE;
        NexusId issuer = null;
        long issuerTag = -1;
        List<Notice> notices = new ArrayList<>();
        String changeId = "";
        try {
            for (String line : text.substring(MAGIC.length() + 1).split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "lu" -> storedLu = dec(f[1]);
                    case "version" -> version = Long.parseLong(f[1]);
                    case "generation" -> generation = Long.parseLong(f[1]);
                    case "aptpl" -> aptpl = Boolean.parseBoolean(f[1]);
                    case "registration" -> registrations.add(new Registration(nexus(f, 2), HexFormat.fromHexDigitsToLong(f[1])));
                    case "reservation" -> reservation = new PersistentReservation(nexus(f, 2), ReservationType.valueOf(f[1]));
                    case "spc2-holder" -> spc2 = nexus(f, 1);
                    case "alua-owner" -> owner = Integer.parseInt(f[1]);
                    case "port-group-state" -> states.put(Integer.parseInt(f[1]), AccessState.valueOf(f[2]));
                    case "port-group-status" -> status.put(Integer.parseInt(f[1]), Integer.parseInt(f[2]));
                    case "reset-epoch" -> resetEpoch = Long.parseLong(f[1]);
                    case "capacity" -> capacity = Long.parseLong(f[1]);
                    case "mode-parameters" -> modeParameters = Long.parseUnsignedLong(f[1], 16);
                    case "medium-ejected" -> ejected = Boolean.parseBoolean(f[1]);
                    case "removal-prevented" -> preventions.add(nexus(f, 1));
                    case "sanitize" -> sanitize = new SanitizeStatus(SanitizeStatus.Phase.valueOf(f[1]), Integer.parseInt(f[2]),
                            Integer.parseInt(f[3]), Boolean.parseBoolean(f[4]));
                    case "issuer" -> {
                        if (f[1].equals("-")) {
                            issuerTag = Long.parseLong(f[2]);
                        } else {
                            issuer = nexus(f, 1);
                            issuerTag = Long.parseLong(f[3]);
                        }
                    }
                    case "notice" -> {
                        List<NexusId> ids = new ArrayList<>();
                        for (int i = 2; i + 1 < f.length; i += 2) {
                            ids.add(nexus(f, i));
                        }
                        if ((f.length - 2) % 2 != 0) {
                            throw corrupt(luId, "odd notice line '" + line + "'");
                        }
                        notices.add(Notice.of(Notice.Kind.valueOf(f[1]), ids));
                    }
                    case "change" -> changeId = dec(f[1]);
                    default -> throw corrupt(luId, "unknown line '" + line + "'");
                }
            }
            if (!luId.equals(storedLu) || version < 0 || generation < 0 || aptpl == null) {
                throw corrupt(luId, "missing or mismatched header fields");
            }
            return new Stored(new LuState(luId, version, generation, aptpl, registrations, reservation, spc2, owner, states, status,
                    resetEpoch, capacity, modeParameters, new MediumState(ejected, preventions, sanitize),
                    new Transition(issuer, issuerTag, notices)), changeId);
        } catch (CoordinatorException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CoordinatorException("record of LU " + luId + " is corrupt: " + e, e);
        }
    }

    private static String nexus(NexusId id) {
        return id.relativeTargetPortId() + " " + enc(id.initiatorPort());
    }

    private static NexusId nexus(String[] f, int at) {
        return new NexusId(dec(f[at + 1]), Integer.parseInt(f[at]));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static CoordinatorException corrupt(String luId, String why) {
        return new CoordinatorException("record of LU " + luId + " is corrupt: " + why);
    }
}
