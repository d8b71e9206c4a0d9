package io.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.scsi.alua.AluaMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A cluster node's own configuration, and the cluster-wide document every node applies. */
class ClusterConfigTest {

    @TempDir
    Path dir;

    private static NodeConfig parse(String... args) {
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args);
        return command.buildConfig();
    }

    @Test
    void aClusterNodesFileNamesOnlyItselfAndTheEnsemble() throws Exception {
        Path file = dir.resolve("node.yaml");
        Files.writeString(file, """
                node: { id: 7 }
                cluster: { zookeeper: "zk1:2181,zk2:2181,zk3:2181", name: prod, session-timeout: 6 }
                portals: ["127.0.0.1:3270"]
                """);
        NodeConfig config = parse("--config", file.toString());
        assertThat(config.nodeId()).isEqualTo(7);
        assertThat(config.targetPortGroup()).isEqualTo(7);
        assertThat(config.cluster()).isEqualTo(new ClusterSettings("zk1:2181,zk2:2181,zk3:2181", "prod", Duration.ofSeconds(6)));
        assertThat(config.luns()).as("a cluster node gets its LUNs from the cluster").isEmpty();
    }

    @Test
    void flagsJoinAClusterToo() {
        NodeConfig config = parse("--node-id", "3", "--zookeeper", "127.0.0.1:2181", "--cluster-name", "lab");
        assertThat(config.nodeId()).isEqualTo(3);
        assertThat(config.cluster().name()).isEqualTo("lab");
        assertThat(config.cluster().sessionTimeout()).isEqualTo(ClusterSettings.DEFAULT_SESSION_TIMEOUT);
        assertThat(parse("--node-id", "3", "--zookeeper", "127.0.0.1:2181", "--luns", "2").luns())
                .as("LUN flags seed a new cluster").hasSize(2);
        assertThat(parse().nodeId()).as("standing alone: node 1").isEqualTo(1);
        assertThat(parse().cluster()).isNull();
    }

    @Test
    void badClusterSettingsNameTheirField() {
        assertThatThrownBy(() -> parse("--node-id", "0")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("node.id"));
        assertThatThrownBy(() -> parse("--cluster-name", "x")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("--cluster-name"));
        assertThatThrownBy(() -> parse("--zookeeper", "127.0.0.1:2181", "--memory")).isInstanceOfSatisfying(
                ConfigException.class, e -> assertThat(e.field()).isEqualTo("luns[0].backend"));
    }

    @Test
    void aNodeOfACephOnlySiteNamesTheRadosCoordinatorAndItsClient() throws Exception {
        Path conf = Files.writeString(dir.resolve("ceph.conf"), "[global]\n");
        Path keyring = Files.writeString(dir.resolve("keyring"), "");
        Path file = dir.resolve("node.yaml");
        Files.writeString(file, """
                node: { id: 2 }
                cluster: { coordinator: rados, ceph-conf: %s, pool: tandem, client-id: iscsi, keyring: %s, name: prod,
                           session-timeout: 8 }
                """.formatted(conf, keyring));
        ClusterSettings cluster = parse("--config", file.toString()).cluster();
        assertThat(cluster.coordinator()).isEqualTo(ClusterSettings.Coordinator.RADOS);
        assertThat(cluster.ceph()).isEqualTo(new ClusterSettings.Ceph(conf, "tandem", "iscsi", keyring));
        assertThat(cluster.zookeeper()).isNull();
        assertThat(cluster.name()).isEqualTo("prod");
        assertThat(cluster.sessionTimeout()).isEqualTo(Duration.ofSeconds(8));
        assertThat(cluster.where()).isEqualTo("Ceph pool tandem of " + conf);

        // Defaults: pool rbd, client.admin, librados' own search for ceph.conf and keyring.
        Files.writeString(file, "cluster: { coordinator: rados }\n");
        assertThat(parse("--config", file.toString()).cluster().ceph()).isEqualTo(new ClusterSettings.Ceph(null, "rbd", null, null));
        // The same from flags.
        ClusterSettings flags = parse("--node-id", "3", "--rados-pool", "tandem", "--ceph-conf", conf.toString(),
                "--client-id", "iscsi", "--keyring", keyring.toString(), "--cluster-name", "lab").cluster();
        assertThat(flags).isEqualTo(ClusterSettings.rados(new ClusterSettings.Ceph(conf, "tandem", "iscsi", keyring), "lab", null));
    }

    @Test
    void badRadosSettingsNameTheirField() throws Exception {
        Path file = dir.resolve("node.yaml");
        java.util.Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("cluster: { coordinator: etcd }", "cluster.coordinator");
        cases.put("cluster: { coordinator: rados, zookeeper: \"zk:2181\" }", "cluster.zookeeper");
        cases.put("cluster: { zookeeper: \"zk:2181\", pool: rbd }", "cluster.coordinator");
        cases.put("cluster: { coordinator: rados, pool: \"my pool\" }", "cluster.pool");
        cases.put("cluster: { coordinator: rados, client-id: client.iscsi }", "cluster.client-id");
        cases.put("cluster: { coordinator: rados, ceph-conf: /no/such/ceph.conf }", "cluster.ceph-conf");
        cases.put("cluster: { coordinator: rados, keyring: /no/such/keyring }", "cluster.keyring");
        cases.put("cluster: { coordinator: rados, session-timeout: 1 }", "cluster.session-timeout");
        cases.put("cluster: { coordinator: rados, pol: rbd }", "cluster.pol");
        for (var c : cases.entrySet()) {
            Files.writeString(file, c.getKey() + "\n");
            assertThatThrownBy(() -> parse("--config", file.toString())).as(c.getKey())
                    .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.field()).isEqualTo(c.getValue()));
        }
        assertThatThrownBy(() -> parse("--zookeeper", "zk:2181", "--rados-pool", "rbd")).isInstanceOfSatisfying(
                ConfigException.class, e -> assertThat(e.field()).isEqualTo("--rados-pool"));
        assertThatThrownBy(() -> parse("--ceph-conf", "/etc/ceph/ceph.conf")).isInstanceOfSatisfying(
                ConfigException.class, e -> assertThat(e.field()).isEqualTo("--ceph-conf"));
        assertThatThrownBy(() -> parse("--rados-pool", "rbd", "--client-id", "client.x")).isInstanceOfSatisfying(
                ConfigException.class, e -> assertThat(e.field()).isEqualTo("cluster.client-id"));
    }

    @Test
    void lunsCarryTheirAluaMode() throws Exception {
        Path file = dir.resolve("t.yaml");
        Files.writeString(file, """
                luns:
                  - { number: 0, name: a, size: 1M }
                  - { number: 1, name: b, size: 1M, alua: active-standby }
                  - { number: 2, name: c, size: 1M, alua: explicit }
                """);
        assertThat(parse("--config", file.toString()).luns()).extracting(LunConfig::alua)
                .containsExactly(AluaMode.ACTIVE_ACTIVE, AluaMode.ACTIVE_STANDBY, AluaMode.EXPLICIT);
        Files.writeString(file, "luns: [ { number: 0, size: 1M, alua: sometimes } ]\n");
        assertThatThrownBy(() -> parse("--config", file.toString())).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("luns[0].alua"));
    }

    @Test
    void theClusterDocumentCarriesTheSharedPartWholeAndLeavesTheNodesOwn() {
        NodeConfig shared = NodeConfig.builder().targetName("iqn.2026-11.org.example:shared").targetAlias("lab")
                .initiators(List.of("iqn.1994-05.com.redhat:web1"))
                .chap("alice", "secret-of-12+chars").mutualChap("target", "another-secret")
                .lun(new LunConfig(0, "vm0", LunConfig.Backend.FILE, Path.of("/srv/vm0.img"), 10L << 30, 512, false,
                        List.of("iqn.1994-05.com.redhat:web1"), 4096, AluaMode.ACTIVE_STANDBY))
                .lun(new LunConfig(3, "logs", LunConfig.Backend.FILE, null, 1L << 30, 4096, true))
                .lun(LunConfig.rbd(4, new LunConfig.Rbd("ssd", "vmfs", Path.of("/etc/ceph/ceph.conf"), "iscsi",
                        Path.of("/etc/ceph/iscsi.keyring"), 1L << 30), 512, false))
                .lun(LunConfig.rbd(5, new LunConfig.Rbd("rbd", "plain", null, null, null, 0), 4096, false))
                .build();
        byte[] document = ClusterDocument.render(shared);
        assertThat(new String(document, StandardCharsets.UTF_8)).contains("alua: active-standby");

        NodeConfig node = NodeConfig.builder().nodeId(2).cluster(ClusterSettings.of("zk:2181", "prod"))
                .portal("192.0.2.2", 3260).dataDir(dir).build();
        NodeConfig applied = ClusterDocument.apply(node, document);
        assertThat(applied.sameClusterWide(shared)).isTrue();
        assertThat(applied.luns()).isEqualTo(shared.luns());
        assertThat(applied.nodeId()).isEqualTo(2);
        assertThat(applied.portals()).isEqualTo(node.portals());
        assertThat(applied.dataDir()).isEqualTo(dir);
        assertThat(applied.cluster()).isEqualTo(node.cluster());
    }

    @Test
    void aBrokenClusterDocumentIsRefusedNamingTheField() {
        NodeConfig node = NodeConfig.builder().nodeId(2).cluster(ClusterSettings.of("zk:2181", null)).dataDir(dir).build();
        assertThatThrownBy(() -> ClusterDocument.apply(node, "luns: [ { number: 0, size: 1M, block-size: 9 } ]\n"
                .getBytes(StandardCharsets.UTF_8))).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("luns[0].block-size"));
        assertThatThrownBy(() -> ClusterDocument.apply(node, "portals: []\n".getBytes(StandardCharsets.UTF_8)))
                .as("a node's own settings are not the cluster's").isInstanceOf(ConfigException.class);
    }
}
