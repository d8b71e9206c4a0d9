package io.tandem.ceph.testing;

import io.tandem.ceph.Rados;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The test cluster: a real Ceph (one monitor, one memstore OSD, pool {@code rbd}) on 127.0.0.1,
 * started through the project's {@code scripts/ceph-mini} once per JVM and stopped when the JVM's
 * tests are done, but only if this JVM started it (a cluster already running in the directory is
 * reused and left running).
 *
 * <p>Tests use it through the JUnit extension, {@code @ExtendWith(CephClusterExtension.class)},
 * taking a {@code CephCluster} parameter. Port: {@code TANDEM_CEPH_PORT} (default 40000; the monitor also uses
 * PORT+1); directory: {@code TANDEM_CEPH_DIR} (default {@code $TMPDIR/tandem-ceph-PORT}).
 */
public final class CephCluster {

    public static final String POOL = "rbd";
    private static final long START_TIMEOUT_SECONDS = 180;

    private static volatile CephCluster instance;

    private final Path script;
    private final Path dir;
    private final int port;
    private final Path conf;

    private CephCluster(Path script, Path dir, int port, Path conf) {
        this.script = script;
        this.dir = dir;
        this.port = port;
        this.conf = conf;
    }

    /** The cluster of this JVM, started on first call. */
    public static synchronized CephCluster get(ExtensionContext context) {
        if (instance == null) {
            instance = start();
            if (instance.startedHere) {
                // The root context's store closes its resources once every test of the JVM ran.
                context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                        .put(CephCluster.class.getName(), (ExtensionContext.Store.CloseableResource) instance::stop);
            }
        }
        return instance;
    }

    private boolean startedHere;

    private static CephCluster start() {
        int port = Integer.parseInt(env("TANDEM_CEPH_PORT", "40000"));
        Path dir = Path.of(env("TANDEM_CEPH_DIR", Path.of(System.getProperty("java.io.tmpdir"), "tandem-ceph-" + port).toString()));
        Path script = findScript();
        boolean wasRunning = run(script, List.of("status", dir.toString()), 60).exit == 0;
        Result started = run(script, List.of("start", dir.toString(), "--port", Integer.toString(port)), START_TIMEOUT_SECONDS);
        if (started.exit != 0) {
            throw new IllegalStateException("scripts/ceph-mini start failed (exit " + started.exit + "):\n" + started.stderr);
        }
        CephCluster cluster = new CephCluster(script, dir, port, Path.of(started.stdout.strip()));
        cluster.startedHere = !wasRunning;
        return cluster;
    }

    private void stop() {
        Result r = run(script, List.of("stop", dir.toString(), "--purge"), 60);
        if (r.exit != 0) {
            System.err.println("scripts/ceph-mini stop failed: " + r.stderr);
        }
    }

    /** The ceph.conf of the cluster. */
    public Path conf() {
        return conf;
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    /**
     * A connected client {@code client.admin} with the settings the target uses: no librbd cache,
     * and timeouts so a stuck cluster fails calls instead of hanging tests.
     */
    public Rados connect() {
        Rados rados = Rados.create(null);
        try {
            rados.readConfig(conf)
                    .set("rbd_cache", "false")
                    .set("client_mount_timeout", "30")
                    .set("rados_osd_op_timeout", "30")
                    .set("rados_mon_op_timeout", "30")
                    .connect();
            return rados;
        } catch (RuntimeException e) {
            rados.close();
            throw e;
        }
    }

    /** Runs a ceph CLI tool ({@code rbd}, {@code rados}, {@code ceph}) against the cluster, bounded; returns stdout. */
    public String cli(String tool, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("timeout", "-k", "5", "60", tool, "-c", conf.toString()));
        command.addAll(List.of(args));
        Result r = exec(command, 90);
        if (r.exit != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + r.exit + "): " + r.stderr);
        }
        return r.stdout;
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** scripts/ceph-mini of this checkout: searched upwards from the working directory. */
    private static Path findScript() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("scripts").resolve("ceph-mini");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("scripts/ceph-mini not found above " + Path.of("").toAbsolutePath());
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private static Result run(Path script, List<String> args, long timeoutSeconds) {
        List<String> command = new java.util.ArrayList<>();
        command.add(script.toString());
        command.addAll(args);
        return exec(command, timeoutSeconds);
    }

    private static Result exec(List<String> command, long timeoutSeconds) {
        try {
            Path out = Files.createTempFile("ceph-cli", ".out");
            Path err = Files.createTempFile("ceph-cli", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    return new Result(124, Files.readString(out), "timed out after " + timeoutSeconds + " s\n" + Files.readString(err));
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
    }
}
