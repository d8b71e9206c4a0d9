package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseData;
import io.tandem.scsi.core.SenseReason;
import java.util.concurrent.CompletableFuture;

/**
 * REQUEST SENSE (SPC-4 6.39). Sense of failed commands travels with their status (autosense), so
 * what remains to report here is a pending unit attention (reported and cleared), LOGICAL UNIT NOT
 * SUPPORTED for a missing LUN, a sanitize operation's progress (or its failure), or NO SENSE.
 */
public final class RequestSense {

    private RequestSense() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        boolean descriptor = (cdb[1] & 0x01) != 0;
        int allocation = Bytes.u8(cdb, 4);
        SenseReason reason;
        if (c.lu() == null) {
            reason = SenseReason.LOGICAL_UNIT_NOT_SUPPORTED;
        } else {
            SenseReason ua = c.lu().unitAttentions(c.nexus()).poll();
            reason = ua;
        }
        if (reason == null && c.lu() != null) {
            try {
                c.lu().sanitize().check(false);
            } catch (ScsiException sanitizing) {
                return c.dataIn(SenseData.build(sanitizing, descriptor), allocation);
            }
        }
        byte[] sense = reason == null ? noSense(descriptor) : SenseData.build(reason, descriptor);
        return c.dataIn(sense, allocation);
    }

    private static byte[] noSense(boolean descriptor) {
        if (descriptor) {
            return new byte[]{0x72, 0, 0, 0, 0, 0, 0, 0};
        }
        byte[] s = new byte[18];
        s[0] = 0x70;
        s[7] = 10;
        return s;
    }
}
