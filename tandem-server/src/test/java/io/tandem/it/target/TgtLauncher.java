package io.tandem.it.target;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs the tgt userspace target ({@code tgtd -f}) on a loopback portal with a private control port,
 * and creates one iSCSI target per {@link TargetSpec} through {@code tgtadm}. LUN 0 of a tgt target is
 * its controller; the file-backed disk is LUN 1.
 */
public final class TgtLauncher implements TargetLauncher {
    private static final String TGTD = "/usr/sbin/tgtd";
    private static final String TGTADM = "/usr/sbin/tgtadm";
    private static final int DATA_LUN = 1;

    private final Process tgtd;
    private final int controlPort;
    private final InetSocketAddress portal;
    private final Path workDir;
    private final Path log;
    private final Map<TargetSpec, TargetUnderTest> targets = new HashMap<>();
    private int nextTid = 1;

    public static boolean installed() {
        return Files.isExecutable(Path.of(TGTD)) && Files.isExecutable(Path.of(TGTADM));
    }

    private TgtLauncher(Process tgtd, int controlPort, InetSocketAddress portal, Path workDir, Path log) {
        this.tgtd = tgtd;
        this.controlPort = controlPort;
        this.portal = portal;
        this.workDir = workDir;
        this.log = log;
    }

    public static TgtLauncher start() throws IOException, InterruptedException {
        Path workDir = Files.createTempDirectory("tandem-it-tgt");
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            // control ports are unix socket names in /var/run/tgtd; a random one avoids other tgtd instances
            int controlPort = 10000 + ThreadLocalRandom.current().nextInt(20000); // tgtd accepts at most 32767
            int iscsiPort = freePort();
            Path log = workDir.resolve("tgtd-" + controlPort + ".log");
            Process p = new ProcessBuilder(TGTD, "-f", "-C", Integer.toString(controlPort),
                    "--iscsi", "portal=127.0.0.1:" + iscsiPort)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            TgtLauncher launcher = new TgtLauncher(p, controlPort, new InetSocketAddress("127.0.0.1", iscsiPort),
                    workDir, log);
            try {
                launcher.awaitReady();
                return launcher;
            } catch (IOException e) {
                last = e;
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        throw last;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!tgtd.isAlive()) {
                throw new IOException("tgtd exited: " + Files.readString(log));
            }
            boolean listening;
            try (Socket s = new Socket()) {
                s.connect(portal, 200);
                listening = true;
            } catch (IOException e) {
                listening = false;
            }
            if (listening && tgtadmQuiet("--lld", "iscsi", "--mode", "target", "--op", "show") == 0) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IOException("tgtd did not become ready: " + Files.readString(log));
    }

    @Override
    public String name() {
        return "tgt";
    }

    public InetSocketAddress portal() {
        return portal;
    }

    /** Runs tgtadm against this tgtd; throws with its output on failure. */
    public String tgtadm(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(TGTADM, "-C", Integer.toString(controlPort)));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("tgtadm timed out: " + cmd);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("tgtadm failed (" + p.exitValue() + "): " + cmd + "\n" + out);
        }
        return out;
    }

    private int tgtadmQuiet(String... args) throws InterruptedException {
        try {
            tgtadm(args);
            return 0;
        } catch (IOException e) {
            return 1;
        }
    }

    @Override
    public synchronized TargetUnderTest target(TargetSpec spec) throws Exception {
        TargetUnderTest existing = targets.get(spec);
        if (existing != null) {
            return existing;
        }
        int tid = nextTid++;
        String name = "iqn.2025-01.io.tandem.it:tgt-" + tid;
        String t = Integer.toString(tid);
        tgtadm("--lld", "iscsi", "--mode", "target", "--op", "new", "--tid", t, "--targetname", name);
        Path backing = workDir.resolve("lun-" + tid + ".img");
        try (var f = new java.io.RandomAccessFile(backing.toFile(), "rw")) {
            f.setLength(spec.lunBytes());
        }
        tgtadm("--lld", "iscsi", "--mode", "logicalunit", "--op", "new", "--tid", t, "--lun",
                Integer.toString(DATA_LUN), "--backing-store", backing.toString(),
                "--blocksize", Integer.toString(spec.blockSize()));
        tgtadm("--lld", "iscsi", "--mode", "target", "--op", "bind", "--tid", t, "--initiator-address", "ALL");
        // tgt's defaults offer no digests and one outstanding R2T; open them up so the tests can use them
        targetParam(t, "HeaderDigest", "CRC32C,None");
        targetParam(t, "DataDigest", "CRC32C,None");
        targetParam(t, "MaxOutstandingR2T", "8");
        if (spec.chap() != null) {
            TargetSpec.ChapSecrets chap = spec.chap();
            // tgt accounts are global to the daemon, so specs must use distinct user names
            String inUser = chap.initiatorUser();
            tgtadm("--lld", "iscsi", "--mode", "account", "--op", "new", "--user", inUser,
                    "--password", chap.initiatorSecret());
            tgtadm("--lld", "iscsi", "--mode", "account", "--op", "bind", "--tid", t, "--user", inUser);
            if (chap.mutual()) {
                tgtadm("--lld", "iscsi", "--mode", "account", "--op", "new", "--user", chap.targetUser(),
                        "--password", chap.targetSecret());
                tgtadm("--lld", "iscsi", "--mode", "account", "--op", "bind", "--tid", t, "--user",
                        chap.targetUser(), "--outgoing");
            }
        }
        if (spec.nopInInterval() != null) {
            targetParam(t, "nop_interval", Long.toString(Math.max(1, spec.nopInInterval().toSeconds())));
            targetParam(t, "nop_count", "3");
        }
        TargetUnderTest target = new Running(portal, name, DATA_LUN, spec);
        targets.put(spec, target);
        return target;
    }

    private void targetParam(String tid, String name, String value) throws IOException, InterruptedException {
        tgtadm("--lld", "iscsi", "--mode", "target", "--op", "update", "--tid", tid, "--name", name, "--value", value);
    }

    /** tgtd's own log (stdout/stderr), for diagnosing a failed test. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        // tgtd ignores SIGTERM while targets exist, so stop it hard; the backing files are scratch
        tgtd.destroyForcibly();
        try {
            tgtd.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(workDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // scratch directory; leaving it behind is harmless
        }
    }

    private record Running(InetSocketAddress portal, String targetName, int dataLun, TargetSpec spec)
            implements TargetUnderTest {}
}
