package io.tandem.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The member registry of the RADOS coordinator: the content of the cluster's hub object, one entry
 * per node that holds a lease (a watch on that same object). UTF-8 text:
 *
 * <pre>
 * tandem-members 1
 * member n1 4162 94251873741824 127.0.0.1%3A0%2F1424560017 tandem-member+1%0Anode+n1%0A...
 * </pre>
 *
 * An entry names the node, the instance id of its RADOS client and the cookie of its watch (the
 * pair a notify reply names a watcher by), the client's address (what a survivor blocklists to
 * fence it) and the {@link Member} record it announced (URL-encoded). The object version of the hub
 * is the compare-and-set token of every change.
 */
record RadosMemberRegistry(long objectVersion, Map<String, Entry> entries) {

    static final String MAGIC = "tandem-members 1";

    /** One node's lease: who it is, which watch keeps it, how to fence it, what it announced. */
    record Entry(String nodeId, long instanceId, long cookie, String address, Member member) {

        /** Whether a notify reply naming this watcher is about this entry. */
        boolean holds(long instance, long watchCookie) {
            return instanceId == instance && cookie == watchCookie;
        }

        /** Same lease (node, client and watch), whatever it announced. */
        boolean sameLease(Entry other) {
            return other != null && nodeId.equals(other.nodeId) && instanceId == other.instanceId && cookie == other.cookie;
        }
    }

    static final RadosMemberRegistry EMPTY = new RadosMemberRegistry(0, Map.of());

    RadosMemberRegistry {
        entries = Map.copyOf(entries);
    }

    Entry get(String nodeId) {
        return entries.get(nodeId);
    }

    /** The entry whose lease is the watch (instance, cookie), or null. */
    Entry byWatcher(long instance, long cookie) {
        for (Entry e : entries.values()) {
            if (e.holds(instance, cookie)) {
                return e;
            }
        }
        return null;
    }

    /** The members, ordered by node id. */
    List<Member> members() {
        List<Member> list = new ArrayList<>();
        entries.values().forEach(e -> list.add(e.member()));
        list.sort(Comparator.comparing(Member::nodeId));
        return List.copyOf(list);
    }

    RadosMemberRegistry with(Entry e) {
        Map<String, Entry> m = new TreeMap<>(entries);
        m.put(e.nodeId(), e);
        return new RadosMemberRegistry(objectVersion, m);
    }

    RadosMemberRegistry without(String nodeId) {
        Map<String, Entry> m = new TreeMap<>(entries);
        m.remove(nodeId);
        return new RadosMemberRegistry(objectVersion, m);
    }

    RadosMemberRegistry atVersion(long v) {
        return new RadosMemberRegistry(v, entries);
    }

    byte[] render() {
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        for (Entry e : new TreeMap<>(entries).values()) {
            b.append("member ").append(e.nodeId()).append(' ').append(Long.toUnsignedString(e.instanceId())).append(' ')
                    .append(Long.toUnsignedString(e.cookie())).append(' ').append(enc(e.address())).append(' ')
                    .append(enc(e.member().render())).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses the hub's content; an empty object is an empty registry. */
    static RadosMemberRegistry parse(byte[] bytes, long objectVersion) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return new RadosMemberRegistry(objectVersion, Map.of());
        }
        if (!text.startsWith(MAGIC + "\n")) {
            throw new CoordinatorException("the member registry has an unknown format: '" + text.lines().findFirst().orElse("") + "'");
        }
        Map<String, Entry> entries = new TreeMap<>();
        for (String line : text.substring(MAGIC.length() + 1).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(" ");
            if (!f[0].equals("member") || f.length != 6) {
                throw new CoordinatorException("the member registry has an unreadable line '" + line + "'");
            }
            try {
                Member member = Member.parse(dec(f[5]));
                if (!member.nodeId().equals(f[1])) {
                    throw new IllegalArgumentException("entry of " + f[1] + " announces " + member.nodeId());
                }
                entries.put(f[1], new Entry(f[1], Long.parseUnsignedLong(f[2]), Long.parseUnsignedLong(f[3]), dec(f[4]), member));
            } catch (RuntimeException e) {
                throw new CoordinatorException("the member registry has an unreadable entry '" + line + "': " + e.getMessage(), e);
            }
        }
        return new RadosMemberRegistry(objectVersion, entries);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
