package io.tandem.scsi.spc;

import io.tandem.scsi.core.ModeParameters;
import io.tandem.scsi.core.ScsiException;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The mode pages this device server implements, as data: each page's layout is rendered from
 * {@link ModeParameters}, its changeable-bits mask is fixed, and MODE SELECT folds the changeable
 * bits back into a new {@link ModeParameters} (an {@code apply} function may refuse a reserved value
 * with a field pointer relative to the page). No page is savable (PS=0).
 */
public final class ModePages {

    /** One mode page (or subpage) definition. {@code length} counts the whole page including its header. */
    public record Page(int code, int subpage, int length, Function<ModeParameters, byte[]> render,
                       byte[] changeable, BiFunction<ModeParameters, byte[], ModeParameters> apply) {

        public boolean subpageFormat() {
            return subpage != 0;
        }

        public int headerLength() {
            return subpageFormat() ? 4 : 2;
        }

        byte[] current(ModeParameters p) {
            return render.apply(p);
        }

        byte[] changeableValues() {
            byte[] d = changeable.clone();
            writeHeader(d, this);
            return d;
        }
    }

    public static final int CACHING = 0x08;
    public static final int CONTROL = 0x0A;
    public static final int INFORMATIONAL_EXCEPTIONS_CONTROL = 0x1C;
    public static final int ALL_PAGES = 0x3F;
    public static final int ALL_SUBPAGES = 0xFF;

    private static final Page CACHING_PAGE = new Page(CACHING, 0, 20, p -> {
        byte[] d = blank(CACHING, 0, 20);
        d[2] = (byte) (p.writeCacheEnabled() ? 0x04 : 0x00); // WCE
        return d;
    }, mask(20, 2, 0x04), (p, d) -> p.withWriteCacheEnabled((d[2] & 0x04) != 0));

    /*
     * Control page (SPC-4 7.5.8). Changeable: D_SENSE, QERR, UA_INTLCK_CTRL, SWP, TAS. Fixed:
     * TST=000b (one task set shared by every I_T nexus), TMF_ONLY=0, QUEUE ALGORITHM MODIFIER=1
     * (unrestricted reordering of SIMPLE tasks), NUAR=0, RAC=0, ATO=0, AUTOLOAD MODE=0.
     */
    private static final int CONTROL_D_SENSE = 0x04;         // byte 2
    private static final int CONTROL_QERR = 0x06;            // byte 3, bits 2..1
    private static final int CONTROL_UA_INTLCK_CTRL = 0x30;  // byte 4, bits 5..4
    private static final int CONTROL_SWP = 0x08;             // byte 4
    private static final int CONTROL_TAS = 0x40;             // byte 5

    private static final Page CONTROL_PAGE = new Page(CONTROL, 0, 12, p -> {
        byte[] d = blank(CONTROL, 0, 12);
        d[2] = (byte) (p.descriptorSense() ? CONTROL_D_SENSE : 0);
        d[3] = (byte) (0x10 | p.queueErrorManagement() << 1);
        d[4] = (byte) (p.unitAttentionInterlock() << 4 | (p.softwareWriteProtect() ? CONTROL_SWP : 0));
        d[5] = (byte) (p.taskAbortedStatus() ? CONTROL_TAS : 0);
        return d;
    }, maskOf(12, new int[]{2, CONTROL_D_SENSE}, new int[]{3, CONTROL_QERR},
            new int[]{4, CONTROL_UA_INTLCK_CTRL | CONTROL_SWP}, new int[]{5, CONTROL_TAS}),
            ModePages::applyControl);

    /** Folds a Control page from MODE SELECT into {@code p}; reserved QERR / UA_INTLCK_CTRL values are refused. */
    private static ModeParameters applyControl(ModeParameters p, byte[] d) {
        int qerr = (d[3] & CONTROL_QERR) >>> 1;
        if (qerr == 0b10) {
            throw ScsiException.invalidParameterField(3, 2);
        }
        int interlock = (d[4] & CONTROL_UA_INTLCK_CTRL) >>> 4;
        if (interlock == 0b01) {
            throw ScsiException.invalidParameterField(4, 5);
        }
        return p.withControl((d[2] & CONTROL_D_SENSE) != 0, (d[4] & CONTROL_SWP) != 0, interlock,
                (d[5] & CONTROL_TAS) != 0, qerr);
    }

    private static final Page CONTROL_EXTENSION_PAGE = new Page(CONTROL, 0x01, 32,
            p -> blank(CONTROL, 0x01, 32), new byte[32], (p, d) -> p);

    private static final Page INFORMATIONAL_EXCEPTIONS_PAGE = new Page(INFORMATIONAL_EXCEPTIONS_CONTROL, 0, 12, p -> {
        byte[] d = blank(INFORMATIONAL_EXCEPTIONS_CONTROL, 0, 12);
        d[2] = 0x08; // DEXCPT: informational exception reporting disabled (there is nothing to report)
        return d;
    }, new byte[12], (p, d) -> p);

    /** Every page, in the order MODE SENSE returns them (ascending page code, then subpage). */
    public static final List<Page> ALL = List.of(CACHING_PAGE, CONTROL_PAGE, CONTROL_EXTENSION_PAGE,
            INFORMATIONAL_EXCEPTIONS_PAGE);

    private ModePages() {
    }

    public static Page find(int code, int subpage) {
        for (Page p : ALL) {
            if (p.code() == code && p.subpage() == subpage) {
                return p;
            }
        }
        return null;
    }

    private static byte[] blank(int code, int subpage, int length) {
        byte[] d = new byte[length];
        writeHeader(d, code, subpage, length);
        return d;
    }

    private static void writeHeader(byte[] d, Page p) {
        writeHeader(d, p.code(), p.subpage(), p.length());
    }

    private static void writeHeader(byte[] d, int code, int subpage, int length) {
        if (subpage != 0) {
            d[0] = (byte) (0x40 | code);
            d[1] = (byte) subpage;
            d[2] = (byte) ((length - 4) >>> 8);
            d[3] = (byte) (length - 4);
        } else {
            d[0] = (byte) code;
            d[1] = (byte) (length - 2);
        }
    }

    private static byte[] mask(int length, int at, int bits) {
        return maskOf(length, new int[]{at, bits});
    }

    private static byte[] maskOf(int length, int[]... bytes) {
        byte[] m = new byte[length];
        for (int[] b : bytes) {
            m[b[0]] = (byte) b[1];
        }
        return m;
    }
}
