package io.tandem.scsi.sbc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import io.tandem.storage.ProvisioningExtent;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * GET LBA STATUS (SBC-4 5.8): the provisioning status from the starting LBA on, as LBA status
 * descriptors of mapped (0h) and deallocated (1h) extents, read from the device (a file's holes).
 *
 * <p>The first descriptor starts exactly at the starting LBA; each following one where the previous
 * ended. The answer holds as many descriptors as the allocation length has room for (at least one,
 * at most {@link #MAX_DESCRIPTORS}); the initiator asks again from where it stopped. A fully
 * provisioned LU reports everything mapped. REPORT TYPE (byte 14) other than 0 is refused by the
 * usage mask.
 */
public final class GetLbaStatus {

    private static final int HEADER = 8;
    private static final int DESCRIPTOR = 16;
    /** Bounds the work one command may ask of the device. */
    static final int MAX_DESCRIPTORS = 1024;
    /** NUMBER OF LOGICAL BLOCKS is a 32-bit field: longer extents take several descriptors. */
    private static final long MAX_DESCRIPTOR_BLOCKS = 0xFFFFFFFFL;

    private GetLbaStatus() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        LogicalUnit lu = c.lu();
        long lba = Bytes.u64(cdb, 2);
        long allocation = Bytes.u32(cdb, 10);
        if (Long.compareUnsigned(lba, lu.blockCount()) >= 0) {
            throw ScsiException.of(SenseReason.LBA_OUT_OF_RANGE);
        }
        int wanted = (int) Math.clamp((allocation - HEADER) / DESCRIPTOR, 1, MAX_DESCRIPTORS);
        return c.io(() -> lu.device().provisioningStatus(lba, wanted))
                .thenApply(extents -> {
                    byte[] d = render(extents, wanted);
                    return ScsiResponse.good(ByteBuffer.wrap(d, 0, (int) Math.min(d.length, allocation)).slice());
                });
    }

    static byte[] render(List<ProvisioningExtent> extents, int maxDescriptors) {
        int count = 0;
        for (ProvisioningExtent e : extents) {
            count += (int) Math.ceilDiv(e.blocks(), MAX_DESCRIPTOR_BLOCKS);
        }
        count = Math.min(count, maxDescriptors);
        byte[] d = new byte[HEADER + count * DESCRIPTOR];
        Bytes.putInt(d, 0, d.length - 4);                      // PARAMETER DATA LENGTH
        int at = HEADER;
        for (ProvisioningExtent e : extents) {
            for (long lba = e.lba(); lba < e.end() && at < d.length; lba += MAX_DESCRIPTOR_BLOCKS) {
                Bytes.putLong(d, at, lba);
                Bytes.putInt(d, at + 8, Math.min(MAX_DESCRIPTOR_BLOCKS, e.end() - lba));
                d[at + 12] = (byte) (e.state() == ProvisioningExtent.State.DEALLOCATED ? 0x1 : 0x0);
                at += DESCRIPTOR;
            }
        }
        return d;
    }
}
