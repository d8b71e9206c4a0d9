package io.tandem.scsi.sbc;

import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.pr.NexusIds;
import io.tandem.storage.BlockDevice;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * SANITIZE (SBC-4 5.30): OVERWRITE, BLOCK ERASE and EXIT FAILURE MODE; CRYPTOGRAPHIC ERASE is not
 * offered (the store keeps no encryption key to destroy), so it is an unknown service action.
 *
 * <p>The sanitize operation runs on its own thread and belongs to the LU
 * ({@link io.tandem.scsi.core.SanitizeState}), on every node of a cluster: once its record change
 * is applied everywhere, every node's precheck refuses every command but INQUIRY, REPORT LUNS and
 * REQUEST SENSE (which reports the progress), and commands admitted earlier start no medium write
 * they had not committed to. A second change waits until the writes every node had committed to
 * have ended, so none lands after a pass; then every block is written. Aborting the SANITIZE
 * command, resets and nexus loss do not stop it. With IMMED the command ends once the parameters
 * are validated and the LU claimed; without, when the operation's end is stored.
 *
 * <p>A pass is a bulk write over the whole LU, on a store other nodes share, so it is paced
 * ({@link #bytesPerSecond()}, default 128 MiB/s, system property {@code tandem.sanitize.rate} in
 * bytes per second) rather than allowed to starve everyone else's I/O.
 */
public final class Sanitize {

    public static final int OVERWRITE = 0x01;
    public static final int BLOCK_ERASE = 0x02;
    public static final int EXIT_FAILURE_MODE = 0x1F;

    private static final int IMMED = 0x80;
    private static final int AUSE = 0x20;
    private static final int PARAMETER_LIST_LENGTH_BYTE = 7;
    private static final int HEADER = 4;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final long DEFAULT_RATE = 128L << 20;
    private static final long FENCED_POLL_MILLIS = 50;
    private static final System.Logger LOG = System.getLogger(Sanitize.class.getName());

    private Sanitize() {
    }

    /**
     * Data-Out: the PARAMETER LIST LENGTH. The handlers check it (OVERWRITE: a header and a pattern
     * of 1 .. block size bytes; the others: none), after the precheck, so a command refused for
     * its access state or a reservation is refused for that first.
     */
    public static long dataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        return Bytes.u16(cdb, PARAMETER_LIST_LENGTH_BYTE);
    }

    private static void checkNoParameterList(Command c) {
        if (Bytes.u16(c.cdb(), PARAMETER_LIST_LENGTH_BYTE) != 0) {
            throw ScsiException.invalidCdbField(PARAMETER_LIST_LENGTH_BYTE, 7);
        }
    }

    public static long bytesPerSecond() {
        return Long.getLong("tandem.sanitize.rate", DEFAULT_RATE);
    }

    public static CompletableFuture<ScsiResponse> overwrite(Command c) {
        int declared = Bytes.u16(c.cdb(), PARAMETER_LIST_LENGTH_BYTE);
        if (declared <= HEADER || declared > c.lu().blockSize() + HEADER) {
            throw ScsiException.invalidCdbField(PARAMETER_LIST_LENGTH_BYTE, 7);
        }
        ByteBuffer list = c.dataOut();
        int length = list == null ? 0 : list.remaining();
        if (length <= HEADER) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        int p = list.position();
        int flags = list.get(p) & 0xFF;
        boolean invert = (flags & 0x80) != 0;
        int test = (flags >>> 5) & 0x03;
        int count = flags & 0x1F;
        if (test != 0) {
            throw ScsiException.invalidParameterField(0, 6); // vendor-specific TEST modes: none
        }
        if (count == 0) {
            throw ScsiException.invalidParameterField(0, 4);
        }
        if (list.get(p + 1) != 0) {
            throw ScsiException.invalidParameterField(1, 7);
        }
        int patternLength = ((list.get(p + 2) & 0xFF) << 8) | (list.get(p + 3) & 0xFF);
        if (patternLength == 0 || patternLength > c.lu().blockSize()) {
            throw ScsiException.invalidParameterField(2, 7);
        }
        if (patternLength > length - HEADER) {
            throw ScsiException.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR);
        }
        byte[] pattern = new byte[patternLength];
        list.get(p + HEADER, pattern);
        return start(c, new Passes(pattern, count, invert));
    }

    /**
     * BLOCK ERASE deallocates every block (a thin LU's blocks then read as zeroes and report
     * deallocated); on a fully provisioned LU it writes zeroes.
     */
    public static CompletableFuture<ScsiResponse> blockErase(Command c) {
        checkNoParameterList(c);
        return start(c, null);
    }

    public static CompletableFuture<ScsiResponse> exitFailureMode(Command c) {
        checkNoParameterList(c);
        // A failed operation requested with AUSE=0 refuses it: only a successful sanitize ends that one.
        return c.lu().sanitize().exitFailureMode().thenApply(applied -> ScsiResponse.good());
    }

    /** The overwrite passes of one operation (null: a block erase); the last pass writes the pattern itself. */
    private record Passes(byte[] pattern, int count, boolean invert) {
        boolean inverted(int pass) {
            return invert && ((count - 1 - pass) & 1) == 1;
        }
    }

    private static CompletableFuture<ScsiResponse> start(Command c, Passes passes) {
        LogicalUnit lu = c.lu();
        boolean immediate = (c.cdb()[1] & IMMED) != 0;
        boolean ause = (c.cdb()[1] & AUSE) != 0;
        NexusId issuer = NexusIds.exact(c.nexus());
        long tag = c.task().tag();
        // One record change claims the LU on every node (or finds a sanitize already running somewhere).
        CompletableFuture<LuState> begun = lu.sanitize().begin(c.nexus().targetPort().targetPortGroup(), ause);
        CompletableFuture<Void> done = new CompletableFuture<>();
        begun.whenComplete((applied, refused) -> {
            if (refused != null) {
                done.completeExceptionally(refused);
                return;
            }
            Thread.ofVirtual().name("sanitize-" + lu.number()).start(() -> run(c, lu, passes, issuer, tag, done));
        });
        if (immediate) {
            return begun.thenApply(applied -> ScsiResponse.good());
        }
        // Deliberately not a c.io(...) operation: aborting the command must not wait for (or stop)
        // the sanitize operation, which outlives it.
        return done.thenApply(v -> ScsiResponse.good());
    }

    private static void run(Command c, LogicalUnit lu, Passes passes, NexusId issuer, long tag, CompletableFuture<Void> done) {
        boolean ok = false;
        try {
            // Every node now refuses new commands; this waits until the writes they had committed to end.
            lu.sanitize().drain(issuer, tag).get();
            if (passes == null) {
                erase(c, lu);
            } else {
                overwrite(c, lu, passes);
            }
            ok = true;
        } catch (Throwable e) {
            LOG.log(System.Logger.Level.ERROR, "sanitize of " + lu + " failed", e);
        } finally {
            try {
                lu.sanitize().end(ok);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (ok) {
                done.complete(null);
            } else {
                done.completeExceptionally(ScsiException.of(SenseReason.SANITIZE_COMMAND_FAILED));
            }
        }
    }

    /**
     * Between two chunks: a fenced node writes nothing (its cluster may be going on without it), and
     * once back it goes on only if the record still names its operation; if the cluster took the node
     * for lost meanwhile, the operation was marked failed and must not write any more.
     */
    private static void mayWrite(Command c, LogicalUnit lu) throws InterruptedException {
        while (c.target().fenced() && !lu.retired()) {
            Thread.sleep(FENCED_POLL_MILLIS);
        }
        if (lu.retired()) {
            throw new IllegalStateException(lu + " is no longer served by this node");
        }
        if (!lu.sanitize().stillOurs()) {
            throw new IllegalStateException("the cluster ended the sanitize of " + lu + " (this node was taken for lost)");
        }
    }

    private static void erase(Command c, LogicalUnit lu) throws Exception {
        BlockDevice device = lu.device();
        long blocks = device.blockCount();
        int chunkBlocks = Math.max(1, CHUNK_BYTES / device.blockSize());
        // Deallocation changes metadata only; written zeroes are a bulk write and are paced.
        boolean paced = !device.thinProvisioned();
        long rate = Math.max(1, bytesPerSecond());
        long started = System.nanoTime();
        for (long lba = 0; lba < blocks; ) {
            int n = (int) Math.min(chunkBlocks, blocks - lba);
            mayWrite(c, lu);
            device.writeZeroes(lba, n, true, false).get();
            lba += n;
            lu.sanitize().progress(lba, blocks);
            if (paced) {
                pace(started, lba * device.blockSize(), rate);
            }
        }
        device.flush().get();
    }

    private static void overwrite(Command c, LogicalUnit lu, Passes passes) throws Exception {
        BlockDevice device = lu.device();
        int blockSize = device.blockSize();
        long blocks = device.blockCount();
        int chunkBlocks = Math.max(1, CHUNK_BYTES / blockSize);
        ByteBuffer plain = chunk(passes.pattern(), false, blockSize, chunkBlocks);
        ByteBuffer inverted = passes.invert() ? chunk(passes.pattern(), true, blockSize, chunkBlocks) : plain;
        long rate = Math.max(1, bytesPerSecond());
        long total = blocks * passes.count();
        long done = 0;
        long started = System.nanoTime();
        for (int pass = 0; pass < passes.count(); pass++) {
            ByteBuffer source = passes.inverted(pass) ? inverted : plain;
            for (long lba = 0; lba < blocks; ) {
                int n = (int) Math.min(chunkBlocks, blocks - lba);
                mayWrite(c, lu);
                device.write(lba, source.duplicate().limit(n * blockSize), false).get();
                lba += n;
                done += n;
                lu.sanitize().progress(done, total);
                pace(started, done * blockSize, rate);
            }
        }
        device.flush().get();
    }

    /** One chunk of blocks, each holding the pattern repeated (optionally inverted) to its end. */
    private static ByteBuffer chunk(byte[] pattern, boolean invert, int blockSize, int chunkBlocks) {
        byte[] block = new byte[blockSize];
        for (int i = 0; i < blockSize; i++) {
            byte b = pattern[i % pattern.length];
            block[i] = invert ? (byte) ~b : b;
        }
        ByteBuffer chunk = ByteBuffer.allocateDirect(chunkBlocks * blockSize);
        for (int i = 0; i < chunkBlocks; i++) {
            chunk.put(block);
        }
        return chunk.flip();
    }

    /** Sleeps until {@code bytes} written since {@code started} is within {@code rate} bytes/s. */
    private static void pace(long started, long bytes, long rate) throws InterruptedException {
        long due = started + (long) (bytes * 1e9 / rate);
        long ahead = due - System.nanoTime();
        if (ahead > 0) {
            TimeUnit.NANOSECONDS.sleep(ahead);
        }
    }
}
