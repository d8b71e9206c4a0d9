package io.tandem.scsi.spc;

import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.TargetPort;
import io.tandem.scsi.core.Bytes;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import io.tandem.scsi.sbc.CompareAndWrite;
import io.tandem.scsi.sbc.LogicalBlockProvisioning;
import io.tandem.scsi.sbc.WriteAtomic;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** INQUIRY (SPC-4 6.6): standard data and the vital product data pages. */
public final class Inquiry {

    public static final String VENDOR = "TANDEM";
    public static final String PRODUCT = "VIRTUAL-DISK";
    public static final String REVISION = "0001";

    static final int PAGE_SUPPORTED = 0x00;
    static final int PAGE_UNIT_SERIAL = 0x80;
    static final int PAGE_DEVICE_IDENTIFICATION = 0x83;
    static final int PAGE_EXTENDED_INQUIRY = 0x86;
    static final int PAGE_THIRD_PARTY_COPY = 0x8F;
    static final int PAGE_BLOCK_LIMITS = 0xB0;
    static final int PAGE_BLOCK_DEVICE_CHARACTERISTICS = 0xB1;
    static final int PAGE_LOGICAL_BLOCK_PROVISIONING = 0xB2;

    /** Supported VPD pages, ascending (SPC-4 requires the order). */
    static final int[] VPD_PAGES = {PAGE_SUPPORTED, PAGE_UNIT_SERIAL, PAGE_DEVICE_IDENTIFICATION,
            PAGE_EXTENDED_INQUIRY, PAGE_THIRD_PARTY_COPY, PAGE_BLOCK_LIMITS, PAGE_BLOCK_DEVICE_CHARACTERISTICS, PAGE_LOGICAL_BLOCK_PROVISIONING};

    private static final int STANDARD_LENGTH = 96;
    private static final int DIRECT_ACCESS_BLOCK_DEVICE = 0x00;
    /** Peripheral qualifier 011b + device type 1Fh: no logical unit at this LUN. */
    private static final int NO_LOGICAL_UNIT = 0x7F;
    private static final int CODE_SET_BINARY = 1;
    private static final int CODE_SET_ASCII = 2;
    private static final int CODE_SET_UTF8 = 3;
    private static final int PROTOCOL_ISCSI = 5;

    private Inquiry() {
    }

    public static CompletableFuture<ScsiResponse> execute(Command c) {
        byte[] cdb = c.cdb();
        boolean evpd = (cdb[1] & 0x01) != 0;
        int page = Bytes.u8(cdb, 2);
        int allocation = Bytes.u16(cdb, 3);
        if (!evpd) {
            if (page != 0) {
                throw ScsiException.invalidCdbField(2, 7);
            }
            return c.dataIn(standard(c.lu()), allocation);
        }
        LogicalUnit lu = c.lu();
        if (lu == null) {
            throw ScsiException.of(SenseReason.LOGICAL_UNIT_NOT_SUPPORTED);
        }
        byte[] data = switch (page) {
            case PAGE_SUPPORTED -> supportedPages();
            case PAGE_UNIT_SERIAL -> unitSerial(lu);
            case PAGE_DEVICE_IDENTIFICATION -> deviceIdentification(lu, c.nexus().targetPort(), c.target().targetName());
            case PAGE_EXTENDED_INQUIRY -> extendedInquiry();
            case PAGE_THIRD_PARTY_COPY -> thirdPartyCopy(lu);
            case PAGE_BLOCK_LIMITS -> blockLimits(lu);
            case PAGE_BLOCK_DEVICE_CHARACTERISTICS -> blockDeviceCharacteristics();
            case PAGE_LOGICAL_BLOCK_PROVISIONING -> LogicalBlockProvisioning.vpdPage(lu);
            default -> throw ScsiException.invalidCdbField(2, 7);
        };
        return c.dataIn(data, allocation);
    }

    static byte[] standard(LogicalUnit lu) {
        byte[] d = new byte[STANDARD_LENGTH];
        d[0] = (byte) (lu == null ? NO_LOGICAL_UNIT : DIRECT_ACCESS_BLOCK_DEVICE);
        d[1] = (byte) (lu != null && lu.removable() ? 0x80 : 0x00); // RMB: removable medium
        d[2] = 0x06;                     // VERSION: SPC-4
        d[3] = 0x12;                     // HISUP=1, RESPONSE DATA FORMAT=2
        d[4] = (byte) (STANDARD_LENGTH - 5);
        d[5] = 0x30 | 0x08;              // TPGS=11b: implicit and explicit ALUA (REPORT/SET TARGET PORT GROUPS); 3PC: EXTENDED COPY
        d[6] = 0x10;                     // MULTIP: every cluster node is a port of this device
        d[7] = 0x02;                     // CMDQUE
        Bytes.putAscii(d, 8, 8, VENDOR);
        Bytes.putAscii(d, 16, 16, PRODUCT);
        Bytes.putAscii(d, 32, 4, REVISION);
        int[] versionDescriptors = {0x00A0 /* SAM-5 */, 0x0960 /* iSCSI */, 0x0460 /* SPC-4 */, 0x04C0 /* SBC-3 */};
        for (int i = 0; i < versionDescriptors.length; i++) {
            Bytes.putShort(d, 58 + 2 * i, versionDescriptors[i]);
        }
        return d;
    }

    private static byte[] header(int page, int pageLength) {
        byte[] d = new byte[4 + pageLength];
        d[0] = DIRECT_ACCESS_BLOCK_DEVICE;
        d[1] = (byte) page;
        Bytes.putShort(d, 2, pageLength);
        return d;
    }

