package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cross-node contract of a {@link Coordinator}, run against every clustered implementation: N
 * coordinators on one shared backend (a ZooKeeper server, a Ceph cluster), each a node of the same
 * cluster. A subclass provides the backend (a fresh cluster namespace per test) and its fault hooks:
 * {@link #silence} makes a node go quiet without closing anything (a silent partition or a stalled
 * process: the backend learns of it only by its lease running out), {@link #restore} undoes it.
 *
 * <p>What every implementation must show: records are compare-and-set on their version; every live
 * member applies every version, in order, before the change's originator is answered; a member
 * stops being waited for only when it left the LU or the backend declared it gone, and a node
 * stops serving strictly before it can be declared gone; a node back from a short silence catches
 * up within its session, one back from a long one rejoins with a new session and reloads; the
 * membership and the configuration store are shared.
 */
@Timeout(60)
abstract class CoordinatorContractTest {

    static final String LU = "600140500000000000000000000000aa";
    static final NexusId A = new NexusId("iqn.2026-01.test:a,i,0x000000000001", 1);
    static final NexusId B = new NexusId("iqn.2026-01.test:b", NexusId.ALL_TARGET_PORTS);

    // ---------------------------------------------------------------- what a backend provides

    /**
     * A node with timeouts long enough that a loaded machine never suspends it, and an update
     * timeout well above the fragile nodes' session. Closed after the test.
     */
    abstract Coordinator node(String id);

    /** A node the test will {@link #silence}: short session ({@link #fragileSession()}). Closed after the test. */
    abstract Coordinator fragileNode(String id);

    /** A steady node whose updates give up after {@code updateTimeout}. Closed after the test. */
    abstract Coordinator nodeWithUpdateTimeout(String id, Duration updateTimeout);

    /**
     * Starts a node with short timeouts, so that a refusal (e.g. its id in use by a live member)
     * comes within a few seconds; the test expects it to throw.
     */
    abstract Coordinator startQuickly(String id);

    /** The session (lease) timeout of {@link #fragileNode}s. */
    abstract Duration fragileSession();

    /**
     * The least time between a fragile node going silent and the backend declaring it gone; the
     * silent-partition test checks that the cluster waited at least this long.
     */
    abstract Duration leastExpiryAfterSilence();

    /** Fault hook: the node stops renewing its lease and answering the backend, without closing anything. */
    abstract void silence(Coordinator node) throws Exception;

    /** Undoes {@link #silence}. */
    abstract void restore(Coordinator node) throws Exception;

    /**
     * A fault the node notices at once (its connection drops) and that a prompt {@link #restore}
     * heals within its session. By default the same as {@link #silence}: the node notices when its
     * lease is in doubt.
     */
    void interrupt(Coordinator node) throws Exception {
        silence(node);
    }

    /** Identifies the node's current session with the backend (changes when it had to rejoin). */
    abstract Object session(Coordinator node);

    /** How many times the node's follower was handed a version skipping others while it was a member. */
    abstract long versionGaps(Coordinator node);

    /** Whether {@link #outage} and {@link #recover} can take the whole backend away and back. */
    boolean supportsOutage() {
        return false;
    }

    /** The backend stops answering every node (a server stopped, a store frozen). */
    void outage() throws Exception {
        throw new UnsupportedOperationException();
    }

    /** The backend answers again after {@link #outage}. */
    void recover() throws Exception {
        throw new UnsupportedOperationException();
    }

    /** Fault hook: the LU's record disappears from the backend (its data lost, or removed by hand). */
    abstract void loseRecord(String luId) throws Exception;

    /** Whether the backend holds a record of the LU. */
    abstract boolean recordExists(String luId) throws Exception;

    // ---------------------------------------------------------------- helpers

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    // ---------------------------------------------------------------- records and versions

    @Test
    void aFreshLuStartsAtVersionZeroAndEveryNodeSeesTheSameRecord() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        RecordingWatcher w2 = new RecordingWatcher();
        assertThat(n1.join(LU, new RecordingWatcher())).isEqualTo(LuState.initial(LU));
        assertThat(n2.join(LU, w2)).isEqualTo(LuState.initial(LU));

        LuState v1 = get(n1.update(LU, s -> s.withRegistration(new Registration(A, 7)).nextPrGeneration()
                .withSpc2Holder(B).withAluaOwnerGroup(2).withPortGroupState(3, AccessState.UNAVAILABLE)
                .withResetEpoch(4).withCapacityBlocks(1 << 20).withAptpl(true)
                .withReservation(new PersistentReservation(A, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY))
                .withTransition(Transition.by(A, 9, List.of(Notice.of(Notice.Kind.ABORT_TASKS, List.of(B, A)))))));
        assertThat(v1.version()).isEqualTo(1);
        // Acknowledged means applied everywhere: n2's watcher has it already, field for field.
        assertThat(w2.states()).containsExactly(v1);
        assertThat(n2.cached(LU)).isEqualTo(v1);

        // The backend is the store: a node joining later loads the whole record.
        Coordinator n3 = node("n3");
        assertThat(n3.join(LU, new RecordingWatcher())).isEqualTo(v1);
    }

    @Test
    void aChangeThatChangesNothingMakesNoVersion() throws Exception {
        Coordinator n1 = node("n1");
        RecordingWatcher w = new RecordingWatcher();
        n1.join(LU, w);
        assertThat(get(n1.update(LU, s -> s)).version()).isZero();
        assertThat(w.versions()).isEmpty();
    }

    @Test
    void whatTheChangeThrowsFailsTheUpdateUnchangedAndStoresNothing() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, new RecordingWatcher());
        IllegalStateException refusal = new IllegalStateException("RESERVATION CONFLICT");
        assertThatThrownBy(() -> get(n1.update(LU, s -> {
            throw refusal;
        }))).isInstanceOf(ExecutionException.class).cause().isSameAs(refusal);
        assertThat(get(n1.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
    }

    @Test
    void aVersionsNoticesBelongToThatVersionOnly() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        get(n1.update(LU, s -> s.nextPrGeneration().withTransition(Transition.by(A, 5,
                List.of(Notice.of(Notice.Kind.REGISTRATIONS_PREEMPTED, List.of(B)))))));
        get(n2.update(LU, s -> {
            assertThat(s.transition()).isEqualTo(Transition.NONE);
            return s.nextPrGeneration();
        }));
        assertThat(w2.states()).extracting(s -> s.transition().notices().size()).containsExactly(1, 0);
    }

    @Test
    void concurrentUpdatesFromThreeNodesAreNeverLostAndEveryNodeSeesEveryVersionInOrder() throws Exception {
        int perNode = 25;
        int threadsPerNode = 2;
        List<Coordinator> nodes = List.of(node("n1"), node("n2"), node("n3"));
        List<RecordingWatcher> watchers = new ArrayList<>();
        for (Coordinator n : nodes) {
            RecordingWatcher w = new RecordingWatcher();
            watchers.add(w);
            n.join(LU, w);
        }
        Set<Long> versions = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (Coordinator n : nodes) {
            for (int t = 0; t < threadsPerNode; t++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < perNode / threadsPerNode + (perNode % threadsPerNode); i++) {
                        LuState stored = n.update(LU, LuState::nextPrGeneration).join();
                        if (!versions.add(stored.version())) {
                            duplicates.incrementAndGet();
                        }
                    }
                }));
            }
        }
        for (Thread t : threads) {
            assertThat(t.join(Duration.ofSeconds(45))).isTrue();
        }
        int total = versions.size();
        assertThat(duplicates).hasValue(0);
        assertThat(total).isEqualTo(nodes.size() * threadsPerNode * (perNode / threadsPerNode + (perNode % threadsPerNode)));
        for (int i = 0; i < nodes.size(); i++) {
            assertThat(nodes.get(i).cached(LU).prGeneration()).isEqualTo(total);
            assertThat(watchers.get(i).inOrderWithoutGaps(0)).as("node %d saw every version in order", i + 1).isTrue();
            assertThat(watchers.get(i).versions()).hasSize(total);
            assertThat(watchers.get(i).overlapped()).isFalse();
            assertThat(versionGaps(nodes.get(i))).isZero();
        }
    }

    @Test
    void anUpdateCompletesOnlyAfterEveryLiveMemberAppliedIt() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        w2.hold();
        CompletableFuture<LuState> first = n1.update(LU, LuState::nextPrGeneration);
        assertThat(w2.awaitVersion(1, 5000)).isTrue();
        Thread.sleep(300);
        assertThat(first).isNotDone();

        // No version may overtake one a member is still applying: the next change waits too.
        CompletableFuture<LuState> second = n1.update(LU, LuState::nextPrGeneration);
        Thread.sleep(300);
        assertThat(second).isNotDone();
        assertThat(w2.versions()).containsExactly(1L);

        w2.release();
        assertThat(get(first).version()).isEqualTo(1);
        assertThat(get(second).version()).isEqualTo(2);
        assertThat(w2.inOrderWithoutGaps(0)).isTrue();
    }

    @Test
    void anUpdateThatIsNotAppliedInTimeFailsNamingTheMember() throws Exception {
        Coordinator n1 = nodeWithUpdateTimeout("n1", fragileSession().plusMillis(1000));
        Coordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        w2.hold();
        assertThatThrownBy(() -> get(n1.update(LU, LuState::nextPrGeneration)))
                .cause().as("transient: the SCSI layer answers it with a retryable sense").isInstanceOf(CoordinatorTimeoutException.class)
                .hasMessageContaining("version 1 is stored but was not applied")
                .hasMessageContaining("n2");
        w2.release();
    }

    /**
     * A record that vanished under live members is not recreated by them: a recreated record would
     * silently drop every registration and reservation and restart the versions they applied
     * beyond. Their changes fail naming the loss; what they applied stays; a node joining afresh
     * (the restart the message asks for) starts the LU with a new record.
     */
    @Test
    void aRecordLostFromTheBackendIsNotRecreatedByItsMembers() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        get(n1.update(LU, s -> s.withRegistration(new Registration(A, 7)).nextPrGeneration()));
        assertThat(w2.awaitVersion(1, 5000)).isTrue();

        loseRecord(LU);
        for (Coordinator n : List.of(n2, n1)) {
            assertThatThrownBy(() -> get(n.update(LU, LuState::nextPrGeneration)))
                    .cause().isExactlyInstanceOf(CoordinatorException.class)
                    .hasMessageContaining("is gone from")
                    .hasMessageContaining("keeps version 1 and does not recreate the record");
            assertThat(n.cached(LU).version()).isEqualTo(1);
            assertThat(n.cached(LU).registration(A)).isNotNull();
        }
        assertThat(recordExists(LU)).as("the lost record is recreated").isFalse();

        Coordinator n3 = node("n3");
        assertThat(n3.join(LU, new RecordingWatcher())).isEqualTo(LuState.initial(LU));
        assertThat(recordExists(LU)).isTrue();
    }

    @Test
    void aMemberThatLeftTheLuIsNotWaitedFor() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        w2.hold();
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        assertThat(w2.awaitVersion(1, 5000)).isTrue();
        n2.leave(LU);
        assertThat(get(update).version()).isEqualTo(1);
        w2.release();
    }

    @Test
    void aJoiningMemberGetsEveryVersionAfterTheOneItJoinedWith() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, new RecordingWatcher());
        Coordinator n2 = node("n2");
        AtomicLong joinedAt = new AtomicLong(-1);
        RecordingWatcher w2 = new RecordingWatcher();
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 30; i++) {
                n1.update(LU, LuState::nextPrGeneration).join();
            }
        });
        Thread.sleep(20);
        joinedAt.set(n2.join(LU, w2).version());
        assertThat(writer.join(Duration.ofSeconds(30))).isTrue();
        assertThat(w2.awaitVersion(30, 5000)).isTrue();
        assertThat(w2.inOrderWithoutGaps(joinedAt.get())).isTrue();
    }

    @Test
    void joiningTwiceOrUpdatingAnUnjoinedLuIsRefused() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, new RecordingWatcher());
        assertThatThrownBy(() -> n1.join(LU, new RecordingWatcher())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> get(n1.update("600140500000000000000000000000bb", s -> s)))
                .cause().isInstanceOf(IllegalStateException.class);
    }

    // ---------------------------------------------------------------- power on

    static final NexusId C = new NexusId("iqn.2026-01.test:c,i,0x000000000003", 2);
    static final LuStateWatcher NOTHING_TO_APPLY = (previous, next) -> CompletableFuture.completedFuture(null);

    private static LuState reserve(Coordinator node, boolean aptpl) throws Exception {
        return get(node.update(LU, s -> s.withRegistration(new Registration(A, 7)).withRegistration(new Registration(C, 8))
                .withReservation(new PersistentReservation(A, ReservationType.WRITE_EXCLUSIVE)).withAptpl(aptpl)
                .withSpc2Holder(C).withCapacityBlocks(4096).withAluaOwnerGroup(2).withModeParameters(0x5)
                .nextPrGeneration()));
    }

    /**
     * A cluster in which no node is live and that starts again is a power on of the target device:
     * the first node to join keeps of every LU's record what SPC-4 keeps through a power loss. A
     * node restarting while another is live changes nothing.
     */
    @Test
    void withoutAptplTheFirstNodeOfAStoppedClusterClearsTheReservationsButKeepsTheLusConfiguration() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        n1.join(LU, NOTHING_TO_APPLY);
        LuState before = reserve(n1, false);
        n2.close();
        Coordinator again = node("n2");
        assertThat(again.join(LU, NOTHING_TO_APPLY)).as("joined a live cluster").isEqualTo(before);
        again.close();
        n1.close();

        Coordinator first = node("n2");
        LuState after = first.join(LU, NOTHING_TO_APPLY);
        assertThat(after.version()).isEqualTo(before.version() + 1);
        assertThat(after.registrations()).isEmpty();
        assertThat(after.reservation()).isNull();
        assertThat(after.spc2Holder()).isNull();
        assertThat(after.modeParameters()).isZero();
        assertThat(after.prGeneration()).isEqualTo(before.prGeneration());
        assertThat(after.capacityBlocks()).isEqualTo(4096);
        assertThat(after.aluaOwnerGroup()).isEqualTo(2);
        // A second node joining the now live cluster changes nothing more.
        assertThat(node("n1").join(LU, NOTHING_TO_APPLY)).isEqualTo(after);
    }

    @Test
    void withAptplRegistrationsAndTheReservationSurviveAStopOfEveryNode() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, NOTHING_TO_APPLY);
        LuState before = reserve(n1, true);
        n1.close();

        LuState after = node("n1").join(LU, NOTHING_TO_APPLY);
        assertThat(after.registrations()).isEqualTo(before.registrations());
        assertThat(after.reservation()).isEqualTo(before.reservation());
        assertThat(after.spc2Holder()).as("SPC-2 reservations never survive a power loss").isNull();
        assertThat(after.modeParameters()).isZero();
    }

    /** Nodes starting at once into a stopped cluster: exactly one powers it on, the others join it live. */
    @Test
    void ofNodesStartingTogetherIntoAStoppedClusterOnlyTheFirstPowersItOn() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, NOTHING_TO_APPLY);
        LuState before = reserve(n1, false);
        n1.close();

        List<CompletableFuture<LuState>> joined = new ArrayList<>();
        for (String id : List.of("n1", "n2", "n3")) {
            CompletableFuture<LuState> f = new CompletableFuture<>();
            joined.add(f);
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    Coordinator c = node(id);
                    LuState s = c.join(LU, NOTHING_TO_APPLY);
                    // What a node adds right after joining must not be cleared by a later starter.
                    get(c.update(LU, st -> st.withRegistration(new Registration(new NexusId("iqn.2026-01.test:" + id, 1), 1))
                            .nextPrGeneration()));
                    f.complete(s);
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
        }
        for (CompletableFuture<LuState> f : joined) {
            get(f);
        }
        Coordinator probe = node("n4");
        LuState now = probe.join(LU, NOTHING_TO_APPLY);
        assertThat(now.registrations()).as("registrations made after the power on").hasSize(3);
        assertThat(now.version()).as("one power on, then three registrations").isEqualTo(before.version() + 4);
    }

    // ---------------------------------------------------------------- membership

    @Test
    void membersAreTheLiveNodesWithWhatTheyAnnounced() throws Exception {
        Coordinator n1 = node("n1");
        List<List<Member>> seen = new CopyOnWriteArrayList<>();
        n1.addMembershipListener(seen::add);
        Coordinator n2 = node("n2");
        await("n2 listed", 5000, () -> n1.members().size() == 2);
        Member m2 = new Member("n2", List.of(new Member.Portal("127.0.0.1", 3261), Member.Portal.parse("[::1]:3261")), 2, 2, List.of(2));
        n2.announce(m2);
        await("n2's portals", 5000, () -> n1.members().contains(m2));
        assertThat(n1.members()).extracting(Member::nodeId).containsExactly("n1", "n2");
        await("n2 sees its own record", 5000, () -> n2.members().contains(m2)); // each node's view updates on its own

        n2.close();
        await("n2 gone", 5000, () -> n1.members().size() == 1);
        assertThat(seen.getLast()).extracting(Member::nodeId).containsExactly("n1");
        assertThat(seen).anySatisfy(list -> assertThat(list).contains(m2));
    }

    @Test
    void aSecondNodeWithTheSameIdIsRefused() {
        node("n1");
        assertThatThrownBy(() -> startQuickly("n1")).isInstanceOf(CoordinatorException.class).hasMessageContaining("in use");
    }

    @Test
    void aNodeRestartedRightAfterACrashWaitsUntilItsPreviousSessionExpired() throws Exception {
        Coordinator n1 = node("n1");
        n1.join(LU, new RecordingWatcher());
        Coordinator crashed = fragileNode("n2");
        crashed.join(LU, new RecordingWatcher());
        silence(crashed); // the process is gone as far as the backend can tell; its lease lives on

        long started = System.nanoTime();
        Coordinator restarted = fragileNode("n2");
        long waited = System.nanoTime() - started;
        RecordingWatcher w = new RecordingWatcher();
        restarted.join(LU, w);
        assertThat(waited).isGreaterThan(fragileSession().toNanos() / 2);
        // Serving follows the rejoin on the coordinator's event thread: wait for it, bounded.
        await("the restarted node serves", 10_000, restarted::serving);
        assertThat(get(n1.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
        assertThat(w.versions()).containsExactly(1L);
        assertThat(n1.members()).extracting(Member::nodeId).containsExactly("n1", "n2");
    }

    // ---------------------------------------------------------------- configuration

    @Test
    void theConfigStoreIsSharedVersionedAndCompareAndSet() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        List<String> heard = new CopyOnWriteArrayList<>();
        n2.config().addListener((key, entry) -> heard.add(key + "=" + (entry == null ? "gone" : entry.version() + ":"
                + new String(entry.value(), StandardCharsets.UTF_8))));

        ConfigEntry e1 = get(n1.config().put("luns", "a".getBytes(StandardCharsets.UTF_8), ConfigStore.ABSENT));
        assertThat(e1.version()).isEqualTo(1);
        assertThat(n1.config().get("luns")).contains(e1); // own writes are visible at once
        assertThatThrownBy(() -> get(n2.config().put("luns", "x".getBytes(StandardCharsets.UTF_8), ConfigStore.ABSENT)))
                .cause().isInstanceOf(ConfigConflictException.class);
        ConfigEntry e2 = get(n2.config().put("luns", "b".getBytes(StandardCharsets.UTF_8), 1));
        assertThat(e2.version()).isEqualTo(2);
        assertThatThrownBy(() -> get(n1.config().put("luns", "c".getBytes(StandardCharsets.UTF_8), 1)))
                .cause().isInstanceOf(ConfigConflictException.class)
                .satisfies(e -> assertThat(((ConfigConflictException) e).actualVersion()).isEqualTo(2));
        assertThat(get(n1.config().put("luns", "d".getBytes(StandardCharsets.UTF_8), ConfigStore.ANY)).version()).isEqualTo(3);
        await("n1 sees version 3", 5000, () -> n1.config().get("luns").map(ConfigEntry::version).orElse(0L) == 3);
        assertThat(get(n1.config().put("acl", new byte[0], ConfigStore.ANY)).version()).isEqualTo(1);
        await("n2 sees both keys", 5000, () -> n2.config().entries().keySet().equals(Set.of("luns", "acl")));

        assertThatThrownBy(() -> get(n2.config().remove("luns", 2))).cause().isInstanceOf(ConfigConflictException.class);
        get(n2.config().remove("luns", 3));
        get(n2.config().remove("luns", ConfigStore.ANY)); // absent: no error
        await("n1 sees the removal", 5000, () -> n1.config().get("luns").isEmpty());
        await("n2 heard everything", 5000, () -> heard.contains("luns=gone"));
        assertThat(heard).containsSubsequence("luns=1:a", "luns=2:b", "luns=3:d", "luns=gone");

        // A node starting later loads the configuration before start returns.
        Coordinator n3 = node("n3");
        assertThat(n3.config().entries()).containsOnlyKeys("acl");
    }

    // ---------------------------------------------------------------- leases and self-fencing

    /**
     * A lost member is fenced (the {@link Fencer} is handed what it announced) before anyone goes on
     * without it: while fencing fails, the update keeps waiting for it and the membership listeners
     * do not hear that it is gone, however long ago its lease lapsed (the rest of the membership
     * goes on meanwhile: another member's new announcement is heard); once fencing works, the update
     * completes and the listeners hear of it, after the fence.
     */
    @Test
    void aLostMemberIsFencedBeforeTheClusterGoesOnWithoutItAndAFailingFenceKeepsItWaitedFor() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = fragileNode("n2");
        java.util.concurrent.atomic.AtomicBoolean storageReachable = new java.util.concurrent.atomic.AtomicBoolean();
        List<String> fenced = new CopyOnWriteArrayList<>();
        AtomicInteger attempts = new AtomicInteger();
        AtomicLong fencedAt = new AtomicLong();
        n1.setFencer(lost -> {
            attempts.incrementAndGet();
            if (!storageReachable.get()) {
                throw new IllegalStateException("storage unreachable");
            }
            fenced.add(lost.nodeId() + " " + lost.fenceTargets());
            fencedAt.compareAndSet(0, System.nanoTime());
        });
        Coordinator n3 = node("n3");
        n3.setFencer(lost -> {
            if (!storageReachable.get()) {
                throw new IllegalStateException("storage unreachable");
            }
        });
        n1.join(LU, new RecordingWatcher());
        n2.join(LU, new RecordingWatcher());
        n2.announce(Member.bare("n2").withFenceTargets(List.of("test client-of-n2")));
        await("n1 sees n2's fence targets", 5000,
                () -> n1.members().stream().anyMatch(m -> m.nodeId().equals("n2") && !m.fenceTargets().isEmpty()));
        AtomicLong goneAt = new AtomicLong();
        n1.addMembershipListener(ms -> {
            if (ms.stream().noneMatch(m -> m.nodeId().equals("n2"))) {
                goneAt.compareAndSet(0, System.nanoTime());
            }
        });

        silence(n2);
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        Thread.sleep(fragileSession().multipliedBy(2).plusSeconds(1).toMillis()); // well past the lease's end
        assertThat(attempts.get()).as("fencing was tried").isPositive();
        assertThat(update).as("no update goes on without an unfenced lost member").isNotDone();
        assertThat(goneAt.get()).as("nobody is told an unfenced member is gone").isZero();
        Member m3 = new Member("n3", List.of(new Member.Portal("127.0.0.1", 3263)), 3, 3, List.of(3));
        n3.announce(m3);
        await("n1 hears n3's new announcement while n2 is unfenced", 5000, () -> n1.members().contains(m3));
        assertThat(n1.members()).as("n2 stays listed until fenced").anyMatch(m -> m.nodeId().equals("n2"));
        assertThat(goneAt.get()).isZero();

        storageReachable.set(true);
        assertThat(get(update).version()).isEqualTo(1);
        await("n1 sees n2 gone", 5000, () -> goneAt.get() != 0);
        assertThat(fenced).containsExactly("n2 [test client-of-n2]");
        assertThat(fencedAt.get()).isLessThan(goneAt.get());
    }

    /** A member that closes cleanly withdrew what it had in flight: it is not fenced. */
    @Test
    void aMemberThatClosesCleanlyIsNotFenced() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = node("n2");
        List<String> fenced = new CopyOnWriteArrayList<>();
        n1.setFencer(lost -> fenced.add(lost.nodeId()));
        n1.join(LU, new RecordingWatcher());
        n2.join(LU, new RecordingWatcher());
        n2.announce(Member.bare("n2").withFenceTargets(List.of("test client-of-n2")));
        await("n1 sees n2's fence targets", 5000,
                () -> n1.members().stream().anyMatch(m -> m.nodeId().equals("n2") && !m.fenceTargets().isEmpty()));
        n2.close();
        await("n1 sees n2 gone", 10000, () -> n1.members().stream().noneMatch(m -> m.nodeId().equals("n2")));
        assertThat(get(n1.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
        assertThat(fenced).isEmpty();
    }

    @Test
    void aSilentPartitionStopsServingBeforeTheSessionCanExpireAndTheMemberIsWaitedForUntilItExpires() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = fragileNode("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        assertThat(n2.serving()).isTrue();
        AtomicLong notServingAt = new AtomicLong();
        AtomicLong goneAt = new AtomicLong();
        n2.addServingListener(serving -> {
            if (!serving) {
                notServingAt.compareAndSet(0, System.nanoTime());
            }
        });
        n1.addMembershipListener(ms -> {
            if (ms.stream().noneMatch(m -> m.nodeId().equals("n2"))) {
                goneAt.compareAndSet(0, System.nanoTime());
            }
        });

        long frozenAt = System.nanoTime();
        silence(n2);
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        await("n2 stops serving", 5000, () -> !n2.serving());
        long fencedAfter = System.nanoTime() - frozenAt;
        // n2 is still a member: n1's change waits for it...
        assertThat(update).isNotDone();
        // ...until the backend declares n2 gone, which is strictly later.
        LuState stored = get(update);
        long waited = System.nanoTime() - frozenAt;
        await("n1 sees n2 gone", 5000, () -> goneAt.get() != 0);
        await("listener heard", 1000, () -> notServingAt.get() != 0);

        System.out.printf("%s silent partition: fenced after %d ms, n1's change waited %d ms, n1 saw n2 gone %d ms after fencing"
                + " (session timeout %d ms)%n", getClass().getSimpleName(), fencedAfter / 1_000_000, waited / 1_000_000,
                (goneAt.get() - notServingAt.get()) / 1_000_000, fragileSession().toMillis());
        assertThat(stored.version()).isEqualTo(1);
        assertThat(fencedAfter).isLessThan(fragileSession().toNanos());
        assertThat(waited).isGreaterThanOrEqualTo(leastExpiryAfterSilence().toNanos());
        assertThat(notServingAt.get()).isLessThan(goneAt.get());
        assertThat(w2.versions()).isEmpty(); // n2 never saw version 1 while partitioned
    }

    @Test
    void afterABriefDisconnectionTheNodeCatchesUpThenServesAgain() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = fragileNode("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        Object session = session(n2);
        List<Boolean> flips = new CopyOnWriteArrayList<>();
        n2.addServingListener(flips::add);

        interrupt(n2);
        await("n2 stops serving", fragileSession().toMillis(), () -> !n2.serving());
        assertThatThrownBy(() -> get(n2.update(LU, LuState::nextPrGeneration)))
                .cause().isInstanceOf(CoordinatorException.class).hasMessageContaining("not serving");
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        Thread.sleep(300);
        assertThat(update).isNotDone(); // n2's session is alive: it is waited for
        restore(n2);

        assertThat(get(update).version()).isEqualTo(1); // n2 applied it after reconnecting
        await("n2 serves again", 5000, n2::serving);
        assertThat(session(n2)).isEqualTo(session); // same session: it never expired
        assertThat(w2.inOrderWithoutGaps(0)).isTrue();
        assertThat(w2.versions()).containsExactly(1L);
        await("listener heard both flips", 2000, () -> flips.size() == 2);
        assertThat(flips).containsExactly(false, true);
        assertThat(get(n2.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(2);
    }

    @Test
    void afterItsSessionExpiredTheNodeReloadsRejoinsAndIsWaitedForAgain() throws Exception {
        Coordinator n1 = node("n1");
        Coordinator n2 = fragileNode("n2");
        Member m2 = new Member("n2", List.of(new Member.Portal("127.0.0.1", 3262)), 2, 2, List.of(2));
        n2.announce(m2);
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        Object session = session(n2);

        silence(n2);
        await("n2 expired", 10_000, () -> n1.members().stream().noneMatch(m -> m.nodeId().equals("n2")));
        // Meanwhile the cluster goes on without n2: two versions it will never see one by one.
        get(n1.update(LU, LuState::nextPrGeneration));
        get(n1.update(LU, s -> s.nextPrGeneration().withPortGroupState(2, AccessState.UNAVAILABLE)));
        assertThat(n2.serving()).isFalse();
        restore(n2);

        await("n2 serves again", 15_000, n2::serving);
        assertThat(session(n2)).isNotEqualTo(session);
        await("n2 is a member again, with what it announced", 5000, () -> n1.members().contains(m2));
        // It reloaded: one jump from 0 to 2 (expected after a session loss, not a contract breach).
        assertThat(w2.awaitVersion(2, 5000)).isTrue();
        assertThat(w2.versions()).containsExactly(2L);
        assertThat(n2.cached(LU).portGroupStates()).containsEntry(2, AccessState.UNAVAILABLE);
        assertThat(versionGaps(n2)).isZero();

        // And it is waited for again.
        w2.hold();
        CompletableFuture<LuState> update = n1.update(LU, LuState::nextPrGeneration);
        assertThat(w2.awaitVersion(3, 5000)).isTrue();
        Thread.sleep(300);
        assertThat(update).isNotDone();
        w2.release();
        assertThat(get(update).version()).isEqualTo(3);
    }

    @Test
    void anOutageOfTheBackendFencesEveryNodeAndItsReturnLetsThemServeAgain() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(supportsOutage(), "this backend cannot be taken away in a test");
        Coordinator n1 = fragileNode("n1");
        Coordinator n2 = fragileNode("n2");
        n1.join(LU, new RecordingWatcher());
        RecordingWatcher w2 = new RecordingWatcher();
        n2.join(LU, w2);
        outage();
        try {
            await("both fenced", fragileSession().toMillis(), () -> !n1.serving() && !n2.serving());
        } finally {
            recover();
        }
        await("both serve again", 15_000, () -> n1.serving() && n2.serving());
        assertThat(get(n1.update(LU, LuState::nextPrGeneration)).version()).isEqualTo(1);
        assertThat(w2.versions()).containsExactly(1L);
    }
}
