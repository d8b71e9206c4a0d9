package io.tandem.scsi.pr;

import io.tandem.cluster.ReservationType;

/** The TYPE codes of PERSISTENT RESERVE OUT/IN (SPC-4 table "Persistent reservation type codes"). */
public final class ReservationTypes {

    private ReservationTypes() {
    }

    /** The type a code names, or null for an obsolete or reserved code. */
    public static ReservationType of(int code) {
        return switch (code) {
            case 0x1 -> ReservationType.WRITE_EXCLUSIVE;
            case 0x3 -> ReservationType.EXCLUSIVE_ACCESS;
            case 0x5 -> ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY;
            case 0x6 -> ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY;
            case 0x7 -> ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS;
            case 0x8 -> ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS;
            default -> null;
        };
    }

    public static int code(ReservationType type) {
        return switch (type) {
            case WRITE_EXCLUSIVE -> 0x1;
            case EXCLUSIVE_ACCESS -> 0x3;
            case WRITE_EXCLUSIVE_REGISTRANTS_ONLY -> 0x5;
            case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY -> 0x6;
            case WRITE_EXCLUSIVE_ALL_REGISTRANTS -> 0x7;
            case EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> 0x8;
        };
    }

    /** Write Exclusive family: non-holders may still read (commands flagged PR_ALLOWED_UNDER_WRITE_EXCLUSIVE). */
    public static boolean writeExclusive(ReservationType type) {
        return switch (type) {
            case WRITE_EXCLUSIVE, WRITE_EXCLUSIVE_REGISTRANTS_ONLY, WRITE_EXCLUSIVE_ALL_REGISTRANTS -> true;
            default -> false;
        };
    }

    /** PERSISTENT RESERVATION TYPE MASK of REPORT CAPABILITIES: every type is supported. */
    public static final int TYPE_MASK = 0xEA01; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX | EX_AC_AR
}
