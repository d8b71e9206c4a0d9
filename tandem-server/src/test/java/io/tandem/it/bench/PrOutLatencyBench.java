package io.tandem.it.bench;

import io.tandem.it.initiator.Cdbs;
import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.LoginOptions;
import io.tandem.it.initiator.ScsiDevice;
import io.tandem.it.initiator.ScsiRequest;
import io.tandem.it.initiator.ScsiResult;
import io.tandem.it.initiator.Sense;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test; {@code scripts/bench-cluster.sh} runs it): the latency of PERSISTENT
 * RESERVE OUT commands, each a cluster-wide record change that completes only once every live node
 * has applied it, measured by one initiator per node with the test initiator.
 *
 * <p>Set-up: {@code --initiators} initiators (default 3), initiator {@code k} logged in through portal
 * {@code k mod portals}, so with three nodes there is one initiator on every node and with one node
 * (the single-node comparison) all three share it. Every run starts from a clean LU (CLEAR, then
 * every initiator registers).
 *
 * <p>One iteration is the fencing cycle a cluster manager runs (fence_scsi, Windows failover
 * clustering): the acting initiator changes its key (REGISTER), takes a WRITE EXCLUSIVE - REGISTRANTS
 * ONLY reservation (RESERVE), removes a victim's registration (PREEMPT, or PREEMPT AND ABORT on odd
 * iterations), and lets go (RELEASE); each of the four is timed. Then the victim, through its own
 * node, clears its unit attention and registers again (not timed), so every iteration starts alike.
 * Before each timed command the actor clears its pending unit attentions (not timed), so a timed
 * command is never answered with one. A timed command that does not return GOOD stops the run.
 * TEST UNIT READY and PERSISTENT RESERVE IN (READ KEYS), which the node answers without the
 * coordinator, are timed once per iteration as the round-trip reference.
 *
 * <p>Scenarios: {@code one} - the actor is always initiator 0 (through portal 0), victims alternate
 * among the others; {@code each} - the actor rotates over the initiators (so over the nodes), the
 * victim is the next one.
 *
 * <p>Output: human-readable {@code #} lines, and per result one tab-separated line
 * {@code RESULT label scenario row samples p50_us p99_us max_us mean_us} (percentiles by nearest
 * rank over the sorted samples).
 */
public final class PrOutLatencyBench {

    static final int REGISTER = 0x00, RESERVE = 0x01, RELEASE = 0x02, CLEAR = 0x03, PREEMPT = 0x04,
            PREEMPT_AND_ABORT = 0x05, REGISTER_AND_IGNORE = 0x06;
    static final int WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 0x5;
    static final String INITIATOR_PREFIX = "iqn.2026-11.io.tandem.bench:host";

    private final List<Initiator> initiators = new ArrayList<>();
    private final int lun;
    private long keyCounter;

    /** One initiator: its session, the node it reaches, its current key (0: not registered). */
    private static final class Initiator {
        final int index;
        final int node;
        final IscsiSession session;
        final ScsiDevice device;
        long key;

        Initiator(int index, int node, IscsiSession session, int lun) {
            this.index = index;
            this.node = node;
            this.session = session;
            this.device = session.device(lun);
        }
    }

    /** Samples in nanoseconds, per row name; rows print in the order of {@link #ROWS}, then as added. */
    private static final class Samples {
        static final List<String> ROWS = List.of("TEST UNIT READY (reference)", "PR IN READ KEYS (reference)",
                "REGISTER (new key)", "RESERVE", "PREEMPT (another initiator)",
                "PREEMPT AND ABORT (another initiator)", "RELEASE", "all PR OUT");
        final Map<String, long[]> rows = new LinkedHashMap<>();
        final Map<String, Integer> counts = new LinkedHashMap<>();

        Samples() {
            ROWS.forEach(row -> rows.put(row, new long[1024]));
        }

        void add(String row, long nanos) {
            long[] values = rows.computeIfAbsent(row, r -> new long[1024]);
            int n = counts.getOrDefault(row, 0);
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
                rows.put(row, values);
            }
            values[n] = nanos;
            counts.put(row, n + 1);
        }

        void print(String label, String scenario) {
            for (Map.Entry<String, long[]> e : rows.entrySet()) {
                int n = counts.getOrDefault(e.getKey(), 0);
                if (n == 0) {
                    continue;
                }
                long[] sorted = Arrays.copyOf(e.getValue(), n);
                Arrays.sort(sorted);
                double mean = Arrays.stream(sorted).average().orElse(0);
                System.out.printf("RESULT\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d%n", label, scenario, e.getKey(), n,
                        micros(percentile(sorted, 0.50)), micros(percentile(sorted, 0.99)), micros(sorted[n - 1]),
                        micros((long) mean));
            }
        }
    }

    /** Nearest rank: the smallest sample with at least fraction q of the samples at or below it. */
    static long percentile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    private static long micros(long nanos) {
        return Math.round(nanos / 1000.0);
    }

    private PrOutLatencyBench(int lun) {
        this.lun = lun;
    }

    public static void main(String[] args) throws Exception {
        List<InetSocketAddress> portals = new ArrayList<>();
        String target = null;
        String label = "run";
        int lun = 0;
        int initiatorCount = 3;
        int iterations = 200;
        int warmup = 20;
        long maxSeconds = 300;
        List<String> scenarios = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--portal" -> portals.add(portal(require(args[i], value)));
                case "--target" -> target = require(args[i], value);
                case "--label" -> label = require(args[i], value);
                case "--lun" -> lun = Integer.parseInt(require(args[i], value));
                case "--initiators" -> initiatorCount = Integer.parseInt(require(args[i], value));
                case "--iterations" -> iterations = Integer.parseInt(require(args[i], value));
                case "--warmup" -> warmup = Integer.parseInt(require(args[i], value));
                case "--max-seconds" -> maxSeconds = Long.parseLong(require(args[i], value));
                case "--scenario" -> scenarios.add(require(args[i], value));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--portal HOST:PORT... --target IQN [--lun N] [--initiators N] [--iterations N]"
                        + " [--warmup N] [--max-seconds S] [--scenario one|each]... [--label NAME])");
            }
            i++;
        }
        if (portals.isEmpty() || target == null) {
            throw new IllegalArgumentException("--portal and --target are required");
        }
        if (initiatorCount < 2) {
            throw new IllegalArgumentException("--initiators must be at least 2 (an actor and a victim)");
        }
        if (scenarios.isEmpty()) {
            scenarios.add("one");
            if (portals.size() > 1) {
                scenarios.add("each");
            }
        }
        PrOutLatencyBench bench = new PrOutLatencyBench(lun);
        try {
            bench.login(portals, target, initiatorCount);
            bench.resetLu();
            System.out.printf("# %s: %d initiators over %d portal(s), warm-up %d iterations%n", label, initiatorCount,
                    portals.size(), warmup);
            bench.run("one", warmup, Long.MAX_VALUE, new Samples());
            long deadline = System.nanoTime() + Duration.ofSeconds(maxSeconds).toNanos();
            for (String scenario : scenarios) {
                Samples samples = new Samples();
                long started = System.nanoTime();
                int done = bench.run(scenario, iterations, deadline, samples);
                System.out.printf("# %s %s: %d iterations in %.1f s%s%n", label, scenario, done,
                        (System.nanoTime() - started) / 1e9,
                        done < iterations ? " (stopped early: --max-seconds " + maxSeconds + " reached)" : "");
                samples.print(label, scenario);
            }
            bench.resetLu();
        } finally {
            bench.close();
        }
    }

    private static String require(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }

    private static InetSocketAddress portal(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("portal must be HOST:PORT, got " + hostPort);
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private void login(List<InetSocketAddress> portals, String target, int count) throws IOException {
        for (int k = 0; k < count; k++) {
            int node = k % portals.size();
            LoginOptions options = LoginOptions.normal(target).initiatorName(INITIATOR_PREFIX + (k + 1))
                    .isid(new byte[] {(byte) 0x80, 0x42, 0x42, 0x42, 0x00, (byte) (k + 1)});
            IscsiSession session = IscsiSession.login(portals.get(node), options);
            session.commandTimeout(Duration.ofSeconds(60));
            initiators.add(new Initiator(k, node, session, lun));
        }
    }

    /** Whatever a previous run left: every initiator registered with a fresh key, nothing reserved. */
    private void resetLu() throws IOException {
        for (Initiator i : initiators) {
            drainUnitAttentions(i);
            long key = nextKey(i);
            require(i, "REGISTER AND IGNORE EXISTING KEY",
                    i.device.persistentReserveOut(REGISTER_AND_IGNORE, 0, 0, key, false));
            i.key = key;
        }
        Initiator first = initiators.getFirst();
        require(first, "CLEAR", first.device.persistentReserveOut(CLEAR, 0, first.key, 0, false));
        for (Initiator i : initiators) {
            i.key = 0;
            register(i);
        }
    }

    /**
     * Runs up to {@code iterations} fencing cycles (fewer if {@code deadline} passes) and records them.
     * Returns the number done.
     */
    private int run(String scenario, int iterations, long deadline, Samples samples) throws IOException {
        int n = initiators.size();
        for (int it = 0; it < iterations; it++) {
            if (System.nanoTime() > deadline) {
                return it;
            }
            Initiator actor;
            Initiator victim;
            switch (scenario) {
                case "one" -> {
                    actor = initiators.getFirst();
                    victim = initiators.get(1 + it % (n - 1));
                }
                case "each" -> {
                    actor = initiators.get(it % n);
                    victim = initiators.get((it + 1) % n);
                }
                default -> throw new IllegalArgumentException("unknown scenario " + scenario + " (one or each)");
            }
            String via = "via node " + (actor.node + 1);
            boolean abort = it % 2 == 1;

            drainUnitAttentions(actor);
            long nanos = timed(actor, "TEST UNIT READY", ScsiRequest.none(lun, Cdbs.testUnitReady()));
            samples.add("TEST UNIT READY (reference)", nanos);
            nanos = timed(actor, "READ KEYS", readKeysRequest());
            samples.add("PR IN READ KEYS (reference)", nanos);

            long newKey = nextKey(actor);
            nanos = timedOut(actor, "REGISTER", REGISTER, 0, actor.key, newKey);
            actor.key = newKey;
            record(samples, scenario, "REGISTER (new key)", via, nanos);

            nanos = timedOut(actor, "RESERVE", RESERVE, WRITE_EXCLUSIVE_REGISTRANTS_ONLY, actor.key, 0);
            record(samples, scenario, "RESERVE", via, nanos);

            int preempt = abort ? PREEMPT_AND_ABORT : PREEMPT;
            String preemptName = abort ? "PREEMPT AND ABORT" : "PREEMPT";
            nanos = timedOut(actor, preemptName, preempt, WRITE_EXCLUSIVE_REGISTRANTS_ONLY, actor.key, victim.key);
            victim.key = 0;
            record(samples, scenario, preemptName + " (another initiator)", via, nanos);

            nanos = timedOut(actor, "RELEASE", RELEASE, WRITE_EXCLUSIVE_REGISTRANTS_ONLY, actor.key, 0);
            record(samples, scenario, "RELEASE", via, nanos);

            register(victim);
        }
        return iterations;
    }

    private static void record(Samples samples, String scenario, String op, String via, long nanos) {
        samples.add(op, nanos);
        samples.add("all PR OUT", nanos);
        if (scenario.equals("each")) {
            samples.add("all PR OUT " + via, nanos);
        }
    }

    /** An untimed REGISTER of a fresh key by an unregistered initiator, past its unit attentions. */
    private void register(Initiator i) throws IOException {
        drainUnitAttentions(i);
        long key = nextKey(i);
        require(i, "REGISTER", i.device.persistentReserveOut(REGISTER, 0, 0, key, false));
        i.key = key;
    }

    private long timedOut(Initiator actor, String name, int serviceAction, int type, long key, long serviceActionKey)
            throws IOException {
        drainUnitAttentions(actor);
        return timed(actor, name, actor.device.persistentReserveOutRequest(serviceAction, type, key, serviceActionKey,
                false));
    }

    private long timed(Initiator i, String name, ScsiRequest request) throws IOException {
        long start = System.nanoTime();
        ScsiResult result = i.session.execute(request);
        long nanos = System.nanoTime() - start;
        require(i, name, result);
        return nanos;
    }

    private ScsiRequest readKeysRequest() {
        byte[] cdb = new byte[10];
        cdb[0] = 0x5E;
        cdb[1] = 0x00;
        cdb[7] = (byte) (8192 >>> 8);
        cdb[8] = (byte) 8192;
        return ScsiRequest.read(lun, cdb, 8192);
    }

    private long nextKey(Initiator i) {
        return 0xBE4C_0000_0000_0000L | ((long) (i.index + 1) << 40) | ++keyCounter;
    }

    private static void require(Initiator i, String name, ScsiResult result) {
        if (!result.isGood()) {
            throw new IllegalStateException(name + " by initiator " + (i.index + 1) + " (node " + (i.node + 1)
                    + ") did not succeed: status 0x" + Integer.toHexString(result.status()) + ", sense " + result.sense());
        }
    }

    /** TEST UNIT READY until GOOD: the unit attentions other initiators' changes left for this one. */
    private void drainUnitAttentions(Initiator i) throws IOException {
        for (int attempt = 0; attempt < 64; attempt++) {
            ScsiResult r = i.session.execute(ScsiRequest.none(lun, Cdbs.testUnitReady()));
            if (r.isGood()) {
                return;
            }
            if (r.sense() == null || r.sense().key() != Sense.UNIT_ATTENTION) {
                require(i, "TEST UNIT READY", r);
            }
        }
        throw new IllegalStateException("unit attentions for initiator " + (i.index + 1) + " did not stop");
    }

    private void close() {
        for (Initiator i : initiators) {
            try {
                i.session.logout();
            } catch (IOException | RuntimeException e) {
                // the session is closed below anyway
            }
            i.session.close();
        }
    }
}
