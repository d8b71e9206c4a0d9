package io.tandem.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Tandem server in its own JVM, started from the test classpath with {@code tandem serve} and the
 * given arguments (plus {@code --portal 127.0.0.1:0}): for tests that need a separate process (kill
 * -9, record locks between processes). Startup is bounded; the process is killed on close.
 */
public final class TandemProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on ([0-9.]+):(\\d+)");

    private final Process process;
    private final InetSocketAddress portal;
    private final StringBuffer output;

    private TandemProcess(Process process, InetSocketAddress portal, StringBuffer output) {
        this.process = process;
        this.portal = portal;
        this.output = output;
    }

    public static TandemProcess serve(String... serveArgs) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.tandem.server.Main", "serve", "--portal", "127.0.0.1:0"));
        cmd.addAll(List.of(serveArgs));
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuffer all = new StringBuffer();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                    all.append(line).append('\n');
                }
            } catch (IOException ignored) {
                // the process ended or was killed
            }
        });
        InetSocketAddress found = null;
        StringBuilder output = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (line == null) {
                if (!process.isAlive()) {
                    break;
                }
                continue;
            }
            output.append(line).append('\n');
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                found = new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
            }
            if (line.equals("ready")) {
                break;
            }
        }
        if (found == null) {
            process.destroyForcibly();
            throw new AssertionError("server did not start:\n" + output);
        }
        return new TandemProcess(process, found, all);
    }

    public InetSocketAddress portal() {
        return portal;
    }

    /** Everything the process printed so far (stdout and stderr). */
    public String output() {
        return output.toString();
    }

    /** SIGSTOP: the whole process freezes (its sockets stay open), as in a long stall. */
    public void stop() throws Exception {
        signal("STOP");
    }

    /** SIGCONT: a frozen process runs on. */
    public void cont() throws Exception {
        if (process.isAlive()) {
            signal("CONT");
        }
    }

    private void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s", name).isZero();
    }

    /** SIGKILL: no shutdown hook, no flush; only what is already on disk survives. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(137);
    }

    /** SIGTERM, then SIGKILL if it has not stopped within 20 s. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
