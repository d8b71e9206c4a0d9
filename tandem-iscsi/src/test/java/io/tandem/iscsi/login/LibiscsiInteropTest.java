package io.tandem.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the real libiscsi tools (Debian libiscsi-bin) against the negotiator, so the key order,
 * stage handling and CHAP encoding are checked against the initiator Tandem's conformance
 * tests use. The PDU handling here is a minimal test stand-in for the real connection code: it
 * frames Login, Text, Logout and SCSI Command PDUs without digests and answers every SCSI command
 * with CHECK CONDITION, which is enough for a client to prove it got through login.
 * Skipped where the tools are not installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LibiscsiInteropTest {
    private static final String INITIATOR = "iqn.2024-01.io.tandem:interop-client";

    private final List<ServerSocket> servers = new ArrayList<>();

    @AfterEach
    void closeServers() throws IOException {
        for (ServerSocket s : servers) {
            s.close();
        }
    }

    private static void assumeTool(String tool) {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)), tool + " not installed");
    }

    @Test
    void iscsiLsDiscoversTargets() throws Exception {
        assumeTool("iscsi-ls");
        MiniTarget target = start(LoginFixtures.config());
        Result r = run(Map.of(), "iscsi-ls", "-i", INITIATOR, "iscsi://127.0.0.1:" + target.port());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("Target:" + LoginFixtures.OPEN_TARGET + " Portal:127.0.0.1:" + target.port() + ",1");
        NegotiatedParameters p = target.completed.getFirst();
        assertThat(p.sessionType()).isEqualTo(SessionType.DISCOVERY);
        assertThat(p.initiatorName()).isEqualTo(INITIATOR);
    }

    @Test
    void iscsiLsDiscoveryWithChap() throws Exception {
        assumeTool("iscsi-ls");
        ChapCredentials disc = ChapCredentials.of("disc-user", "discovery-secret-1");
        MiniTarget target = start(LoginFixtures.configBuilder().discoveryChap(disc, null).build());
        Result ok = run(Map.of(), "iscsi-ls", "-i", INITIATOR,
                "iscsi://disc-user%discovery-secret-1@127.0.0.1:" + target.port());
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output()).contains("Target:" + LoginFixtures.OPEN_TARGET);
        assertThat(target.completed.getFirst().authenticatedUser()).isEqualTo("disc-user");

        Result bad = run(Map.of(), "iscsi-ls", "-i", INITIATOR,
                "iscsi://disc-user%wrong-secret-000@127.0.0.1:" + target.port());
        assertThat(bad.exitCode()).isNotZero();
        assertThat(target.failures).contains(0x0201);

        Result none = run(Map.of(), "iscsi-ls", "-i", INITIATOR, "iscsi://127.0.0.1:" + target.port());
        assertThat(none.exitCode()).isNotZero();
        assertThat(target.failures).hasSize(2).containsOnly(0x0201);
    }

    @Test
    void iscsiInqLogsInToANormalSession() throws Exception {
        assumeTool("iscsi-inq");
        MiniTarget target = start(LoginFixtures.config());
        Result r = run(Map.of(), "iscsi-inq", "-i", INITIATOR,
                "iscsi://127.0.0.1:" + target.port() + "/" + LoginFixtures.OPEN_TARGET + "/0");
        // Login succeeded; the INQUIRY then fails on the stand-in's CHECK CONDITION.
        assertThat(target.completed).as(r.output()).hasSize(1);
        assertThat(target.scsiCommands).isPositive();
        NegotiatedParameters p = target.completed.getFirst();
        assertThat(p.sessionType()).isEqualTo(SessionType.NORMAL);
        assertThat(p.targetName()).isEqualTo(LoginFixtures.OPEN_TARGET);
        assertThat(p.headerDigest()).isFalse();
        assertThat(p.immediateData()).isTrue();
        assertThat(p.initialR2T()).isFalse();
        assertThat(p.initiatorMaxRecvDataSegmentLength()).isEqualTo(262144);
        assertThat(p.maxBurstLength()).isEqualTo(262144);
        assertThat(target.failures).isEmpty();
    }

    @Test
    void iscsiInqWithMutualChap() throws Exception {
        assumeTool("iscsi-inq");
        MiniTarget target = start(LoginFixtures.config());
        Map<String, String> env = Map.of("LIBISCSI_CHAP_TARGET_USERNAME", LoginFixtures.TARGET_CHAP.user(),
                "LIBISCSI_CHAP_TARGET_PASSWORD", "target-secret-4567");
        Result r = run(env, "iscsi-inq", "-i", INITIATOR, "iscsi://client-user%client-secret-0123@127.0.0.1:"
                + target.port() + "/" + LoginFixtures.MUTUAL_TARGET + "/0");
        assertThat(target.failures).as(r.output()).isEmpty();
        assertThat(target.completed).as(r.output()).hasSize(1);
        assertThat(target.completed.getFirst().authenticatedUser()).isEqualTo("client-user");
        // libiscsi challenged the target, checked its CHAP_R and carried on to send a command.
        assertThat(target.loginKeys).contains("CHAP_I", "CHAP_C");
        assertThat(target.scsiCommands).isPositive();
    }

    @Test
    void iscsiInqWithoutCredentialsIsRefusedByAChapTarget() throws Exception {
        assumeTool("iscsi-inq");
        MiniTarget target = start(LoginFixtures.config());
        Result r = run(Map.of(), "iscsi-inq", "-i", INITIATOR,
                "iscsi://127.0.0.1:" + target.port() + "/" + LoginFixtures.CHAP_TARGET + "/0");
        assertThat(r.exitCode()).isNotZero();
        assertThat(target.failures).contains(0x0201);
        assertThat(target.completed).isEmpty();
    }

    private MiniTarget start(LoginConfig config) throws IOException {
        ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        servers.add(server);
        MiniTarget target = new MiniTarget(server, config);
        Thread t = new Thread(target::acceptLoop, "mini-target");
        t.setDaemon(true);
        t.start();
        return target;
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("LIBISCSI_CHAP_USERNAME");
        pb.environment().remove("LIBISCSI_CHAP_PASSWORD");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            return new Result(-1, new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** Just enough iSCSI framing to drive a {@link LoginNegotiator} from a socket. */
    private static final class MiniTarget {
        private final ServerSocket server;
        private final LoginConfig config;
        final List<NegotiatedParameters> completed = new CopyOnWriteArrayList<>();
        final List<Integer> failures = new CopyOnWriteArrayList<>();
        final List<String> loginKeys = new CopyOnWriteArrayList<>();
        volatile int scsiCommands;

        MiniTarget(ServerSocket server, LoginConfig config) {
            this.server = server;
            this.config = config;
        }

        int port() {
            return server.getLocalPort();
        }

        void acceptLoop() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    serve(s.getInputStream(), s.getOutputStream());
                } catch (IOException e) {
                    // Client went away or the test closed the server; take the next connection.
                }
            }
        }

        private void serve(InputStream in, OutputStream out) throws IOException {
            DataInputStream din = new DataInputStream(in);
            LoginNegotiator login = new LoginNegotiator(config);
            TextNegotiation text = null;
            int statSn = 1;
            int expCmdSn = 0;
            while (true) {
                byte[] bhs = new byte[48];
                din.readFully(bhs);
                ByteBuffer h = ByteBuffer.wrap(bhs);
                int opcode = bhs[0] & 0x3f;
                boolean immediate = (bhs[0] & 0x40) != 0;
                int flags = bhs[1] & 0xff;
                int ahs = (bhs[4] & 0xff) * 4;
                int dataLength = h.getInt(4) & 0xffffff;
                din.readFully(new byte[ahs]);
                byte[] data = new byte[dataLength];
                din.readFully(data);
                din.readFully(new byte[(4 - dataLength % 4) % 4]);
                int itt = h.getInt(16);
                int cmdSn = h.getInt(24);
                expCmdSn = immediate ? cmdSn : cmdSn + 1;

                ByteBuffer r = ByteBuffer.allocate(48);
                byte[] payload = new byte[0];
                switch (opcode) {
                    case 0x03 -> { // Login Request
                        long isid = h.getLong(8) >>> 16;
                        if ((flags & 0x40) == 0) {
                            TextParameters.decode(data).entries().forEach(kv -> loginKeys.add(kv.key()));
                        }
                        LoginStep step = login.onLoginRequest((flags >> 2) & 3, flags & 3, (flags & 0x80) != 0,
                                (flags & 0x40) != 0, bhs[2] & 0xff, bhs[3] & 0xff, isid, h.getShort(14) & 0xffff,
                                data);
                        payload = step.responseData();
                        r.put(0, (byte) 0x23);
                        r.put(1, (byte) ((step.transit() ? 0x80 : 0) | step.csg() << 2 | step.nsg()));
                        r.put(8, bhs, 8, 6);
                        r.putShort(14, (short) (step.complete() ? 1 : 0));
                        r.put(36, (byte) step.statusClass());
                        r.put(37, (byte) step.statusDetail());
                        if (step.isFailure()) {
                            failures.add(step.statusCode());
                        }
                        if (step.complete()) {
                            completed.add(step.parameters());
                            text = new TextNegotiation(step.parameters());
                        }
                    }
                    case 0x04 -> { // Text Request
                        TextStep step = text.onTextRequest((flags & 0x40) != 0, data);
                        byte[] answers = step.responseData();
                        if (step.sendTargets() != null) {
                            byte[] targets = SendTargets.encode(List.of(new SendTargetsEntry(LoginFixtures.OPEN_TARGET,
                                    List.of(SendTargets.address("127.0.0.1", port(), 1)))));
                            answers = ByteBuffer.allocate(answers.length + targets.length).put(answers).put(targets)
                                    .array();
                        }
                        payload = answers;
                        r.put(0, (byte) 0x24);
                        r.put(1, (byte) 0x80);
                        r.putInt(20, -1);
                    }
                    case 0x06 -> { // Logout Request
                        r.put(0, (byte) 0x26);
                        r.put(1, (byte) 0x80);
                    }
                    case 0x01 -> { // SCSI Command: CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE
                        scsiCommands++;
                        byte[] sense = new byte[18];
                        sense[0] = 0x70;
                        sense[2] = 0x05;
                        sense[7] = 10;
                        sense[12] = 0x20;
                        payload = ByteBuffer.allocate(2 + sense.length).putShort((short) sense.length).put(sense).array();
                        r.put(0, (byte) 0x21);
                        r.put(1, (byte) 0x80);
                        r.put(3, (byte) 0x02);
                    }
                    default -> throw new IOException("unexpected opcode " + opcode);
                }
                r.putInt(4, payload.length);
                r.putInt(16, itt);
                r.putInt(24, statSn++);
                r.putInt(28, expCmdSn);
                r.putInt(32, expCmdSn + 16);
                out.write(r.array());
                out.write(payload);
                out.write(new byte[(4 - payload.length % 4) % 4]);
                out.flush();
                if (opcode == 0x06 || (opcode == 0x03 && login.isFailed())) {
                    return;
                }
            }
        }
    }
}
