package io.tandem.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a node joins a cluster: the coordinator that keeps the cluster's shared state, and the
 * cluster's name in it. A node with these settings takes its target, LUN and ACL configuration
 * from the cluster (every node applies the same), keeps its SCSI state (reservations, ALUA,
 * resets) in the coordinator, and fences itself whenever its session with the coordinator is in
 * doubt.
 *
 * <ul>
 * <li>{@code zookeeper}: an Apache ZooKeeper ensemble ({@link #zookeeper()}).</li>
 * <li>{@code rados}: the Ceph cluster itself ({@link #ceph()}), for sites that run Ceph and no
 * ZooKeeper; a node declared gone is blocklisted in Ceph before the others go on without it.</li>
 * </ul>
 *
 * @param coordinator    which coordinator
 * @param zookeeper      ZooKeeper connect string, {@code host:port[,host:port...]} (optionally with
 *                       a chroot); only for {@code zookeeper}
 * @param ceph           the Ceph client and pool; only for {@code rados}
 * @param name           the cluster's name: its nodes share everything under it
 * @param sessionTimeout how long a silent node stays a member (the ZooKeeper session timeout, the
 *                       RADOS watch timeout). Survivors wait at most about this long for a dead node
 *                       before going on.
 */
public record ClusterSettings(Coordinator coordinator, String zookeeper, Ceph ceph, String name, Duration sessionTimeout) {

    public static final String DEFAULT_NAME = "tandem";
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);

    /** The coordinators a cluster can use. */
    public enum Coordinator {
        ZOOKEEPER, RADOS;

        /** As written in configuration: {@code zookeeper}, {@code rados}. */
        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Coordinator parse(String field, String text) {
            for (Coordinator c : values()) {
                if (c.key().equals(text)) {
                    return c;
                }
            }
            throw new ConfigException(field, "must be zookeeper or rados, got " + text);
        }
    }

    /**
     * The Ceph client of the {@code rados} coordinator and the pool that holds its objects.
     *
     * @param conf     the cluster's ceph.conf; null: librados' default search ({@code /etc/ceph/ceph.conf})
     * @param pool     the pool of the coordinator's objects ({@code tandem.<cluster name>.*})
     * @param clientId the N of the Ceph user {@code client.N}; null: {@code admin}
     * @param keyring  the user's keyring; null: the one ceph.conf names
     */
    public record Ceph(Path conf, String pool, String clientId, Path keyring) {

        public static final String DEFAULT_POOL = "rbd";

        public Ceph {
            pool = pool == null ? DEFAULT_POOL : pool;
            if (!pool.matches("[A-Za-z0-9._-]{1,128}")) {
                throw new ConfigException("cluster.pool", "a Ceph pool name (1-128 of A-Z a-z 0-9 . _ -), got '" + pool + "'");
            }
            if (clientId != null && (clientId.startsWith("client.") || !clientId.matches("[A-Za-z0-9._-]{1,64}"))) {
                throw new ConfigException("cluster.client-id", "the N of the Ceph user client.N (without 'client.'), got '"
                        + clientId + "'");
            }
            if (conf != null && !Files.isReadable(conf)) {
                throw new ConfigException("cluster.ceph-conf", "cannot read " + conf);
            }
            if (keyring != null && !Files.isReadable(keyring)) {
                throw new ConfigException("cluster.keyring", "cannot read " + keyring);
            }
        }
    }

    public ClusterSettings {
        Objects.requireNonNull(coordinator, "coordinator");
        if (coordinator == Coordinator.ZOOKEEPER) {
            if (zookeeper == null || zookeeper.isBlank() || zookeeper.chars().anyMatch(Character::isWhitespace)) {
                throw new ConfigException("cluster.zookeeper", "a connect string host:port[,host:port...], got '" + zookeeper + "'");
            }
            if (ceph != null) {
                throw new ConfigException("cluster.coordinator", "ceph-conf, pool, client-id and keyring are for the rados"
                        + " coordinator; set coordinator: rados (and no zookeeper)");
            }
        } else {
            if (zookeeper != null) {
                throw new ConfigException("cluster.zookeeper", "is for the zookeeper coordinator, not rados");
            }
            ceph = ceph == null ? new Ceph(null, null, null, null) : ceph;
        }
        name = name == null ? DEFAULT_NAME : name;
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new ConfigException("cluster.name", "1-64 characters of A-Z a-z 0-9 . _ -, got " + name);
        }
        sessionTimeout = sessionTimeout == null ? DEFAULT_SESSION_TIMEOUT : sessionTimeout;
        if (sessionTimeout.compareTo(Duration.ofSeconds(2)) < 0 || sessionTimeout.compareTo(Duration.ofMinutes(2)) > 0
                || sessionTimeout.toMillis() % 1000 != 0) {
            throw new ConfigException("cluster.session-timeout", "must be 2..120 whole seconds, got " + sessionTimeout.toMillis() + " ms");
        }
    }

    /** A cluster coordinated by ZooKeeper. */
    public ClusterSettings(String zookeeper, String name, Duration sessionTimeout) {
        this(Coordinator.ZOOKEEPER, zookeeper, null, name, sessionTimeout);
    }

    public static ClusterSettings of(String zookeeper, String name) {
        return new ClusterSettings(zookeeper, name, null);
    }

    /** A cluster coordinated through Ceph RADOS. */
    public static ClusterSettings rados(Ceph ceph, String name, Duration sessionTimeout) {
        return new ClusterSettings(Coordinator.RADOS, null, ceph, name, sessionTimeout);
    }

    /** Where the cluster's state lives, for messages: the ZooKeeper connect string, or the Ceph pool. */
    public String where() {
        return coordinator == Coordinator.ZOOKEEPER ? zookeeper
                : "Ceph pool " + ceph.pool() + (ceph.conf() == null ? "" : " of " + ceph.conf());
    }
}
