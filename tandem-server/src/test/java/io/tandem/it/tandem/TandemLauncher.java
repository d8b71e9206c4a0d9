package io.tandem.it.tandem;

import io.tandem.it.target.TargetLauncher;
import io.tandem.it.target.TargetSpec;
import io.tandem.it.target.TargetUnderTest;
import io.tandem.server.NodeConfig;
import io.tandem.server.TandemNode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts one in-process Tandem node per {@link TargetSpec} on an ephemeral loopback port, each with
 * its own data directory. The data LUN is LUN 0.
 */
public final class TandemLauncher implements TargetLauncher {
    private static final int DATA_LUN = 0;

    private final Path root;
    private final Map<TargetSpec, Running> targets = new HashMap<>();
    private final List<TandemNode> nodes = new ArrayList<>();
    private int counter;

    public TandemLauncher() throws IOException {
        this.root = Files.createTempDirectory("tandem-it-node");
    }

    @Override
    public String name() {
        return "tandem";
    }

    @Override
    public synchronized TargetUnderTest target(TargetSpec spec) throws Exception {
        Running existing = targets.get(spec);
        if (existing != null) {
            return existing;
        }
        int n = ++counter;
        Path dataDir = Files.createDirectories(root.resolve("node-" + n));
        NodeConfig.Builder config = NodeConfig.builder()
                .portal(new InetSocketAddress("127.0.0.1", 0))
                .dataDir(dataDir)
                .targetName("iqn.2025-01.io.tandem.it:node-" + n)
                .lun(DATA_LUN, spec.lunBytes(), spec.blockSize())
                .shutdownGrace(Duration.ofSeconds(1));
        if (spec.chap() != null) {
            TargetSpec.ChapSecrets c = spec.chap();
            config.chap(c.initiatorUser(), c.initiatorSecret());
            if (c.mutual()) {
                config.mutualChap(c.targetUser(), c.targetSecret());
            }
        }
        if (spec.nopInInterval() != null) {
            config.nop(spec.nopInInterval(), spec.nopInInterval().multipliedBy(5));
        }
        TandemNode node = TandemNode.start(config.build());
        nodes.add(node);
        Running running = new Running(node.portal(), node.targetName(), DATA_LUN, spec);
        targets.put(spec, running);
        return running;
    }

    @Override
    public synchronized void close() {
        for (TandemNode node : nodes) {
            try {
                node.close();
            } catch (Exception e) {
                // keep closing the others; a node that fails to close shows up in its own tests
            }
        }
        try (var files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // scratch directory
        }
    }

    private record Running(InetSocketAddress portal, String targetName, int dataLun, TargetSpec spec)
            implements TargetUnderTest {}
}
