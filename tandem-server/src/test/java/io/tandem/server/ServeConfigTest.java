package io.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ServeConfigTest {

    @TempDir
    Path dir;

    private static NodeConfig parse(String... args) {
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs(args);
        return command.buildConfig();
    }

    @Test
    void noArgumentsGiveTheEmbeddedDefault() {
        NodeConfig config = parse();
        assertThat(config.portals()).singleElement().satisfies(p -> {
            assertThat(p.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            assertThat(p.getPort()).isEqualTo(3260);
        });
        assertThat(config.dataDir()).isEqualTo(Path.of("tandem-data"));
        assertThat(config.luns()).singleElement().satisfies(l -> {
            assertThat(l.sizeBytes()).isEqualTo(1L << 30);
            assertThat(l.blockSize()).isEqualTo(512);
            assertThat(l.backend()).isEqualTo(LunConfig.Backend.FILE);
        });
        assertThat(config.targetName()).isEqualTo(NodeConfig.DEFAULT_TARGET_NAME);
    }

    @Test
    void flagsSetPortalDataAndLuns() {
        NodeConfig config = parse("--portal", "127.0.0.1:3999", "--data", dir.toString(), "--luns", "3",
                "--lun-size", "64M", "--block-size", "4096", "--target-name", "iqn.2026-11.org.example:t1");
        assertThat(config.portals().getFirst().getPort()).isEqualTo(3999);
        assertThat(config.dataDir()).isEqualTo(dir);
        assertThat(config.luns()).extracting(LunConfig::number).containsExactly(0, 1, 2);
        assertThat(config.luns()).allSatisfy(l -> {
            assertThat(l.sizeBytes()).isEqualTo(64L << 20);
            assertThat(l.blockSize()).isEqualTo(4096);
        });
        assertThat(config.targetName()).isEqualTo("iqn.2026-11.org.example:t1");
    }

    @Test
    void removableFlagMakesEveryFlagLunRemovable() {
        assertThat(parse("--removable", "--luns", "2").luns()).extracting(LunConfig::removable).containsExactly(true, true);
        assertThat(parse().luns().getFirst().removable()).isFalse();
    }

    @Test
    void removableIsAYamlBooleanPerLun() throws Exception {
        Path file = dir.resolve("removable.yaml");
        Files.writeString(file, """
                luns:
                  - { number: 0, size: 8M }
                  - { number: 1, name: cartridge, backend: memory, size: 8M, removable: true }
                """);
        assertThat(parse("--config", file.toString()).luns()).extracting(LunConfig::removable).containsExactly(false, true);
        assertThat(yamlError("luns: [ { number: 0, size: 8M, removable: yes please } ]")).isEqualTo("luns[0].removable");
        assertThatThrownBy(() -> parse("--config", file.toString(), "--removable"))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void physicalBlockSizeMakesA512eLun() {
        assertThat(parse("--physical-block-size", "4096").luns().getFirst().physicalBlockSize()).isEqualTo(4096);
        assertThat(parse().luns().getFirst().physicalBlockSize()).isEqualTo(512);
        assertThatThrownBy(() -> parse("--physical-block-size", "1536")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("--physical-block-size"));
        assertThatThrownBy(() -> parse("--block-size", "4096", "--physical-block-size", "512"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.field()).isEqualTo("--physical-block-size"));
    }

    @Test
    void badFlagValuesNameTheFlag() {
        assertThatThrownBy(() -> parse("--block-size", "1000")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("--block-size"));
        assertThatThrownBy(() -> parse("--lun-size", "12x")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("--lun-size"));
        assertThatThrownBy(() -> parse("--portal", "127.0.0.1:70000")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.field()).isEqualTo("--portal"));
        assertThatThrownBy(() -> parse("--lun-size", "1000", "--block-size", "4096"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.field()).isEqualTo("--lun-size"));
        assertThatThrownBy(() -> parse("--chap-user", "alice")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("--chap-user/--chap-secret");
    }

    @Test
    void yamlFileDefinesSeveralLunsAndChap() throws Exception {
        Path file = dir.resolve("tandem.yaml");
        Files.writeString(file, """
                target: { name: iqn.2026-11.org.example:lab, alias: lab }
                portals: ["127.0.0.1:3301", "127.0.0.1:3302"]
                data: %s
                chap: { user: alice, secret: alice-secret-123, mutual: { user: tgt, secret: target-secret-456 } }
                luns:
                  - { number: 0, name: vm0, size: 16M, block-size: 512 }
                  - { number: 5, name: logs, size: 8M, block-size: 4096, read-only: false }
                  - { number: 6, name: scratch, backend: memory, size: 4M, physical-block-size: 4096 }
                """.formatted(dir));
        NodeConfig config = parse("--config", file.toString());
        assertThat(config.targetName()).isEqualTo("iqn.2026-11.org.example:lab");
        assertThat(config.targetAlias()).isEqualTo("lab");
        assertThat(config.portals()).extracting(p -> p.getPort()).containsExactly(3301, 3302);
        assertThat(config.luns()).extracting(LunConfig::name).containsExactly("vm0", "logs", "scratch");
        assertThat(config.luns().get(2).backend()).isEqualTo(LunConfig.Backend.MEMORY);
        assertThat(config.luns().get(2).physicalBlockSize()).isEqualTo(4096);
        assertThat(config.chap().user()).isEqualTo("alice");
        assertThat(config.mutualChap().user()).isEqualTo("tgt");
        // flags override the file's portals rather than adding to them
        assertThat(parse("--config", file.toString(), "--portal", "127.0.0.1:4000").portals())
                .extracting(p -> p.getPort()).containsExactly(4000);
    }

    @Test
    void yamlErrorsNameTheField() throws Exception {
        assertThat(yamlError("target: { nam: x }")).isEqualTo("target.nam");
        assertThat(yamlError("luns: [ { number: 0, size: 1G, block-size: 1024 } ]")).isEqualTo("luns[0].block-size");
        assertThat(yamlError("luns: [ { number: 0, size: 1G }, { number: 0, name: b, size: 1G } ]")).isEqualTo("luns[].number");
        assertThat(yamlError("luns: [ { number: 0, backend: tape } ]")).isEqualTo("luns[0].backend");
        assertThat(yamlError("portals: 3260")).isEqualTo("portals");
        assertThat(yamlError("luns: [ { number: 0, size: 1G, physical-block-size: 1000 } ]"))
                .isEqualTo("luns[0].physical-block-size");
        assertThat(yamlError("luns: [ { number: 0, size: 1G } ]\nextra: 1")).isEqualTo("extra");
        assertThat(yamlError("target: [unclosed")).isEqualTo("--config");
        assertThat(yamlError("luns: [ { number: 0, initiators: [iqn.2025-01.org.example:a, not-a-name] } ]"))
                .isEqualTo("luns[0].initiators[1]");
        assertThat(yamlError("luns: [ { number: 0, initiators: [] } ]")).isEqualTo("luns[0].initiators");
        assertThat(yamlError("luns: [ { number: 0, initiators: iqn.2025-01.org.example:a } ]")).isEqualTo("luns[0].initiators");
        assertThat(yamlError("luns: [ { number: 0 }, { number: 1, initiators: [iqn.2025-01.org.example:a, IQN.2025-01.org.example:A] } ]"))
                .isEqualTo("luns[1].initiators[1]");
        assertThat(yamlError("target: { initiators: [eui.123] }")).isEqualTo("target.initiators[0]");
    }

    @Test
    void yamlMasksLunsPerInitiatorAndRestrictsLogin() throws Exception {
        Path file = dir.resolve("masking.yaml");
        Files.writeString(file, """
                target: { initiators: [iqn.2025-01.org.example:web, iqn.2025-01.org.example:db] }
                luns:
                  - { number: 0, name: shared, backend: memory, size: 4M }
                  - { number: 1, name: db, backend: memory, size: 4M, initiators: [iqn.2025-01.org.example:db] }
                """);
        NodeConfig config = parse("--config", file.toString());
        assertThat(config.initiators()).containsExactly("iqn.2025-01.org.example:web", "iqn.2025-01.org.example:db");
        assertThat(config.luns().get(0).initiators()).isEmpty();
        assertThat(config.luns().get(1).initiators()).containsExactly("iqn.2025-01.org.example:db");
    }

    @Test
    void rbdLunsNameTheirImageAndClient() throws Exception {
        Path file = dir.resolve("rbd.yaml");
        Files.writeString(file, """
                luns:
                  - { number: 0, name: vmfs, backend: rbd, pool: ssd, image: vmfs01, ceph-conf: /etc/ceph/lab.conf,
                      client-id: client.iscsi, keyring: /etc/ceph/iscsi.keyring, create: 100G }
                  - { number: 1, name: quorum, backend: rbd, block-size: 4096 }
                """);
        List<LunConfig> luns = parse("--config", file.toString()).luns();
        assertThat(luns.get(0).backend()).isEqualTo(LunConfig.Backend.RBD);
        assertThat(luns.get(0).rbd()).isEqualTo(new LunConfig.Rbd("ssd", "vmfs01", Path.of("/etc/ceph/lab.conf"), "iscsi",
                Path.of("/etc/ceph/iscsi.keyring"), 100L << 30));
        assertThat(luns.get(0).sizeBytes()).as("the image decides").isZero();
        // defaults: pool rbd, the LUN's name as image, librados' own config search, client.admin
        assertThat(luns.get(1).rbd()).isEqualTo(new LunConfig.Rbd("rbd", "quorum", null, null, null, 0));
        assertThat(yamlError("luns: [ { number: 0, size: 8M, pool: rbd } ]")).isEqualTo("luns[0].pool");
        assertThat(yamlError("luns: [ { number: 0, backend: rbd, image: a/b } ]")).isEqualTo("luns[0].image");
        assertThat(yamlError("luns: [ { number: 0, backend: rbd, create: 1000, block-size: 512 } ]"))
                .isEqualTo("luns[0].create");
        assertThat(yamlError("luns: [ { number: 0, backend: ceph } ]")).isEqualTo("luns[0].backend");
    }

    private String yamlError(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("bad-" + System.nanoTime() + ".yaml"), yaml);
        try {
            parse("--config", file.toString());
        } catch (ConfigException e) {
            return e.field();
        }
        throw new AssertionError("no error for: " + yaml);
    }

    @Test
    void badInputExitsNonZeroWithOneLine() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true));
            code = Main.run(new String[] {"serve", "--block-size", "7", "--data", dir.toString()});
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString().strip().lines()).singleElement().asString().contains("--block-size");
    }
}
