package io.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What SIGHUP does: re-read the --config file and apply the LUN changes, one line each. */
@Timeout(60)
class ServeReloadTest {

    @TempDir
    Path dir;

    private static final String HEAD = """
            target: { name: iqn.2025-01.org.example:reload }
            portals: ["127.0.0.1:0"]
            data: %s
            """;

    @Test
    void reloadAppliesLunChangesAndKeepsRunningOnABadFile() throws Exception {
        Path file = dir.resolve("tandem.yaml");
        Files.writeString(file, HEAD.formatted(dir) + """
                luns:
                  - { number: 0, name: a, backend: memory, size: 4M }
                  - { number: 1, name: b, backend: memory, size: 4M }
                """);
        ServeCommand command = new ServeCommand();
        new CommandLine(command).parseArgs("--config", file.toString());
        List<String> lines = new CopyOnWriteArrayList<>();
        try (TandemNode node = TandemNode.start(command.buildConfig(), lines::add)) {
            Files.writeString(file, HEAD.formatted(dir).replace("127.0.0.1:0", "127.0.0.2:0") + """
                    luns:
                      - { number: 0, name: a, backend: memory, size: 4M, initiators: [iqn.2025-01.org.example:h1] }
                      - { number: 2, name: c, backend: file, size: 1M }
                    """);
            command.reload(node);
            assertThat(lines).containsExactly(
                    "portals changed: takes effect after a restart; ignored",
                    "lun 1 (b) removed",
                    "lun 0 (a) initiators: any -> iqn.2025-01.org.example:h1",
                    "lun 2 (c) added: 1 MiB, 512-byte blocks, file, initiators: any");
            assertThat(node.config().luns()).extracting(LunConfig::number).containsExactly(0, 2);
            assertThat(dir.resolve("c.img")).exists();

            lines.clear();
            Files.writeString(file, "luns: [ { number: 0, block-size: 1000 } ]");
            String out = captureStdout(() -> command.reload(node));
            assertThat(out).contains("reload refused, bad configuration: luns[0].block-size");
            assertThat(lines).isEmpty();
            assertThat(node.config().luns()).extracting(LunConfig::number).containsExactly(0, 2);
        }
    }

    private static String captureStdout(Runnable body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        try {
            System.setOut(new PrintStream(bytes, true));
            body.run();
        } finally {
            System.setOut(saved);
        }
        return bytes.toString();
    }
}
