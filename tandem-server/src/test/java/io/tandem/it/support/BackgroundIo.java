package io.tandem.it.support;

import io.tandem.it.initiator.IscsiSession;
import io.tandem.it.initiator.ScsiDevice;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A second session that keeps writing and reading back verified blocks in its own region of the LUN
 * while a test abuses another connection. {@link #stop()} returns how many verified round trips ran,
 * and rethrows the first error or mismatch.
 */
public final class BackgroundIo implements AutoCloseable {
    private final IscsiSession session;
    private final ScsiDevice device;
    private final long firstLba;
    private final int regionBlocks;
    private final int blockSize;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger verifiedRoundTrips = new AtomicInteger();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Thread thread;

    public BackgroundIo(IscsiSession session, int lun, long firstLba, int regionBlocks) throws Exception {
        this.session = session;
        this.device = session.device(lun);
        this.firstLba = firstLba;
        this.regionBlocks = regionBlocks;
        this.blockSize = device.blockSize();
        this.thread = new Thread(this::run, "background-io");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try {
            int tag = 1;
            final int chunk = 8;
            while (running.get()) {
                long lba = firstLba + (tag * chunk) % regionBlocks;
                byte[] data = Patterns.blocks(lba, chunk, blockSize, tag);
                device.write16(lba, data);
                byte[] back = device.read16(lba, chunk);
                String mismatch = Patterns.firstMismatch(data, back, lba, blockSize);
                if (mismatch != null) {
                    throw new AssertionError("background I/O read back wrong data: " + mismatch);
                }
                verifiedRoundTrips.incrementAndGet();
                tag++;
            }
            done.complete(null);
        } catch (Throwable t) {
            done.completeExceptionally(t);
        }
    }

    public int verifiedRoundTrips() {
        return verifiedRoundTrips.get();
    }

    /** Waits until at least {@code n} more round trips have completed, failing fast if the I/O failed. */
    public void awaitProgress(int n, Duration timeout) throws Exception {
        int target = verifiedRoundTrips.get() + n;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (verifiedRoundTrips.get() < target) {
            if (done.isDone()) {
                done.get();
                throw new AssertionError("background I/O stopped");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("background I/O made no progress in " + timeout + " (at "
                        + verifiedRoundTrips.get() + " round trips)");
            }
            Thread.sleep(10);
        }
    }

    /** Stops the loop and returns the number of verified round trips; rethrows any failure. */
    public int stop() throws Exception {
        running.set(false);
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw new AssertionError(e.getCause());
        }
        return verifiedRoundTrips.get();
    }

    public IscsiSession session() {
        return session;
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        session.close();
    }
}
