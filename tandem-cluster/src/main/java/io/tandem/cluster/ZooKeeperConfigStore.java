package io.tandem.cluster;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * The cluster-wide {@link ConfigStore} in ZooKeeper: one persistent znode per key under
 * {@code <root>/config}, an entry's version being the znode's data version + 1. A cache (Curator's
 * {@link CuratorCache}, one persistent recursive watch) follows the znodes; this node's own writes
 * enter the cache as soon as they are stored, ordered with the watch's news by modification zxid,
 * so {@link #get} after a completed {@link #put} sees the put or something newer.
 */
final class ZooKeeperConfigStore implements ConfigStore {

    private static final System.Logger LOG = System.getLogger(ZooKeeperConfigStore.class.getName());

    /** A cached entry and the zxid of the modification that produced it (null entry: deleted). */
    private record Known(ConfigEntry entry, long zxid) {
    }

    private final CuratorFramework client;
    private final String path;
    private final ExecutorService events;
    private final CuratorCache cache;
    private final Map<String, Known> known = new TreeMap<>();
    private final CopyOnWriteArrayList<ConfigListener> listeners = new CopyOnWriteArrayList<>();

    ZooKeeperConfigStore(CuratorFramework client, String path, ExecutorService events) {
        this.client = client;
        this.path = path;
        this.events = events;
        this.cache = CuratorCache.build(client, path);
    }

    String path() {
        return path;
    }

    void start(Runnable initialized) {
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, old, data) -> {
                    if (type == CuratorCacheListener.Type.NODE_DELETED) {
                        deleted(old);
                    } else {
                        stored(data);
                    }
                })
                .forInitialized(initialized)
                .build(), events);
        cache.start();
    }

    void close() {
        cache.close();
    }

    @Override
    public synchronized Optional<ConfigEntry> get(String key) {
        Known k = known.get(ConfigStore.checkKey(key));
        return k == null ? Optional.empty() : Optional.ofNullable(k.entry());
    }

    @Override
    public synchronized Map<String, ConfigEntry> entries() {
        Map<String, ConfigEntry> m = new TreeMap<>();
        known.forEach((key, k) -> {
            if (k.entry() != null) {
                m.put(key, k.entry());
            }
        });
        return Map.copyOf(m);
    }

    @Override
    public CompletableFuture<ConfigEntry> put(String key, byte[] value, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
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
        CompletableFuture<ConfigEntry> result = new CompletableFuture<>();
        Thread.ofVirtual().name("tandem-zk-config-" + key).start(() -> {
            try {
                result.complete(write(key, copy, expectedVersion));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private ConfigEntry write(String key, byte[] value, long expected) throws Exception {
        String node = path + "/" + key;
        Stat stat = new Stat();
        while (true) {
            try {
                if (expected == ABSENT) {
                    client.create().storingStatIn(stat).forPath(node, value);
                } else {
                    stat = client.setData().withVersion(expected == ANY ? -1 : (int) (expected - 1)).forPath(node, value);
                }
                break;
            } catch (KeeperException.NodeExistsException | KeeperException.BadVersionException e) {
                throw new ConfigConflictException(key, expected, currentVersion(node));
            } catch (KeeperException.NoNodeException e) {
                if (expected != ANY) {
                    throw new ConfigConflictException(key, expected, ABSENT);
                }
                try {
                    client.create().storingStatIn(stat).forPath(node, value);
                    break;
                } catch (KeeperException.NodeExistsException raced) {
                    // created meanwhile: overwrite it (ANY)
                }
            }
        }
        ConfigEntry entry = new ConfigEntry(key, stat.getVersion() + 1L, value);
        learn(key, entry, stat.getMzxid());
        return entry;
    }

    private long currentVersion(String node) throws Exception {
        Stat stat = client.checkExists().forPath(node);
        return stat == null ? ABSENT : stat.getVersion() + 1L;
    }

    @Override
    public CompletableFuture<Void> remove(String key, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        Thread.ofVirtual().name("tandem-zk-config-" + key).start(() -> {
            String node = path + "/" + key;
            try {
                client.delete().withVersion(expectedVersion == ANY ? -1 : (int) (expectedVersion - 1)).forPath(node);
                result.complete(null);
            } catch (KeeperException.NoNodeException e) {
                result.complete(null);
            } catch (KeeperException.BadVersionException e) {
                try {
                    result.completeExceptionally(new ConfigConflictException(key, expectedVersion, currentVersion(node)));
                } catch (Exception again) {
                    result.completeExceptionally(again);
                }
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    @Override
    public void addListener(ConfigListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(ConfigListener listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------- cache (events thread)

    private void stored(ChildData data) {
        String key = keyOf(data);
        if (key == null || data.getStat() == null) {
            return;
        }
        learn(key, new ConfigEntry(key, data.getStat().getVersion() + 1L, data.getData() == null ? new byte[0] : data.getData()),
                data.getStat().getMzxid());
    }

    private void deleted(ChildData old) {
        String key = keyOf(old);
        if (key == null) {
            return;
        }
        // A deletion's own zxid is not reported; it is newer than the deleted modification and
        // older than any re-creation.
        long zxid;
        synchronized (this) {
            Known k = known.get(key);
            zxid = old.getStat() != null ? old.getStat().getMzxid() + 1 : (k == null ? 1 : k.zxid() + 1);
        }
        learn(key, null, zxid);
    }

    /** Installs what is newer than what is known and tells the listeners (on the events thread). */
    private void learn(String key, ConfigEntry entry, long zxid) {
        synchronized (this) {
            Known k = known.get(key);
            if (k != null && k.zxid() >= zxid) {
                return;
            }
            known.put(key, new Known(entry, zxid));
        }
        events.execute(() -> listeners.forEach(l -> {
            try {
                l.configChanged(key, entry);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "config listener failed", e);
            }
        }));
    }

    private String keyOf(ChildData d) {
        String prefix = path + "/";
        if (d == null || !d.getPath().startsWith(prefix) || d.getPath().indexOf('/', prefix.length()) >= 0) {
            return null;
        }
        return d.getPath().substring(prefix.length());
    }
}
