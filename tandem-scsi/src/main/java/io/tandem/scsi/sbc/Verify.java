package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * VERIFY(10/12/16) and WRITE AND VERIFY(10/12/16) (SBC-4 5.33-5.35, 5.45-5.47).
 *
 * <p>VERIFY BYTCHK: 00b reads the range (medium verification), 01b compares the Data-Out with the
 * medium, 11b compares one Data-Out block with every block of the range, 10b is reserved.
 * WRITE AND VERIFY writes through to stable storage, then with BYTCHK 01b reads back and compares.
 * A difference ends the command with MISCOMPARE and the offset of the first differing byte in the
 * INFORMATION field.
 */
public final class Verify {

    private static final int BYTCHK_NONE = 0b00;
    private static final int BYTCHK_COMPARE = 0b01;
    private static final int BYTCHK_ONE_BLOCK = 0b11;

    private Verify() {
    }

    static int bytchk(byte[] cdb) {
        return (cdb[1] >>> 1) & 0x03;
    }

    /** Data-Out bytes of VERIFY: none, the whole range, or one block, by BYTCHK. */
    public static long verifyDataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        return switch (bytchk(cdb)) {
            case BYTCHK_NONE -> 0;
            case BYTCHK_COMPARE -> blocks * lu.blockSize();
            case BYTCHK_ONE_BLOCK -> blocks == 0 ? 0 : lu.blockSize();
            default -> throw ScsiException.invalidCdbField(1, 2);
        };
    }

    /** Data-Out bytes of WRITE AND VERIFY: the whole range (BYTCHK 10b and 11b are reserved). */
    public static long writeAndVerifyDataOut(byte[] cdb, LogicalUnit lu, long blocks) {
        if (bytchk(cdb) > BYTCHK_COMPARE) {
            throw ScsiException.invalidCdbField(1, 2);
        }
        return blocks * lu.blockSize();
    }

    public static CompletableFuture<ScsiResponse> verify(Command c) {
        long blocks = c.transferBlocks();
        if (blocks == 0) {
            return Command.good();
        }
        int mode = bytchk(c.cdb());
        LogicalUnit lu = c.lu();
        ByteBuffer expected = c.dataOut();
        long readBlocks = blocks;
        if (mode == BYTCHK_COMPARE) {
            // An initiator whose expected length is shorter than the CDB's sent fewer blocks; compare those.
            readBlocks = expected.remaining() / lu.blockSize();
        } else if (mode == BYTCHK_ONE_BLOCK && expected.remaining() < lu.blockSize()) {
            throw ScsiException.of(SenseReason.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
        }
        if (readBlocks == 0) {
            return Command.good();
        }
        ByteBuffer medium = c.bulk((int) (readBlocks * lu.blockSize()));
        return c.io(() -> lu.device().read(c.lba(), medium)).thenApply(v -> {
            medium.clear();
            switch (mode) {
                case BYTCHK_COMPARE -> compare(expected, medium, false, lu.blockSize());
                case BYTCHK_ONE_BLOCK -> compare(expected, medium, true, lu.blockSize());
                default -> { } // medium verification: the read succeeding is the verification
            }
            return ScsiResponse.good();
        });
    }

    public static CompletableFuture<ScsiResponse> writeAndVerify(Command c) {
        ByteBuffer data = c.dataOut();
        if (data == null || !data.hasRemaining()) {
            return Command.good();
        }
        LogicalUnit lu = c.lu();
        ByteBuffer written = data.duplicate();
        CompletableFuture<Void> write = c.io(() -> lu.device().write(c.lba(), data, true));
        if (bytchk(c.cdb()) != BYTCHK_COMPARE) {
            return write.thenApply(v -> ScsiResponse.good());
        }
        ByteBuffer medium = c.bulk(written.remaining());
        return write.thenCompose(v -> c.io(() -> lu.device().read(c.lba(), medium))).thenApply(v -> {
            compare(written, medium.clear(), false, lu.blockSize());
            return ScsiResponse.good();
        });
    }

    /**
     * Throws MISCOMPARE at the first differing byte. With {@code oneBlock}, {@code expected} holds one
     * block that every block of {@code medium} must equal.
     */
    static void compare(ByteBuffer expected, ByteBuffer medium, boolean oneBlock, int blockSize) {
        int base = expected.position();
        int length = medium.remaining();
        for (int offset = 0; offset < length; ) {
            int chunk = oneBlock ? blockSize : length;
            ByteBuffer want = expected.slice(base, chunk);
            ByteBuffer got = medium.slice(medium.position() + offset, chunk);
            int mismatch = want.mismatch(got);
            if (mismatch >= 0) {
                throw ScsiException.withInformation(SenseReason.MISCOMPARE_DURING_VERIFY, (long) offset + mismatch);
            }
            offset += chunk;
        }
    }
}
