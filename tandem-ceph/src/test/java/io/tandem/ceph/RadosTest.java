package io.tandem.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tandem.ceph.testing.CephCluster;
import io.tandem.ceph.testing.CephClusterExtension;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(CephClusterExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RadosTest {

    private static Rados rados;
    private static IoCtx io;

    @BeforeAll
    static void connect(CephCluster cluster) {
        rados = cluster.connect();
        io = rados.ioContext(CephCluster.POOL);
    }

    @AfterAll
    static void disconnect() {
        if (io != null) {
            io.close();
        }
        if (rados != null) {
            rados.close();
        }
    }

    private static String oid() {
        return "test-" + UUID.randomUUID();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void identifiesTheClient() {
        assertThat(rados.instanceId()).isPositive();
        assertThat(rados.addresses()).contains("127.0.0.1:");
        assertThat(rados.get("rbd_cache")).isEqualTo("false");
        assertThat(rados.poolId(CephCluster.POOL)).isNotNegative();
        assertThatThrownBy(() -> rados.poolId("no-such-pool"))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errnoName()).isEqualTo("ENOENT"));
    }

    @Test
    void writesReadsStatsAndRemovesObjects() {
        String oid = oid();
        io.writeFull(oid, bytes("hello world"));
        io.write(oid, 6, bytes("RADOS"));
        assertThat(new String(io.read(oid, 0, 100), StandardCharsets.UTF_8)).isEqualTo("hello RADOS");
        assertThat(io.stat(oid).size()).isEqualTo(11);
        io.remove(oid);
        assertThatThrownBy(() -> io.stat(oid))
                .isInstanceOfSatisfying(CephException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.call()).startsWith("rados_stat");
                    assertThat(e.getMessage()).contains("ENOENT");
                });
    }

    @Test
    void versionGuardsAWrite() {
        String oid = oid();
        long v1 = WriteOp.create().create(true).writeFull(bytes("one")).operateVersioned(io, oid);
        IoCtx.Versioned read = io.readVersioned(oid, 64);
        assertThat(read.data()).isEqualTo(bytes("one"));
        assertThat(read.version()).isEqualTo(v1);

        long v2 = WriteOp.create().assertVersion(v1).writeFull(bytes("two")).operateVersioned(io, oid);
        assertThat(v2).isGreaterThan(v1);
        assertThatThrownBy(() -> WriteOp.create().assertVersion(v1).writeFull(bytes("stale")).operate(io, oid))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ERANGE));
        assertThat(io.read(oid, 0, 64)).isEqualTo(bytes("two"));
        assertThatThrownBy(() -> WriteOp.create().create(true).operate(io, oid))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EEXIST));
        assertThatThrownBy(() -> WriteOp.create().assertExists().writeFull(bytes("x")).operate(io, oid()))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    /**
     * The version an operation reports is the version of the object it touched, even while other
     * threads send notifications through the same context: librados records the version of every
     * synchronous call, notify included, in one per-context slot ({@code rados_get_last_version}),
     * so a read paired with that slot could report another object's version.
     */
    @Test
    void aVersionBelongsToItsOwnOperationWhileNotificationsShareTheContext() throws Exception {
        String hub = oid();
        String record = oid();
        for (int i = 0; i < 20; i++) {
            io.writeFull(hub, bytes("hub " + i)); // the hub's version ends far from the record's
        }
        long recordVersion = WriteOp.create().create(true).writeFull(bytes("record")).operateVersioned(io, record);
        long hubVersion = io.readVersioned(hub, 64).version();
        for (int i = 0; i < 20 && hubVersion == recordVersion; i++) {
            io.writeFull(hub, bytes("hub again " + i));
            hubVersion = io.readVersioned(hub, 64).version();
        }
        assertThat(hubVersion).isNotEqualTo(recordVersion);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.List<Thread> notifiers = new java.util.ArrayList<>();
        for (int t = 0; t < 3; t++) {
            notifiers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    Notify.send(io, hub, bytes("news"), java.time.Duration.ofSeconds(1)); // nobody watches: at once
                }
            }));
        }
        java.util.Set<Long> seen = new java.util.TreeSet<>();
        int reads = 0;
        try {
            while (System.nanoTime() < deadline) {
                seen.add(io.readVersioned(record, 64).version());
                reads++;
            }
        } finally {
            stop.set(true);
            for (Thread t : notifiers) {
                t.join(10_000);
            }
        }
        assertThat(reads).isPositive();
        assertThat(seen).as("versions reported by %d reads of an object at version %d (the notified object is at %d)",
                reads, recordVersion, hubVersion).containsExactly(recordVersion);
    }

    @Test
    void compareExtentAppliesAllOrNothing() {
        String oid = oid();
        io.writeFull(oid, bytes("0123456789"));
        WriteOp.create().compareExtent(2, bytes("234")).write(2, bytes("abc")).operate(io, oid);
        assertThat(io.read(oid, 0, 64)).isEqualTo(bytes("01abc56789"));
        assertThatThrownBy(() -> WriteOp.create().compareExtent(2, bytes("abX")).write(2, bytes("zzz")).operate(io, oid))
                .isInstanceOfSatisfying(CompareMismatchException.class, e -> assertThat(e.offset()).isEqualTo(2));
        assertThat(io.read(oid, 0, 64)).isEqualTo(bytes("01abc56789"));
    }

    @Test
    void aMissingObjectComparesAsZeroes() {
        String oid = oid();
        assertThatThrownBy(() -> WriteOp.create().compareExtent(0, bytes("x")).write(0, bytes("y")).operate(io, oid))
                .isInstanceOfSatisfying(CompareMismatchException.class, e -> assertThat(e.offset()).isZero());
        WriteOp.create().compareExtent(4096, new byte[512]).write(4096, bytes("first")).operate(io, oid);
        assertThat(io.read(oid, 4096, 5)).isEqualTo(bytes("first"));
    }

    @Test
    void attributeComparisonGuardsAWrite() {
        String oid = oid();
        // an attribute that is not set compares as empty; a missing object has no attributes at all
        assertThatThrownBy(() -> WriteOp.create().compareXattr("lock", WriteOp.XattrComparison.EQ, new byte[0])
                .write(0, bytes("a")).operate(io, oid))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        // not even when the same operation creates it first: such a guard needs the object to exist
        assertThatThrownBy(() -> WriteOp.create().create(false).compareXattr("lock", WriteOp.XattrComparison.EQ,
                new byte[0]).write(0, bytes("a")).operate(io, oid))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        WriteOp.create().create(true).setXattr("lock", bytes("me")).write(0, bytes("a")).operate(io, oid);
        assertThat(io.getXattr(oid, "lock", 16)).isEqualTo(bytes("me"));
        assertThatThrownBy(() -> WriteOp.create().compareXattr("lock", WriteOp.XattrComparison.EQ, new byte[0])
                .write(0, bytes("b")).operate(io, oid))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ECANCELED));
        WriteOp.create().compareXattr("lock", WriteOp.XattrComparison.EQ, bytes("me"))
                .write(0, bytes("c")).removeXattr("lock").operate(io, oid);
        assertThat(io.read(oid, 0, 1)).isEqualTo(bytes("c"));
        assertThatThrownBy(() -> io.getXattr(oid, "lock", 16))
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENODATA));
    }

    @Test
    void asynchronousOperationsCompleteWithTheirResult() throws Exception {
        String oid = oid();
        WriteOp.create().write(0, bytes("async")).operateAsync(io, oid).get(30, TimeUnit.SECONDS);
        MemorySegment into = Arena.ofAuto().allocate(16);
        assertThat(io.readAsync(oid, 0, into).get(30, TimeUnit.SECONDS)).isEqualTo(5);
        assertThat(into.asSlice(0, 5).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(bytes("async"));

        var mismatch = WriteOp.create().compareExtent(0, bytes("asyXc")).write(0, bytes("nope!")).operateAsync(io, oid);
        assertThatThrownBy(() -> mismatch.get(30, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(CompareMismatchException.class, e -> assertThat(e.offset()).isEqualTo(3));
        var missing = io.readAsync(oid(), 0, into);
        assertThatThrownBy(missing::join).isInstanceOf(CompletionException.class).cause()
                .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
        assertThat(LibRados.completions.pendingCount()).isZero();
    }

    @Test
    void aBlocklistedClientIsRefused(CephCluster cluster) {
        String oid = oid();
        try (Rados victim = cluster.connect(); IoCtx victimIo = victim.ioContext(CephCluster.POOL)) {
            victimIo.writeFull(oid, bytes("before"));
            rados.blocklistAdd(victim.addresses(), 600);
            // The OSD learns the blocklist with the new OSD map; an operation of the fencing client
            // carries that map's epoch, so once it is done the OSD refuses the victim.
            io.write(oid, 0, bytes("fenced"));
            assertThatThrownBy(() -> victimIo.writeFull(oid, bytes("after")))
                    .isInstanceOfSatisfying(CephException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBLOCKLISTED));
        }
        assertThat(io.read(oid, 0, 64)).isEqualTo(bytes("fenced"));
    }

    @Test
    void aClosedHandleRefusesCalls(CephCluster cluster) {
        Rados other = cluster.connect();
        IoCtx otherIo = other.ioContext(CephCluster.POOL);
        otherIo.close();
        otherIo.close();
        assertThatThrownBy(() -> otherIo.read(oid(), 0, 1)).isInstanceOf(IllegalStateException.class);
        other.close();
        assertThatThrownBy(other::instanceId).isInstanceOf(IllegalStateException.class);
    }
}
