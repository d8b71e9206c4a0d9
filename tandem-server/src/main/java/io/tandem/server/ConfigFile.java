package io.tandem.server;

import io.tandem.scsi.alua.AluaMode;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads a YAML node configuration into a {@link NodeConfig.Builder}. Unknown keys are errors, so a
 * typo never silently falls back to a default.
 *
 * <pre>
 * target:
 *   name: iqn.2026-11.io.tandem:disk
 *   alias: lab
 *   initiators: [iqn.1994-05.com.redhat:web1, iqn.1994-05.com.redhat:db1]   # who may log in (default: anyone)
 * portals: ["127.0.0.1:3260"]
 * data: /var/lib/tandem
 * chap: { user: alice, secret: secret-of-12+chars, mutual: { user: target, secret: another-secret } }
 * luns:
 *   - { number: 0, name: vm0, size: 10G, block-size: 512 }
 *   - { number: 1, name: logs, file: /srv/logs.img, size: 1G, block-size: 4096, read-only: false }
 *   - { number: 3, name: vmfs, size: 100G, block-size: 512, physical-block-size: 4096 }   # 512e
 *   - { number: 2, name: scratch, backend: memory, size: 256M }
 *   - { number: 5, name: shared, backend: rbd, pool: rbd, image: shared, ceph-conf: /etc/ceph/ceph.conf,
 *       client-id: iscsi, keyring: /etc/ceph/ceph.client.iscsi.keyring, create: 100G }
 *   - { number: 4, name: cartridge, size: 4G, removable: true }   # RMB=1: ejectable medium
 *   - { number: 3, name: db, size: 20G, initiators: [iqn.1994-05.com.redhat:db1] }   # LUN masking
 *   - { number: 4, name: quorum, size: 1G, alua: active-standby }   # cluster: one owning node at a time
 * </pre>
 *
 * <p>A cluster node adds {@code node} and {@code cluster}; its {@code target}, {@code chap} and
 * {@code luns} then only seed a cluster that has no configuration yet (see {@link ClusterDocument}):
 *
 * <pre>
 * node: { id: 2 }
 * cluster: { zookeeper: "zk1:2181,zk2:2181,zk3:2181", name: prod, session-timeout: 10 }
 * portals: ["192.0.2.12:3260"]
 * </pre>
 *
 * <p>or, coordinated by Ceph itself instead of ZooKeeper (pool default {@code rbd}, client default
 * {@code admin}, ceph.conf and keyring default to librados' own search):
 *
 * <pre>
 * cluster: { coordinator: rados, ceph-conf: /etc/ceph/ceph.conf, pool: rbd, client-id: iscsi,
 *            keyring: /etc/ceph/ceph.client.iscsi.keyring, name: prod, session-timeout: 10 }
 * </pre>
 */
final class ConfigFile {
    /** The sections every node of a cluster shares. */
    static final Set<String> CLUSTER_WIDE_KEYS = Set.of("target", "chap", "luns");
    private static final Set<String> NODE_KEYS = Set.of("target", "portals", "data", "chap", "luns", "node", "cluster");

    private ConfigFile() {
    }

    static void apply(Path file, NodeConfig.Builder builder) {
        Object root;
        try (Reader reader = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        } catch (IOException e) {
            throw new ConfigException("--config", "cannot read " + file + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ConfigException("--config", "not valid YAML in " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null) {
            return;
        }
        Map<String, Object> top = map("(top level)", root, NODE_KEYS);
        if (top.get("node") != null) {
            Map<String, Object> node = map("node", top.get("node"), Set.of("id"));
            builder.nodeId(integer("node.id", node.get("id")));
        }
        if (top.get("cluster") != null) {
            Map<String, Object> cluster = map("cluster", top.get("cluster"), Set.of("coordinator", "zookeeper", "name",
                    "session-timeout", "ceph-conf", "pool", "client-id", "keyring"));
            String name = cluster.get("name") == null ? null : string("cluster.name", cluster.get("name"));
            java.time.Duration timeout = cluster.get("session-timeout") == null ? null
                    : java.time.Duration.ofSeconds(integer("cluster.session-timeout", cluster.get("session-timeout")));
            ClusterSettings.Coordinator coordinator = cluster.get("coordinator") == null ? ClusterSettings.Coordinator.ZOOKEEPER
                    : ClusterSettings.Coordinator.parse("cluster.coordinator", string("cluster.coordinator", cluster.get("coordinator")));
            ClusterSettings.Ceph ceph = null;
            if (coordinator == ClusterSettings.Coordinator.RADOS || cluster.get("ceph-conf") != null || cluster.get("pool") != null
                    || cluster.get("client-id") != null || cluster.get("keyring") != null) {
                ceph = new ClusterSettings.Ceph(
                        cluster.get("ceph-conf") == null ? null : Path.of(string("cluster.ceph-conf", cluster.get("ceph-conf"))),
                        cluster.get("pool") == null ? null : string("cluster.pool", cluster.get("pool")),
                        cluster.get("client-id") == null ? null : string("cluster.client-id", cluster.get("client-id")),
                        cluster.get("keyring") == null ? null : Path.of(string("cluster.keyring", cluster.get("keyring"))));
            }
            String zookeeper = cluster.get("zookeeper") == null ? null : string("cluster.zookeeper", cluster.get("zookeeper"));
            builder.cluster(new ClusterSettings(coordinator, zookeeper, ceph, name, timeout));
        }
        if (top.get("portals") != null) {
            for (Object portal : list("portals", top.get("portals"))) {
                builder.portal(Portals.parse("portals[]", string("portals[]", portal)));
            }
        }
        if (top.get("data") != null) {
            builder.dataDir(Path.of(string("data", top.get("data"))));
        }
        applyClusterWide(top, builder);
    }

    /**
     * Reads the cluster-wide sections ({@code target}, {@code chap}, {@code luns}) of a document
     * into the builder: from a node's file, or from the cluster's stored configuration.
     */
    static void applyClusterWide(Map<String, Object> top, NodeConfig.Builder builder) {
        if (top.get("target") != null) {
            Map<String, Object> target = map("target", top.get("target"), Set.of("name", "alias", "initiators"));
            if (target.get("name") != null) {
                builder.targetName(string("target.name", target.get("name")));
            }
            if (target.get("alias") != null) {
                builder.targetAlias(string("target.alias", target.get("alias")));
            }
            if (target.containsKey("initiators")) {
                builder.initiators(initiators("target.initiators", target.get("initiators")));
            }
        }
        if (top.get("chap") != null) {
            Map<String, Object> chap = map("chap", top.get("chap"), Set.of("user", "secret", "mutual"));
            builder.chap(string("chap.user", chap.get("user")), string("chap.secret", chap.get("secret")));
            if (chap.get("mutual") != null) {
                Map<String, Object> mutual = map("chap.mutual", chap.get("mutual"), Set.of("user", "secret"));
                builder.mutualChap(string("chap.mutual.user", mutual.get("user")),
                        string("chap.mutual.secret", mutual.get("secret")));
            }
        }
        if (top.get("luns") != null) {
            int index = 0;
            for (Object entry : list("luns", top.get("luns"))) {
                String field = "luns[" + index++ + "]";
                Map<String, Object> lun = map(field, entry,
                        Set.of("number", "name", "backend", "file", "size", "block-size", "physical-block-size",
                                "read-only", "initiators", "removable", "alua",
                                "pool", "image", "ceph-conf", "client-id", "keyring", "create"));
                int number = integer(field + ".number", lun.getOrDefault("number", index - 1));
                String name = lun.get("name") == null ? "lun" + number : string(field + ".name", lun.get("name"));
                LunConfig.Backend backend = switch (lun.getOrDefault("backend", "file").toString()) {
                    case "file" -> LunConfig.Backend.FILE;
                    case "memory" -> LunConfig.Backend.MEMORY;
                    case "rbd" -> LunConfig.Backend.RBD;
                    default -> throw new ConfigException(field + ".backend", "must be file, memory or rbd, got "
                            + lun.get("backend"));
                };
                Path path = lun.get("file") == null ? null : Path.of(string(field + ".file", lun.get("file")));
                LunConfig.Rbd rbd = rbd(field, name, lun, backend);
                long size = lun.get("size") != null ? Sizes.parse(field + ".size", lun.get("size").toString())
                        : backend == LunConfig.Backend.RBD || (path != null && Files.exists(path)) ? 0
                        : NodeConfig.DEFAULT_LUN_SIZE;
                int blockSize = integer(field + ".block-size", lun.getOrDefault("block-size", 512));
                boolean readOnly = Boolean.TRUE.equals(lun.get("read-only"));
                boolean removable = bool(field + ".removable", lun.getOrDefault("removable", false));
                List<String> initiators = lun.containsKey("initiators")
                        ? initiators(field + ".initiators", lun.get("initiators")) : List.of();
                try {
                    int physical = integer(field + ".physical-block-size", lun.getOrDefault("physical-block-size", 0));
                    AluaMode alua = null;
                    if (lun.get("alua") != null) {
                        alua = AluaMode.ofConfigName(string(field + ".alua", lun.get("alua")));
                        if (alua == null) {
                            throw new ConfigException(field + ".alua",
                                    "must be active-active, active-standby or explicit, got " + lun.get("alua"));
                        }
                    }
                    builder.lun(new LunConfig(number, name, backend, path, size, blockSize, readOnly, initiators, physical,
                            removable, alua, rbd));
                } catch (ConfigException e) {
                    throw new ConfigException(e.field().replace("luns[]", field), e.getMessage().substring(e.field().length() + 2));
                }
            }
        }
    }

    /**
     * The image of an rbd LUN: {@code pool} (default rbd), {@code image} (default the LUN's name),
     * {@code ceph-conf}, {@code client-id}, {@code keyring}, and {@code create: SIZE} to create the
     * image when it does not exist. These keys belong to rbd LUNs only.
     */
    private static LunConfig.Rbd rbd(String field, String name, Map<String, Object> lun, LunConfig.Backend backend) {
        List<String> keys = List.of("pool", "image", "ceph-conf", "client-id", "keyring", "create");
        if (backend != LunConfig.Backend.RBD) {
            for (String key : keys) {
                if (lun.containsKey(key)) {
                    throw new ConfigException(field + "." + key, "only for backend: rbd");
                }
            }
            return null;
        }
        String pool = lun.get("pool") == null ? "rbd" : string(field + ".pool", lun.get("pool"));
        String image = lun.get("image") == null ? name : string(field + ".image", lun.get("image"));
        Path conf = lun.get("ceph-conf") == null ? null : Path.of(string(field + ".ceph-conf", lun.get("ceph-conf")));
        String clientId = lun.get("client-id") == null ? null : string(field + ".client-id", lun.get("client-id"));
        if (clientId != null && clientId.startsWith("client.")) {
            clientId = clientId.substring("client.".length());
        }
        Path keyring = lun.get("keyring") == null ? null : Path.of(string(field + ".keyring", lun.get("keyring")));
        long create = lun.get("create") == null ? 0 : Sizes.parse(field + ".create", lun.get("create").toString());
        try {
            return new LunConfig.Rbd(pool, image, conf, clientId, keyring, create);
        } catch (ConfigException e) {
            throw new ConfigException(e.field().replace("luns[]", field), e.getMessage().substring(e.field().length() + 2));
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(String field, Object value, Set<String> allowed) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new ConfigException(field, "expected a mapping, got " + describe(value));
        }
        for (Object key : m.keySet()) {
            if (!allowed.contains(String.valueOf(key))) {
                throw new ConfigException(field.equals("(top level)") ? String.valueOf(key) : field + "." + key,
                        "unknown key (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
        return (Map<String, Object>) m;
    }

    private static List<?> list(String field, Object value) {
        if (!(value instanceof List<?> l)) {
            throw new ConfigException(field, "expected a list, got " + describe(value));
        }
        return l;
    }

    /** A non-empty list of iSCSI names; an empty list would hide a LUN from everyone (or lock every initiator out). */
    private static List<String> initiators(String field, Object value) {
        List<?> names = list(field, value);
        if (names.isEmpty()) {
            throw new ConfigException(field, "list at least one initiator name, or leave the key out to allow every initiator");
        }
        java.util.ArrayList<String> out = new java.util.ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            String name = string(field + "[" + i + "]", names.get(i));
            if (!NodeConfig.isIscsiName(name)) {
                throw new ConfigException(field + "[" + i + "]",
                        "not a valid iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui. or naa.): " + name);
            }
            out.add(name);
        }
        return out;
    }

    private static String string(String field, Object value) {
        if (value == null) {
            throw new ConfigException(field, "is required");
        }
        if (value instanceof Map || value instanceof List) {
            throw new ConfigException(field, "expected a string, got " + describe(value));
        }
        return value.toString();
    }

    private static int integer(String field, Object value) {
        if (value instanceof Integer i) {
            return i;
        }
        try {
            return Integer.parseInt(String.valueOf(value));
        } catch (NumberFormatException e) {
            throw new ConfigException(field, "expected a whole number, got " + value);
        }
    }

    private static boolean bool(String field, Object value) {
        if (!(value instanceof Boolean b)) {
            throw new ConfigException(field, "expected true or false, got " + describe(value));
        }
        return b;
    }

    private static String describe(Object value) {
        return value == null ? "nothing" : value instanceof Map ? "a mapping" : value instanceof List ? "a list" : "'" + value + "'";
    }
}
