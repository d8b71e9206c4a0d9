package io.tandem.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Watch, notify and acknowledgement between two clients of a real cluster, and how watches end. */
@ExtendWith(CephClusterExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WatchNotifyTest {

    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private String oid;

    @BeforeEach
    void object() {
        oid = "watch-test-" + UUID.randomUUID();
    }

    @AfterEach
    void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // a watch of a blocklisted client cannot be unregistered: it lapses
            }
        }
    }

    /** A client that pings its watches every half second (the default is every 5 s). */
    private IoCtx client(CephCluster cluster) {
        Rados rados = Rados.create(null).readConfig(cluster.conf()).set("objecter_tick_interval", "0.5")
                .set("rados_osd_op_timeout", "30").set("rados_mon_op_timeout", "30").connect();
        closeables.add(rados);
        IoCtx io = rados.ioContext(CephCluster.POOL);
        closeables.add(io);
        return io;
    }

    /** Records what a watch hears; acknowledges (from another thread) when {@code answer} is set. */
    private static final class Recorder implements Watch.Listener {
        final LinkedBlockingQueue<Watch.Notification> heard = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<CephException> errors = new LinkedBlockingQueue<>();
        final String answer;

        Recorder(String answer) {
            this.answer = answer;
        }

        @Override
        public void notified(Watch watch, Watch.Notification n) {
            heard.add(n);
            if (answer != null) {
                Thread.ofVirtual().start(() -> watch.ack(n, answer.getBytes(StandardCharsets.UTF_8)));
            }
        }

        @Override
        public void failed(Watch watch, CephException error) {
            errors.add(error);
        }
    }

    private Watch watch(IoCtx io, int timeoutSeconds, Recorder recorder) {
        Watch w = Watch.start(io, oid, timeoutSeconds, recorder);
        closeables.add(w);
        return w;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyWatcherHearsANotificationAndItsAckPayloadComesBack(CephCluster cluster) throws Exception {
        IoCtx a = client(cluster);
        IoCtx b = client(cluster);
        a.writeFull(oid, new byte[0]);
        Recorder ra = new Recorder("from a");
        Recorder rb = new Recorder("from b");
        Watch wa = watch(a, 5, ra);
        Watch wb = watch(b, 5, rb);

        Notify.Reply reply = Notify.send(a, oid, bytes("hello"), Duration.ofSeconds(5));

        assertThat(reply.timedOut()).isEmpty();
        assertThat(reply.acks()).extracting(Notify.Ack::watcher).containsExactlyInAnyOrder(
                new Notify.Watcher(a.rados().instanceId(), wa.cookie()), new Notify.Watcher(b.rados().instanceId(), wb.cookie()));
        assertThat(reply.acks()).extracting(ack -> new String(ack.payload(), StandardCharsets.UTF_8))
                .containsExactlyInAnyOrder("from a", "from b");
        Watch.Notification n = rb.heard.poll(1, TimeUnit.SECONDS);
        assertThat(n).isNotNull();
        assertThat(n.payload()).isEqualTo(bytes("hello"));
        assertThat(n.notifierId()).isEqualTo(a.rados().instanceId());
        assertThat(n.cookie()).isEqualTo(wb.cookie());
        assertThat(wb.checkMillis()).isBetween(0L, 2000L);
    }

    @Test
    void aWatcherThatDoesNotAcknowledgeIsListedAsTimedOut(CephCluster cluster) throws Exception {
        IoCtx a = client(cluster);
        IoCtx b = client(cluster);
        a.writeFull(oid, new byte[0]);
        watch(a, 5, new Recorder("a"));
        Watch silent = watch(b, 5, new Recorder(null));

        long started = System.nanoTime();
        Notify.Reply reply = Notify.send(a, oid, bytes("anyone?"), Duration.ofSeconds(1));
        long took = System.nanoTime() - started;

        assertThat(reply.acks()).hasSize(1);
        assertThat(reply.timedOut()).containsExactly(new Notify.Watcher(b.rados().instanceId(), silent.cookie()));
        assertThat(reply.watchers()).hasSize(2);
        assertThat(took).isBetween(Duration.ofMillis(900).toNanos(), Duration.ofSeconds(4).toNanos());
    }

    @Test
    void aClosedWatchIsNotifiedNoMore(CephCluster cluster) throws Exception {
        IoCtx a = client(cluster);
        a.writeFull(oid, new byte[0]);
        Recorder r = new Recorder("a");
        Watch w = watch(a, 5, r);
        w.close();
        w.close();
        Notify.Reply reply = Notify.send(a, oid, bytes("x"), Duration.ofSeconds(1));
        assertThat(reply.watchers()).isEmpty();
        assertThat(r.heard).isEmpty();
        assertThatThrownBy(() -> Watch.start(a, "no-such-" + oid, 5, r))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void aWatchWhoseClientStopsPingingLapsesAfterItsTimeoutAndTheClientLearnsItOnReturn(CephCluster cluster) throws Exception {
        IoCtx a = client(cluster);
        IoCtx b = client(cluster);
        a.writeFull(oid, new byte[0]);
        Recorder rb = new Recorder("b");
        Watch wb = watch(b, 2, rb);
        long steady = 0;
        for (int i = 0; i < 10; i++) {
            steady = Math.max(steady, wb.checkMillis());
            Thread.sleep(100);
        }

        b.rados().set("objecter_inject_no_watch_ping", "true");
        long silentAt = System.nanoTime();
        long age;
        do {
            Thread.sleep(50);
            age = wb.checkMillis();
        } while (age < 1500);
        // The OSD still has it until its timeout has passed without a ping...
        long gone;
        while (true) {
            Notify.Reply reply = Notify.send(a, oid, bytes("still there?"), Duration.ofSeconds(1));
            if (reply.watchers().isEmpty()) {
                gone = System.nanoTime() - silentAt;
                break;
            }
            assertThat(System.nanoTime() - silentAt).isLessThan(Duration.ofSeconds(10).toNanos());
        }
        System.out.printf("watch check while pinged: at most %d ms; silent watch dropped by the OSD after %d ms (timeout 2 s)%n",
                steady, gone / 1_000_000);
        assertThat(steady).isLessThan(1500);
        assertThat(gone).isGreaterThan(Duration.ofMillis(1400).toNanos());

        // ...and the client hears of it with its next ping.
        b.rados().set("objecter_inject_no_watch_ping", "false");
        CephException error = rb.errors.poll(5, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(error.errno()).isEqualTo(Errno.ENOTCONN);
        assertThatThrownBy(wb::checkMillis).isInstanceOf(CephException.class);
    }

    @Test
    void aBlocklistedClientsWatchIsDroppedAtOnce(CephCluster cluster) throws Exception {
        IoCtx a = client(cluster);
        IoCtx b = client(cluster);
        a.writeFull(oid, new byte[0]);
        Recorder rb = new Recorder("b");
        watch(b, 30, rb);
        a.rados().blocklistAdd(b.rados().addresses(), 60);
        OsdMap.awaitLatest(b.rados()); // the fenced client learns of it too (and is refused from then on)
        long started = System.nanoTime();
        Notify.Reply reply = Notify.send(a, oid, bytes("x"), Duration.ofSeconds(1));
        assertThat(reply.watchers()).isEmpty();
        assertThat(System.nanoTime() - started).isLessThan(Duration.ofMillis(900).toNanos()); // nobody left to wait for
        CephException error = rb.errors.poll(5, TimeUnit.SECONDS);
        System.out.println("blocklisted watch error: " + error);
        assertThat(error).isNotNull();
    }
}
