package io.tandem.cluster;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The single-node {@link ConfigStore}: entries in memory, compare-and-set under one lock, listeners
 * called on the changing thread after the change (one change at a time).
 */
final class MemoryConfigStore implements ConfigStore {

    private final Map<String, ConfigEntry> entries = new TreeMap<>();
    private final CopyOnWriteArrayList<ConfigListener> listeners = new CopyOnWriteArrayList<>();

    @Override
    public synchronized Optional<ConfigEntry> get(String key) {
        return Optional.ofNullable(entries.get(ConfigStore.checkKey(key)));
    }

    @Override
    public synchronized Map<String, ConfigEntry> entries() {
        return Map.copyOf(entries);
    }

    @Override
    public synchronized CompletableFuture<ConfigEntry> put(String key, byte[] value, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
            if (value.length > MAX_VALUE_BYTES) {
                throw new IllegalArgumentException("config " + key + ": " + value.length + " bytes, at most " + MAX_VALUE_BYTES);
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        ConfigEntry old = entries.get(key);
        long actual = old == null ? ABSENT : old.version();
        if (expectedVersion != ANY && expectedVersion != actual) {
            return CompletableFuture.failedFuture(new ConfigConflictException(key, expectedVersion, actual));
        }
        ConfigEntry next = new ConfigEntry(key, actual + 1, value);
        entries.put(key, next);
        listeners.forEach(l -> l.configChanged(key, next));
        return CompletableFuture.completedFuture(next);
    }

    @Override
    public synchronized CompletableFuture<Void> remove(String key, long expectedVersion) {
        try {
            ConfigStore.checkKey(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        ConfigEntry old = entries.get(key);
        if (old == null) {
            return CompletableFuture.completedFuture(null);
        }
        if (expectedVersion != ANY && expectedVersion != old.version()) {
            return CompletableFuture.failedFuture(new ConfigConflictException(key, expectedVersion, old.version()));
        }
        entries.remove(key);
        listeners.forEach(l -> l.configChanged(key, null));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void addListener(ConfigListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(ConfigListener listener) {
        listeners.remove(listener);
    }
}
