package io.tandem.storage.rbd;

import io.tandem.ceph.Rados;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where an RBD LU lives and how to reach it: the image {@code pool/image}, the cluster's
 * {@code ceph.conf} (null: librados' default search, e.g. {@code /etc/ceph/ceph.conf}), the client id (the N of {@code client.N}; null for {@code client.admin}), an
 * optional keyring (else the one ceph.conf names), and extra client options.
 *
 * <p>Every client gets {@code rbd_cache=false} (a write is acknowledged only when the cluster has
 * it), and operation timeouts ({@link #DEFAULT_OP_TIMEOUT_SECONDS}) so that a cluster that stops
 * answering fails commands instead of leaving them hanging; {@code options} may override the
 * timeouts but neither the cache nor zero-copy writes, and neither can ceph.conf.
 *
 * <p>librbd's zero-copy writes ({@code rbd_disable_zero_copy_writes=false}) stay off, although a
 * command's buffer is stable until its write completes and they save a copy per written byte (single
 * runs of 1 MiB writes went from about 650 to 1000 MB/s, see docs/rbd.md): librbd then holds a write's
 * completion until the messenger lets go of the buffer, and a write in flight when the client was
 * blocklisted could keep it forever (RbdBlockDeviceTest's fenced client: the write never completed
 * and rbd_close hung in 3 of 6 runs on Ceph 16.2.15). A fenced node must still be able to close.
 */
public record RbdSettings(String pool, String image, Path conf, String clientId, Path keyring,
                          Map<String, String> options) {

    public static final int DEFAULT_OP_TIMEOUT_SECONDS = 30;
    /** librbd's cache option; Tandem needs it {@code false}. */
    public static final String CACHE = "rbd_cache";
    /** librbd's zero-copy write switch; Tandem needs it {@code true} (zero-copy off, see above). */
    public static final String NO_ZERO_COPY_WRITES = "rbd_disable_zero_copy_writes";

    public RbdSettings {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(image, "image");
        options = options == null ? Map.of() : Map.copyOf(options);
    }

    public RbdSettings(String pool, String image, Path conf, String clientId, Path keyring) {
        this(pool, image, conf, clientId, keyring, Map.of());
    }

    /** "pool/image". */
    public String spec() {
        return pool + "/" + image;
    }

    /** A connected client as configured. */
    public Rados connect() {
        Rados rados = Rados.create(clientId);
        try {
            if (conf != null) {
                rados.readConfig(conf);
            } else {
                rados.readDefaultConfig();
            }
            if (keyring != null) {
                rados.set("keyring", keyring.toString());
            }
            String timeout = Integer.toString(DEFAULT_OP_TIMEOUT_SECONDS);
            rados.set("client_mount_timeout", timeout)
                    .set("rados_osd_op_timeout", timeout)
                    .set("rados_mon_op_timeout", timeout);
            options.forEach(rados::set);
            rados.set(CACHE, "false").set(NO_ZERO_COPY_WRITES, "true");
            rados.connect();
            return rados;
        } catch (RuntimeException e) {
            rados.close();
            throw e;
        }
    }
}
