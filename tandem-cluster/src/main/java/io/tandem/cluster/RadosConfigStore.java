package io.tandem.cluster;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The cluster-wide {@link ConfigStore} of the RADOS coordinator: every entry in one object, changed
 * by compare-and-set on the object's version (a per-key conflict is found by reading the key's own
 * version first; a race on an unrelated key only costs a retry). UTF-8 text:
 *
 * <pre>
 * tandem-config 1
 * entry cluster-config 3 dGFyZ2V0OiB7IG5hbWU6IC4uLiB9Cg==
 * </pre>
 *
 * Each node caches the object and follows it: a writer announces its change on the hub (the
 * coordinator re-reads on the announcement, and periodically in case one was missed); a read that
 * is not newer (by object version) than what is cached changes nothing, so news arriving out of
 * order never goes back.
 */
final class RadosConfigStore implements ConfigStore {

    private static final System.Logger LOG = System.getLogger(RadosConfigStore.class.getName());
    static final String MAGIC = "tandem-config 1";

    private final String oid;
    private final Supplier<IoCtx> io;
    private final Executor blocking;
    private final Executor events;
    private final Runnable announce;
    private final CopyOnWriteArrayList<ConfigListener> listeners = new CopyOnWriteArrayList<>();
    /** Guarded by this. */
    private Map<String, ConfigEntry> known = Map.of();
    /** Object version of {@link #known}; guarded by this. */
    private long knownVersion = -1;

    RadosConfigStore(String oid, Supplier<IoCtx> io, Executor blocking, Executor events, Runnable announce) {
        this.oid = oid;
        this.io = io;
        this.blocking = blocking;
        this.events = events;
        this.announce = announce;
    }

    String oid() {
        return oid;
    }

    /** Re-reads the object and tells the listeners what changed. */
    void refresh() {
        RadosObjects.Read r = RadosObjects.read(io.get(), oid);
        learn(parse(r.data()), r.version());
    }

    /** Re-reads the object only if its version moved (a one-byte read tells). */
    void refreshIfChanged() {
        long version;
        try {
            version = io.get().readVersioned(oid, 1).version();
        } catch (CephException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            version = 0;
        }
        if (version != knownVersion()) {
            refresh();
        }
    }

    /** The object's version as this node knows it (-1 before the first read). */
    synchronized long knownVersion() {
        return knownVersion;
    }

    @Override
    public synchronized Optional<ConfigEntry> get(String key) {
        return Optional.ofNullable(known.get(ConfigStore.checkKey(key)));
    }

    @Override
    public synchronized Map<String, ConfigEntry> entries() {
        return Map.copyOf(known);
    }

    @Override
    public CompletableFuture<ConfigEntry> put(String key, byte[] value, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
            Objects.requireNonNull(value, "value");
            if (value.length > MAX_VALUE_BYTES) {
                throw new IllegalArgumentException("config " + key + ": " + value.length + " bytes, at most " + MAX_VALUE_BYTES);
            }
            if (expectedVersion < ANY) {
                throw new IllegalArgumentException("expected version " + expectedVersion);
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        byte[] copy = value.clone();
        return CompletableFuture.supplyAsync(() -> change(key, expectedVersion, copy), blocking);
    }

    @Override
    public CompletableFuture<Void> remove(String key, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.supplyAsync(() -> {
            change(key, expectedVersion, null);
            return null;
        }, blocking);
    }

    /** One compare-and-set of the whole object; {@code value} null removes the key. */
    private ConfigEntry change(String key, long expected, byte[] value) {
        while (true) {
            IoCtx ctx = io.get();
            RadosObjects.Read r = RadosObjects.read(ctx, oid);
            Map<String, ConfigEntry> content = new TreeMap<>(parse(r.data()));
            learn(content, r.version());
            ConfigEntry current = content.get(key);
            long actual = current == null ? ABSENT : current.version();
            if (value == null && current == null) {
                return null; // absent is no error
            }
            if (expected != ANY && expected != actual) {
                throw new ConfigConflictException(key, expected, actual);
            }
            ConfigEntry next = value == null ? null : new ConfigEntry(key, actual + 1, value);
            if (next == null) {
                content.remove(key);
            } else {
                content.put(key, next);
            }
            long stored = RadosObjects.compareAndSet(ctx, oid, r.version(), render(content));
            if (stored < 0) {
                continue; // another writer was first: read again, check the key's version again
            }
            learn(content, stored);
            announce.run();
            return next;
        }
    }

    /** Installs a content if newer than the cached one and queues one listener call per changed key, in order. */
    private synchronized void learn(Map<String, ConfigEntry> content, long objectVersion) {
        if (objectVersion <= knownVersion) {
            return;
        }
        Map<String, ConfigEntry> before = known;
        known = Map.copyOf(content);
        knownVersion = objectVersion;
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(content.keySet());
        List<Map.Entry<String, ConfigEntry>> changes = new ArrayList<>();
        for (String k : keys) {
            ConfigEntry was = before.get(k);
            ConfigEntry now = content.get(k);
            if (!Objects.equals(was, now)) {
                changes.add(new java.util.AbstractMap.SimpleImmutableEntry<>(k, now));
            }
        }
        if (changes.isEmpty()) {
            return;
        }
        events.execute(() -> {
            for (Map.Entry<String, ConfigEntry> c : changes) {
                for (ConfigListener l : listeners) {
                    try {
                        l.configChanged(c.getKey(), c.getValue());
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.ERROR, "config listener failed", e);
                    }
                }
            }
        });
    }

    @Override
    public void addListener(ConfigListener listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    @Override
    public void removeListener(ConfigListener listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------- format

    static byte[] render(Map<String, ConfigEntry> content) {
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        for (ConfigEntry e : new TreeMap<>(content).values()) {
            b.append("entry ").append(e.key()).append(' ').append(e.version()).append(' ')
                    .append(Base64.getEncoder().encodeToString(e.value())).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, ConfigEntry> parse(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            return Map.of();
        }
        if (!text.startsWith(MAGIC + "\n")) {
            throw new CoordinatorException("the configuration object has an unknown format: '"
                    + text.lines().findFirst().orElse("") + "'");
        }
        Map<String, ConfigEntry> m = new TreeMap<>();
        for (String line : text.substring(MAGIC.length() + 1).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(" ", -1);
            try {
                if (!f[0].equals("entry") || f.length != 4) {
                    throw new IllegalArgumentException("not an entry");
                }
                m.put(f[1], new ConfigEntry(ConfigStore.checkKey(f[1]), Long.parseLong(f[2]), Base64.getDecoder().decode(f[3])));
            } catch (RuntimeException e) {
                throw new CoordinatorException("the configuration object has an unreadable line '"
                        + (line.length() > 80 ? line.substring(0, 80) + "..." : line) + "': " + e.getMessage(), e);
            }
        }
        return m;
    }
}
