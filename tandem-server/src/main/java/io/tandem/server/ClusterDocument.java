package io.tandem.server;

import io.tandem.iscsi.login.ChapCredentials;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The cluster-wide configuration as the cluster stores it: one YAML document under
 * {@link #KEY} in the coordinator's configuration store, with exactly the sections a node's own
 * file uses for them ({@code target}, {@code chap}, {@code luns}), so an operator reads and writes
 * one syntax. Every node applies the stored document; changing it (compare-and-set on its version)
 * changes every node.
 */
final class ClusterDocument {

    /** The configuration store key of the document. */
    static final String KEY = "cluster-config";

    private ClusterDocument() {
    }

    /** The cluster-wide part of {@code config} as a YAML document. */
    static byte[] render(NodeConfig config) {
        Map<String, Object> top = new LinkedHashMap<>();
        Map<String, Object> target = new LinkedHashMap<>();
        target.put("name", config.targetName());
        if (config.targetAlias() != null) {
            target.put("alias", config.targetAlias());
        }
        if (!config.initiators().isEmpty()) {
            target.put("initiators", config.initiators());
        }
        top.put("target", target);
        if (config.chap() != null) {
            Map<String, Object> chap = credentials(config.chap());
            if (config.mutualChap() != null) {
                chap.put("mutual", credentials(config.mutualChap()));
            }
            top.put("chap", chap);
        }
        List<Map<String, Object>> luns = new ArrayList<>();
        for (LunConfig lun : config.luns()) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("number", lun.number());
            l.put("name", lun.name());
            l.put("backend", lun.backend().name().toLowerCase(java.util.Locale.ROOT));
            if (lun.file() != null) {
                l.put("file", lun.file().toString());
            }
            if (lun.rbd() != null) {
                LunConfig.Rbd rbd = lun.rbd();
                l.put("pool", rbd.pool());
                l.put("image", rbd.image());
                if (rbd.cephConf() != null) {
                    l.put("ceph-conf", rbd.cephConf().toString());
                }
                if (rbd.clientId() != null) {
                    l.put("client-id", rbd.clientId());
                }
                if (rbd.keyring() != null) {
                    l.put("keyring", rbd.keyring().toString());
                }
                if (rbd.createBytes() > 0) {
                    l.put("create", Long.toString(rbd.createBytes()));
                }
            }
            if (lun.sizeBytes() > 0) { // 0: the backing store decides (an rbd image, an existing file)
                l.put("size", Long.toString(lun.sizeBytes()));
            }
            l.put("block-size", lun.blockSize());
            if (lun.physicalBlockSize() != lun.blockSize()) {
                l.put("physical-block-size", lun.physicalBlockSize());
            }
            if (lun.readOnly()) {
                l.put("read-only", true);
            }
            if (lun.removable()) {
                l.put("removable", true);
            }
            if (!lun.initiators().isEmpty()) {
                l.put("initiators", lun.initiators());
            }
            l.put("alua", lun.alua().configName());
            luns.add(l);
        }
        top.put("luns", luns);
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        String yaml = "# Tandem cluster configuration: every node of the cluster applies it.\n"
                + new Yaml(new Representer(options), options).dump(top);
        return yaml.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The node's own settings ({@code node}) with the cluster-wide part read from a stored document.
     *
     * @throws ConfigException naming the field if the document is not valid
     */
    static NodeConfig apply(NodeConfig node, byte[] document) {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(new String(document, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new ConfigException("cluster configuration", "not valid YAML: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        NodeConfig.Builder builder = NodeConfig.builder().nodeId(node.nodeId()).cluster(node.cluster())
                .dataDir(node.dataDir());
        node.portals().forEach(builder::portal);
        if (root != null) {
            ConfigFile.applyClusterWide(ConfigFile.map("(cluster configuration)", root, ConfigFile.CLUSTER_WIDE_KEYS),
                    builder);
        }
        return node.withClusterWide(builder.build());
    }

    private static Map<String, Object> credentials(ChapCredentials c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", c.user());
        m.put("secret", new String(c.secret(), StandardCharsets.UTF_8));
        return m;
    }
}
