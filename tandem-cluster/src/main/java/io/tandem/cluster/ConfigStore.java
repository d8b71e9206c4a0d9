package io.tandem.cluster;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster-wide configuration (LUNs, target, ACLs) that every node applies: a small store of
 * key → bytes, each entry versioned and changed only by compare-and-set. Reads come from this
 * node's cache, which follows the store; listeners hear of every change this node sees (a node
 * that was disconnected may see only the latest of several changes of one key).
 *
 * <p>Keys are 1..128 characters of {@code [A-Za-z0-9._-]}; values at most {@link #MAX_VALUE_BYTES}.
 */
public interface ConfigStore {

    /** Expected version for {@link #put}: the key must not exist yet. */
    long ABSENT = 0;
    /** Expected version for {@link #put} and {@link #remove}: whatever the current version is. */
    long ANY = -1;
    /** Upper bound of one value (ZooKeeper's default znode limit is 1 MiB; stay well below). */
    int MAX_VALUE_BYTES = 512 * 1024;

    /** The entry as this node last saw it, or empty; never blocks. */
    Optional<ConfigEntry> get(String key);

    /** Every entry as this node last saw it, by key. */
    Map<String, ConfigEntry> entries();

    /**
     * Stores {@code value} under {@code key} if its version is {@code expectedVersion} ({@link #ABSENT}:
     * only if absent; {@link #ANY}: unconditionally). Fails with {@link ConfigConflictException}
     * when the version differs. Completes with the stored entry once it is stored (other nodes'
     * listeners run asynchronously after that).
     */
    CompletableFuture<ConfigEntry> put(String key, byte[] value, long expectedVersion);

    /** Removes the key if its version is {@code expectedVersion} (or {@link #ANY}); absent is no error. */
    CompletableFuture<Void> remove(String key, long expectedVersion);

    void addListener(ConfigListener listener);

    void removeListener(ConfigListener listener);

    /** Told of configuration changes; called on the coordinator's event thread, one at a time; must not block. */
    @FunctionalInterface
    interface ConfigListener {

        /**
         * @param key   the key that changed
         * @param entry its new entry, or null when removed
         */
        void configChanged(String key, ConfigEntry entry);
    }

    /** Valid key check shared by implementations. */
    static String checkKey(String key) {
        if (key == null || key.isEmpty() || key.length() > 128
                || !key.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '_' || c == '-')) {
            throw new IllegalArgumentException("config key is 1..128 of [A-Za-z0-9._-]: '" + key + "'");
        }
        return key;
    }
}
