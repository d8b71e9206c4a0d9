package io.tandem.cluster;

/**
 * The persistent reservation types. The cluster stores them by name; the SCSI layer maps them to
 * and from the TYPE codes of the CDB.
 */
public enum ReservationType {
    WRITE_EXCLUSIVE(false, false),
    EXCLUSIVE_ACCESS(false, false),
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY(true, false),
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(true, false),
    WRITE_EXCLUSIVE_ALL_REGISTRANTS(true, true),
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS(true, true);

    private final boolean registrantsAccess;
    private final boolean allRegistrants;

    ReservationType(boolean registrantsAccess, boolean allRegistrants) {
        this.registrantsAccess = registrantsAccess;
        this.allRegistrants = allRegistrants;
    }

    /** Registrants Only and All Registrants types: every registered nexus has access. */
    public boolean registrantsAccess() {
        return registrantsAccess;
    }

    /** All Registrants types: every registered nexus is a reservation holder. */
    public boolean allRegistrants() {
        return allRegistrants;
    }
}
