package io.tandem.scsi.core;

import io.tandem.scsi.Nexus;

/**
 * The precheck's reservation step: decides whether a command from a nexus conflicts with the
 * reservations held on the logical unit. Implementations read the command's
 * {@link CommandFlag#PR_ALLOWED_UNDER_WRITE_EXCLUSIVE}, {@link CommandFlag#PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS}
 * and {@link CommandFlag#ALLOWED_UNDER_SPC2_RESERVATION} flags, never opcodes. Persistent and SPC-2
 * reservations (issue 3) install their policy on the LU; until then nothing conflicts.
 */
@FunctionalInterface
public interface ReservationPolicy {

    boolean conflicts(Nexus nexus, CommandDescriptor command);

    ReservationPolicy NONE = (nexus, command) -> false;
}
