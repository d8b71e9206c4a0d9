package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.PersistentReservation;
import io.tandem.cluster.Registration;
import io.tandem.scsi.Nexus;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.core.Command;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ScsiException;
import java.util.concurrent.CompletableFuture;

/**
 * SPC-2 RESERVE(6)/(10) and RELEASE(6)/(10): one nexus reserves the whole LU. The holder lives in
 * the LU's cluster record like persistent reservations do; the precheck (via {@link ReservationGate})
 * refuses other nexuses' commands not flagged as allowed under an SPC-2 reservation. Third-party and
 * extent reservations are not supported (those CDB bits are outside the table's usage masks).
 *
 * <p>With persistent reservations in play, SPC-4 5.13.3 (reported as CRH=1) applies first: RESERVE
 * and RELEASE from a persistent reservation holder, or from a registrant while a Registrants Only or
 * All Registrants reservation exists, complete with GOOD and change nothing; from anyone else while
 * any registration exists they end in RESERVATION CONFLICT.
 *
 * <p>The reservation ends on RELEASE by its holder, on the holder's I_T nexus loss, on LOGICAL UNIT
 * RESET and on target resets.
 */
public final class Spc2Reservations {

    private Spc2Reservations() {
    }

    public static CompletableFuture<ScsiResponse> reserve(Command c) {
        Nexus nexus = c.nexus();
        NexusId holder = NexusIds.exact(nexus);
        return c.lu().changeState(s -> {
            if (persistentReservationsDecide(s, nexus)) {
                return s;
            }
            if (s.spc2Holder() != null && !s.spc2Holder().equals(holder)) {
                throw ScsiException.reservationConflict(); // (the precheck normally caught this already)
            }
            return s.withSpc2Holder(holder);
        }).thenApply(v -> ScsiResponse.good());
    }

    public static CompletableFuture<ScsiResponse> release(Command c) {
        Nexus nexus = c.nexus();
        return c.lu().changeState(s -> {
            if (persistentReservationsDecide(s, nexus)) {
                return s;
            }
            // Releasing what another nexus holds, or nothing, is GOOD and changes nothing (SPC-2 7.17).
            return s.spc2Holder() != null && NexusIds.covers(s.spc2Holder(), nexus) ? s.withSpc2Holder(null) : s;
        }).thenApply(v -> ScsiResponse.good());
    }

    /**
     * SPC-4 5.13.3: true when the command must complete with GOOD and no change; throws
     * RESERVATION CONFLICT when registrations forbid SPC-2 reservations; false when SPC-2 rules apply.
     */
    private static boolean persistentReservationsDecide(LuState s, Nexus nexus) {
        if (!s.hasRegistrations()) {
            return false;
        }
        Registration mine = NexusIds.registrationOf(s, nexus);
        PersistentReservation res = s.reservation();
        if (mine != null && res != null && (NexusIds.isHolder(s, nexus) || res.type().registrantsAccess())) {
            return true;
        }
        throw ScsiException.reservationConflict();
    }

    /** I_T nexus loss releases the SPC-2 reservation the nexus held. */
    public static CompletableFuture<LuState> releaseHeldBy(LogicalUnit lu, Nexus nexus) {
        if (lu.state().spc2Holder() == null) {
            return CompletableFuture.completedFuture(lu.state());
        }
        return lu.changeState(s -> s.spc2Holder() != null && NexusIds.covers(s.spc2Holder(), nexus) ? s.withSpc2Holder(null) : s);
    }

    /** LOGICAL UNIT RESET and target resets release any SPC-2 reservation. */
    public static CompletableFuture<LuState> releaseAll(LogicalUnit lu) {
        if (lu.state().spc2Holder() == null) {
            return CompletableFuture.completedFuture(lu.state());
        }
        return lu.changeState(s -> s.withSpc2Holder(null));
    }
}