    static byte[] supportedPages() {
        byte[] d = header(PAGE_SUPPORTED, VPD_PAGES.length);
        for (int i = 0; i < VPD_PAGES.length; i++) {
            d[4 + i] = (byte) VPD_PAGES[i];
        }
        return d;
    }

    static byte[] unitSerial(LogicalUnit lu) {
        byte[] serial = lu.identity().serial().getBytes(StandardCharsets.US_ASCII);
        byte[] d = header(PAGE_UNIT_SERIAL, serial.length);
        System.arraycopy(serial, 0, d, 4, serial.length);
        return d;
    }

    static byte[] deviceIdentification(LogicalUnit lu, TargetPort port, String targetName) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(160);
        // Logical unit: NAA (same on every node) and T10 vendor id + serial.
        designator(out, 0, CODE_SET_BINARY, false, 0, 0x3, lu.identity().naa());
        byte[] t10 = new byte[8 + lu.identity().serial().length()];
        Bytes.putAscii(t10, 0, 8, VENDOR);
        Bytes.putAscii(t10, 8, t10.length - 8, lu.identity().serial());
        designator(out, 0, CODE_SET_ASCII, false, 0, 0x1, t10);
        // Target port: relative port id and port group (per node), and the port's SCSI name.
        designator(out, PROTOCOL_ISCSI, CODE_SET_BINARY, true, 1, 0x4, new byte[]{0, 0,
                (byte) (port.relativeTargetPortId() >>> 8), (byte) port.relativeTargetPortId()});
        designator(out, PROTOCOL_ISCSI, CODE_SET_BINARY, true, 1, 0x5, new byte[]{0, 0,
                (byte) (port.targetPortGroup() >>> 8), (byte) port.targetPortGroup()});
        designator(out, PROTOCOL_ISCSI, CODE_SET_UTF8, true, 1, 0x8, scsiNameString(port.portName()));
        // Target device: its SCSI name.
        designator(out, PROTOCOL_ISCSI, CODE_SET_UTF8, true, 2, 0x8, scsiNameString(targetName));
        byte[] body = out.toByteArray();
        byte[] d = header(PAGE_DEVICE_IDENTIFICATION, body.length);
        System.arraycopy(body, 0, d, 4, body.length);
        return d;
    }

    private static void designator(ByteArrayOutputStream out, int protocol, int codeSet, boolean piv,
                                   int association, int type, byte[] value) {
        out.write((protocol << 4) | codeSet);
        out.write((piv ? 0x80 : 0) | (association << 4) | type);
        out.write(0);
        out.write(value.length);
        out.writeBytes(value);
    }

    /** UTF-8, null terminated, padded with nulls to a multiple of four bytes (SPC-4 7.8.6.11). */
    private static byte[] scsiNameString(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        int padded = (utf8.length + 1 + 3) & ~3;
        byte[] d = new byte[Math.min(padded, 252)];
        System.arraycopy(utf8, 0, d, 0, Math.min(utf8.length, d.length - 1));
        return d;
    }

    static byte[] extendedInquiry() {
        byte[] d = header(PAGE_EXTENDED_INQUIRY, 0x3C);
        d[5] = 0x07; // HEADSUP, ORDSUP, SIMPSUP: task attributes honoured (see TaskSet)
        d[6] = 0x01; // V_SUP: a volatile cache exists (SYNCHRONIZE CACHE and FUA matter)
        return d;
    }

    static byte[] thirdPartyCopy(LogicalUnit lu) {
        byte[] body = ThirdPartyCopy.vpdDescriptors(lu);
        byte[] d = header(PAGE_THIRD_PARTY_COPY, body.length);
        System.arraycopy(body, 0, d, 4, body.length);
        return d;
    }

    static byte[] blockLimits(LogicalUnit lu) {
        byte[] d = header(PAGE_BLOCK_LIMITS, 0x3C);
        d[5] = (byte) CompareAndWrite.MAX_BLOCKS;                      // MAXIMUM COMPARE AND WRITE LENGTH
        Bytes.putShort(d, 6, lu.optimalTransferGranularityBlocks());     // OPTIMAL TRANSFER LENGTH GRANULARITY
        Bytes.putInt(d, 8, lu.maxTransferBlocks());                     // MAXIMUM TRANSFER LENGTH
        LogicalBlockProvisioning.fillBlockLimits(d, lu);                 // UNMAP and WRITE SAME limits
        Bytes.putInt(d, 44, WriteAtomic.maxBlocks(lu));               // MAXIMUM ATOMIC TRANSFER LENGTH
        Bytes.putInt(d, 48, WriteAtomic.granularity(lu));             // ATOMIC ALIGNMENT
        Bytes.putInt(d, 52, WriteAtomic.granularity(lu));             // ATOMIC TRANSFER LENGTH GRANULARITY
        // ATOMIC BOUNDARY is not supported: both boundary limits stay 0.
        return d;
    }

    static byte[] blockDeviceCharacteristics() {
        byte[] d = header(PAGE_BLOCK_DEVICE_CHARACTERISTICS, 0x3C);
        Bytes.putShort(d, 4, 0x0001); // MEDIUM ROTATION RATE: non-rotating medium
        d[7] = 0x40;                  // WABEREQ=01b: reads after a BLOCK ERASE succeed; WACEREQ=00b (no CRYPTO ERASE)
        return d;
    }
}
