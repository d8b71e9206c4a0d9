package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.PersistentReservation;
import io.tandem.scsi.Nexus;
import io.tandem.scsi.core.CommandDescriptor;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.LogicalUnit;
import io.tandem.scsi.core.ReservationPolicy;

/**
 * The precheck's reservation step for one LU, decided from the LU's cached cluster record and the
 * command's table flags only (SPC-4 5.13.1 and its table of commands allowed in the presence of
 * reservations; SPC-2 for RESERVE(6/10)):
 * <ul>
 *   <li>an SPC-2 reservation held by another nexus lets through only rows flagged
 *       {@link CommandFlag#ALLOWED_UNDER_SPC2_RESERVATION};</li>
 *   <li>a persistent reservation never stops its holder (for All Registrants types: any
 *       registrant), nor, for Registrants Only and All Registrants types, any registered nexus;</li>
 *   <li>everyone else runs only rows flagged {@link CommandFlag#PR_ALLOWED_UNDER_WRITE_EXCLUSIVE}
 *       (Write Exclusive family) or {@link CommandFlag#PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS}
 *       (Exclusive Access family).</li>
 * </ul>
 */
public final class ReservationGate implements ReservationPolicy {

    private final LogicalUnit lu;

    public ReservationGate(LogicalUnit lu) {
        this.lu = lu;
    }

    @Override
    public boolean conflicts(Nexus nexus, CommandDescriptor command) {
        LuState s = lu.state();
        if (s.spc2Holder() != null && !NexusIds.covers(s.spc2Holder(), nexus)
                && !command.has(CommandFlag.ALLOWED_UNDER_SPC2_RESERVATION)) {
            return true;
        }
        PersistentReservation res = s.reservation();
        if (res == null || NexusIds.isHolder(s, nexus)) {
            return false;
        }
        if (res.type().registrantsAccess() && NexusIds.registrationOf(s, nexus) != null) {
            return false;
        }
        return ReservationTypes.writeExclusive(res.type())
                ? !command.has(CommandFlag.PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                : !command.has(CommandFlag.PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS);
    }
}
