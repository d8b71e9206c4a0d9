package io.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class LocalCoordinatorTest {

    private static final String LU = "600140500000000000000000000000aa";
    private static final NexusId A = new NexusId("iqn.2026-01.test:a,i,0x000000000001", 1);
    private static final NexusId B = new NexusId("iqn.2026-01.test:b", NexusId.ALL_TARGET_PORTS);

    @TempDir
    Path dir;

    private static final LuStateWatcher IGNORE = (p, n) -> CompletableFuture.completedFuture(null);

    @Test
    void aFreshLuStartsAtVersionZeroAndEveryChangeAddsOne() throws Exception {
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            assertThat(c.join(LU, IGNORE)).isEqualTo(LuState.initial(LU));
            LuState v1 = c.update(LU, s -> s.nextPrGeneration()).get(5, TimeUnit.SECONDS);
            LuState v2 = c.update(LU, s -> s.withRegistration(new Registration(A, 7)).nextPrGeneration()).get(5, TimeUnit.SECONDS);
            assertThat(v1.version()).isEqualTo(1);
            assertThat(v2.version()).isEqualTo(2);
            assertThat(v2.prGeneration()).isEqualTo(2);
            assertThat(c.cached(LU)).isEqualTo(v2);
        }
    }

    @Test
    void aChangeThatChangesNothingMakesNoVersion() throws Exception {
        List<Long> applied = new CopyOnWriteArrayList<>();
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            c.join(LU, (p, n) -> {
                applied.add(n.version());
                return CompletableFuture.completedFuture(null);
            });
            LuState same = c.update(LU, s -> s).get(5, TimeUnit.SECONDS);
            assertThat(same.version()).isZero();
            assertThat(applied).isEmpty();
        }
    }

    @Test
    void theWatcherSeesEveryVersionInOrderWithTheTransitionOfThatVersionOnly() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            c.join(LU, (p, n) -> {
                seen.add(p.version() + "->" + n.version() + ":" + n.transition().notices().size());
                return CompletableFuture.completedFuture(null);
            });
            c.update(LU, s -> s.nextPrGeneration().withTransition(Transition.by(A, 5,
                    List.of(Notice.of(Notice.Kind.REGISTRATIONS_PREEMPTED, List.of(B)))))).get(5, TimeUnit.SECONDS);
            LuState v2 = c.update(LU, s -> {
                assertThat(s.transition()).isEqualTo(Transition.NONE); // the previous change's notices are gone
                return s.nextPrGeneration();
            }).get(5, TimeUnit.SECONDS);
            assertThat(v2.transition()).isEqualTo(Transition.NONE);
        }
        assertThat(seen).containsExactly("0->1:1", "1->2:0");
    }

    @Test
    void anUpdateIsAcknowledgedOnlyAfterTheNodeHasAppliedIt() throws Exception {
        CompletableFuture<Void> drain = new CompletableFuture<>();
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            c.join(LU, (p, n) -> drain);
            CompletableFuture<LuState> first = c.update(LU, LuState::nextPrGeneration);
            CompletableFuture<LuState> second = c.update(LU, LuState::nextPrGeneration);
            Thread.sleep(50);
            assertThat(first).isNotDone();
            assertThat(second).isNotDone();   // applied strictly after the first
            assertThat(c.cached(LU).version()).isEqualTo(2); // stored, not yet acknowledged
            drain.complete(null);
            assertThat(first.get(5, TimeUnit.SECONDS).version()).isEqualTo(1);
            assertThat(second.get(5, TimeUnit.SECONDS).version()).isEqualTo(2);
        }
    }

    @Test
    void concurrentChangesAreNeverLost() throws Exception {
        int threads = 8;
        int perThread = 200;
        try (LocalCoordinator c = LocalCoordinator.inMemory(); var pool = Executors.newFixedThreadPool(threads)) {
            c.join(LU, IGNORE);
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        c.update(LU, LuState::nextPrGeneration).join();
                    }
                }));
            }
            for (Future<?> j : jobs) {
                j.get(20, TimeUnit.SECONDS);
            }
            assertThat(c.cached(LU).prGeneration()).isEqualTo(threads * perThread);
            assertThat(c.cached(LU).version()).isEqualTo(threads * perThread);
        }
    }

    @Test
    void whatTheChangeThrowsFailsTheUpdateAndChangesNothing() {
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            c.join(LU, IGNORE);
            CompletableFuture<LuState> f = c.update(LU, s -> {
                throw new IllegalArgumentException("conflict");
            });
            assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalArgumentException.class);
            assertThat(c.cached(LU).version()).isZero();
        }
    }

    @Test
    void aptplRegistrationsAndReservationSurviveARestart() throws Exception {
        LuState before;
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            c.join(LU, IGNORE);
            c.update(LU, s -> s.withAptpl(true).withRegistration(new Registration(A, 0xABCDEF0123456789L))
                    .withRegistration(new Registration(B, -1L)).nextPrGeneration()).get(5, TimeUnit.SECONDS);
            before = c.update(LU, s -> s.withReservation(new PersistentReservation(A,
                    ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)).withSpc2Holder(B)
                    .withPortGroupState(1, AccessState.STANDBY).withResetEpoch(3)).get(5, TimeUnit.SECONDS);
        }
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            LuState after = c.join(LU, IGNORE);
            assertThat(after.registrations()).containsExactly(new Registration(A, 0xABCDEF0123456789L), new Registration(B, -1L));
            assertThat(after.reservation()).isEqualTo(before.reservation());
            assertThat(after.prGeneration()).isEqualTo(1);
            assertThat(after.aptpl()).isTrue();
            // power loss clears what SPC-4 does not keep
            assertThat(after.spc2Holder()).isNull();
            assertThat(after.portGroupStates()).isEmpty();
            assertThat(after.resetEpoch()).isZero();
        }
    }

    @Test
    void withoutAptplOnlyTheGenerationSurvives() throws Exception {
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            c.join(LU, IGNORE);
            c.update(LU, s -> s.withAptpl(true).withRegistration(new Registration(A, 1)).nextPrGeneration()).get(5, TimeUnit.SECONDS);
            c.update(LU, s -> s.withAptpl(false).withRegistration(new Registration(B, 2)).nextPrGeneration()).get(5, TimeUnit.SECONDS);
        }
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            LuState after = c.join(LU, IGNORE);
            assertThat(after.registrations()).isEmpty();
            assertThat(after.aptpl()).isFalse();
            assertThat(after.prGeneration()).isEqualTo(2);
        }
    }

    @Test
    void aCorruptStateFileIsRefusedAndALeftoverTemporaryFileIgnored() throws Exception {
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            c.join(LU, IGNORE);
            c.update(LU, s -> s.withAptpl(true).withRegistration(new Registration(A, 1)).nextPrGeneration()).get(5, TimeUnit.SECONDS);
        }
        Path file = StateFile.path(dir, LU);
        Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), "half-written");
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            assertThat(c.join(LU, IGNORE).registrations()).hasSize(1);
        }
        assertThat(file.resolveSibling(file.getFileName() + ".tmp")).doesNotExist();

        String text = Files.readString(file, StandardCharsets.UTF_8).replace("generation 1", "generation 9");
        Files.writeString(file, text);
        try (LocalCoordinator c = LocalCoordinator.persistent(dir)) {
            assertThatThrownBy(() -> c.join(LU, IGNORE)).isInstanceOf(CoordinatorException.class).hasMessageContaining("checksum");
        }
    }

    @Test
    void theStateFileRoundTripsEveryDurableField() {
        LuState s = LuState.initial("lu with spaces/and slashes").withAptpl(true).withVersion(4).withPrGeneration(0xFFFF_FFFFL)
                .withRegistration(new Registration(new NexusId("iqn.x:y z,i,0x1", 65535), Long.MIN_VALUE))
                .withReservation(new PersistentReservation(new NexusId("iqn.x:y z,i,0x1", 65535),
                        ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS));
        assertThat(StateFile.parse(s.luId(), StateFile.render(s).getBytes(StandardCharsets.UTF_8))).isEqualTo(s);
    }

    @Test
    void theSingleNodeIsTheOnlyMemberAlwaysServesAndKeepsConfigurationInMemory() throws Exception {
        try (LocalCoordinator c = LocalCoordinator.inMemory()) {
            assertThat(c.serving()).isTrue();
            assertThat(c.members()).containsExactly(Member.bare("local"));
            List<List<Member>> heard = new CopyOnWriteArrayList<>();
            c.addMembershipListener(heard::add);
            Member self = new Member("local", List.of(new Member.Portal("127.0.0.1", 3260)), 1, 1, List.of(1));
            c.announce(self);
            assertThat(c.members()).containsExactly(self);
            assertThat(heard).containsExactly(List.of(self));
            assertThatThrownBy(() -> c.announce(Member.bare("other"))).isInstanceOf(IllegalArgumentException.class);

            List<String> changes = new CopyOnWriteArrayList<>();
            c.config().addListener((key, entry) -> changes.add(key + ":" + (entry == null ? "-" : entry.version())));
            assertThat(c.config().put("luns", new byte[] {1}, ConfigStore.ABSENT).get(5, TimeUnit.SECONDS).version()).isEqualTo(1);
            assertThatThrownBy(() -> c.config().put("luns", new byte[] {2}, ConfigStore.ABSENT).get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOf(ConfigConflictException.class);
            assertThat(c.config().put("luns", new byte[] {2}, 1).get(5, TimeUnit.SECONDS).version()).isEqualTo(2);
            assertThat(c.config().get("luns").orElseThrow().value()).containsExactly(2);
            c.config().remove("luns", 2).get(5, TimeUnit.SECONDS);
            assertThat(c.config().entries()).isEmpty();
            assertThat(changes).containsExactly("luns:1", "luns:2", "luns:-");
        }
    }
}
