package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** MODE SENSE(6) and MODE SENSE(10) (SPC-4 6.11, 6.12). */
public final class ModeSense {

    private static final int PC_CURRENT = 0;
    private static final int PC_CHANGEABLE = 1;
    private static final int PC_DEFAULT = 2;
    private static final int PC_SAVED = 3;
    /** Device-specific parameter (SBC-4): WP and DPOFUA bits. */
    private static final int WP = 0x80;
    private static final int DPOFUA = 0x10;

    private ModeSense() {
    }

    public static CompletableFuture<ScsiResponse> execute6(Command c) {
        byte[] cdb = c.cdb();
        return sense(c, false, (cdb[1] & 0x08) != 0, false, Bytes.u8(cdb, 4));
    }

    public static CompletableFuture<ScsiResponse> execute10(Command c) {
        byte[] cdb = c.cdb();
        return sense(c, true, (cdb[1] & 0x08) != 0, (cdb[1] & 0x10) != 0, Bytes.u16(cdb, 7));
    }

    private static CompletableFuture<ScsiResponse> sense(Command c, boolean ten, boolean dbd, boolean llbaa,
                                                         int allocation) {
        byte[] cdb = c.cdb();
        int pc = (cdb[2] >>> 6) & 0x03;
        int code = cdb[2] & 0x3F;
        int subpage = Bytes.u8(cdb, 3);
        if (pc == PC_SAVED) {
            throw ScsiException.of(SenseReason.SAVING_PARAMETERS_NOT_SUPPORTED);
        }
        List<ModePages.Page> pages = select(code, subpage);
        LogicalUnit lu = c.lu();
        ModeParameters current = lu.modeParameters();

        ByteArrayOutputStream body = new ByteArrayOutputStream(128);
        boolean longLba = ten && llbaa;
        if (!dbd) {
            body.writeBytes(blockDescriptor(lu, longLba, pc == PC_CHANGEABLE));
        }
        int descriptorLength = body.size();
        for (ModePages.Page p : pages) {
            body.writeBytes(switch (pc) {
                case PC_CHANGEABLE -> p.changeableValues();
                case PC_DEFAULT -> p.current(ModeParameters.DEFAULTS);
                default -> p.current(current);
            });
        }
        int deviceSpecific = DPOFUA | (lu.readOnly() || current.softwareWriteProtect() ? WP : 0);
        byte[] data;
        if (ten) {
            data = new byte[8 + body.size()];
            Bytes.putShort(data, 0, data.length - 2);
            data[3] = (byte) deviceSpecific;
            data[4] = (byte) (longLba && !dbd ? 0x01 : 0x00);
            Bytes.putShort(data, 6, descriptorLength);
            System.arraycopy(body.toByteArray(), 0, data, 8, body.size());
        } else {
            data = new byte[4 + body.size()];
            data[0] = (byte) Math.min(data.length - 1, 0xFF);
            data[2] = (byte) deviceSpecific;
            data[3] = (byte) descriptorLength;
            System.arraycopy(body.toByteArray(), 0, data, 4, body.size());
        }
        return c.dataIn(data, allocation);
    }

    /** The pages a PAGE CODE / SUBPAGE CODE pair asks for; INVALID FIELD IN CDB when none match. */
    static List<ModePages.Page> select(int code, int subpage) {
        if (code == ModePages.ALL_PAGES && subpage != 0 && subpage != ModePages.ALL_SUBPAGES) {
            throw ScsiException.invalidCdbField(3, 7); // 3Fh/01h..FEh are reserved
        }
        List<ModePages.Page> out = new ArrayList<>();
        for (ModePages.Page p : ModePages.ALL) {
            boolean pageMatches = code == ModePages.ALL_PAGES || p.code() == code;
            boolean subpageMatches = subpage == ModePages.ALL_SUBPAGES || p.subpage() == subpage;
            if (pageMatches && subpageMatches) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            boolean pageKnown = code == ModePages.ALL_PAGES
                    || ModePages.ALL.stream().anyMatch(p -> p.code() == code);
            throw pageKnown ? ScsiException.invalidCdbField(3, 7) : ScsiException.invalidCdbField(2, 5);
        }
        return out;
    }

    private static byte[] blockDescriptor(LogicalUnit lu, boolean longLba, boolean changeable) {
        if (longLba) {
            byte[] d = new byte[16];
            if (!changeable) {
                Bytes.putLong(d, 0, lu.blockCount());
                Bytes.putInt(d, 12, lu.blockSize());
            }
            return d;
        }
        byte[] d = new byte[8];
        if (!changeable) {
            long blocks = lu.blockCount();
            Bytes.putInt(d, 0, blocks > 0xFFFFFFFFL ? 0xFFFFFFFF : (int) blocks);
            d[5] = (byte) (lu.blockSize() >>> 16);
            d[6] = (byte) (lu.blockSize() >>> 8);
            d[7] = (byte) lu.blockSize();
        }
        return d;
    }
}
