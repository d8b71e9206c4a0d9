package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * ORWRITE(16) (SBC-4 5.9, the form without BMOP): each block of the range becomes the bitwise OR
 * of the medium and the Data-Out, read, merged and written back as one atomic read-modify-write of
 * the backing store, so no other write to the range lands between the read and the write.
 */
public final class OrWrite {

    private OrWrite() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        ByteBuffer data = c.dataOut();
        if (data == null || !data.hasRemaining()) {
            return Command.good();
        }
        LogicalUnit lu = c.lu();
        ByteBuffer medium = c.bulk(data.remaining());
        return c.io(() -> lu.device().update(c.lba(), medium, current -> {
            or(current, data);
            return true;
        }, ReadWrite.forceUnitAccess(c))).thenApply(written -> ScsiResponse.good());
    }

    /** {@code into |= with}, both whole blocks (multiples of 8 bytes), positions untouched. */
    static void or(ByteBuffer into, ByteBuffer with) {
        int base = with.position();
        int n = into.remaining();
        for (int i = 0; i < n; i += Long.BYTES) {
            into.putLong(into.position() + i, into.getLong(into.position() + i) | with.getLong(base + i));
        }
    }
}
