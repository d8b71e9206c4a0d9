package io.tandem.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class RangeLockTableTest {

    private final RangeLockTable table = new RangeLockTable();

    /** Starts an acquisition on another thread; the future completes when it is granted. */
    private CompletableFuture<RangeLockTable.Held> async(java.util.function.Supplier<RangeLockTable.Held> acquire) {
        CompletableFuture<RangeLockTable.Held> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> f.complete(acquire.get()));
        return f;
    }

    private void awaitWaiting() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!table.hasWaiters()) {
            assertThat(System.nanoTime()).as("a request should be waiting").isLessThan(deadline);
            Thread.sleep(1);
        }
    }

    @Test
    void sharedRangesDoNotWaitForEachOther() {
        try (var a = table.shared(0, 100); var b = table.shared(50, 100); var c = table.shared(0, 1000)) {
            assertThat(table.size()).isEqualTo(3);
            assertThat(table.hasWaiters()).isFalse();
        }
        assertThat(table.size()).isZero();
    }

    @Test
    void exclusiveWaitsForOverlappingSharedButNotForDisjointRanges() throws Exception {
        RangeLockTable.Held reader = table.shared(0, 512);
        try (var disjoint = table.exclusive(512, 512)) {
            assertThat(disjoint).isNotNull(); // [512, 1024) does not touch [0, 512)
        }
        CompletableFuture<RangeLockTable.Held> writer = async(() -> table.exclusive(256, 512));
        awaitWaiting();
        assertThat(writer).isNotDone();
        reader.close();
        writer.get(5, TimeUnit.SECONDS).close();
        assertThat(table.size()).isZero();
    }

    @Test
    void sharedRequestsQueueBehindAWaitingExclusiveOne() throws Exception {
        RangeLockTable.Held first = table.shared(0, 100);
        CompletableFuture<RangeLockTable.Held> exclusive = async(() -> table.exclusive(0, 100));
        awaitWaiting();
        // Arrival order: a later shared request must not overtake the exclusive one (no starvation).
        CompletableFuture<RangeLockTable.Held> later = async(() -> table.shared(0, 100));
        Thread.sleep(50);
        assertThat(later).isNotDone();
        first.close();
        RangeLockTable.Held x = exclusive.get(5, TimeUnit.SECONDS);
        Thread.sleep(50);
        assertThat(later).as("still behind the exclusive holder").isNotDone();
        x.close();
        later.get(5, TimeUnit.SECONDS).close();
    }

    @Test
    void aTwoRangeRequestIsGrantedWhole() throws Exception {
        // An exclusive request spanning both ranges of a copy: the copy's two ranges are one
        // request, so neither side can hold one range while waiting for the other.
        RangeLockTable.Held spanning = table.exclusive(90, 20);
        CompletableFuture<RangeLockTable.Held> pair = async(() -> table.shared(0, 100, 100, 100));
        awaitWaiting();
        assertThat(pair).isNotDone();
        spanning.close();
        pair.get(5, TimeUnit.SECONDS).close();
    }

    @Test
    void releaseIsIdempotent() {
        RangeLockTable.Held h = table.exclusive(0, 1);
        h.close();
        h.close();
        try (var again = table.exclusive(0, 1)) {
            assertThat(table.size()).isEqualTo(1);
        }
    }

    @Test
    void manyThreadsIncrementingUnderExclusiveRangesLoseNothing() throws Exception {
        int threads = 8;
        int rounds = 2000;
        long[] counter = new long[1];
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < rounds; i++) {
                    try (var h = table.exclusive(4096, 512)) {
                        counter[0]++;
                    }
                }
                done.countDown();
            });
        }
        assertThat(done.await(Duration.ofSeconds(8).toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(counter[0]).isEqualTo((long) threads * rounds);
    }
}
