package io.tandem.scsi.pr;

import io.tandem.cluster.LuState;
import io.tandem.cluster.NexusId;
import io.tandem.cluster.Notice;
import io.tandem.cluster.PersistentReservation;
import io.tandem.cluster.Registration;
import io.tandem.cluster.Transition;
import io.tandem.scsi.core.ScsiException;
import io.tandem.scsi.core.SenseReason;
import java.util.ArrayList;
import java.util.List;

/**
 * The PERSISTENT RESERVE OUT service actions as pure functions from one LU record to the next
 * (SPC-4 5.13.5 to 5.13.11). They run inside the coordinator's compare-and-set loop, so they only
 * compute: a refusal is thrown as {@link ScsiException} (RESERVATION CONFLICT or a sense reason),
 * and what other nexuses must be told or lose is returned as {@link Notice}s on the new version's
 * {@link Transition}, which every node carries out when it applies the version.
 *
 * <p>PRGENERATION counts every successful REGISTER, REGISTER AND IGNORE EXISTING KEY, CLEAR,
 * PREEMPT, PREEMPT AND ABORT and REGISTER AND MOVE; RESERVE and RELEASE leave it alone.
 */
final class PrTransitions {

    /** Bounds what one LU's record (and every node's memory) holds. */
    static final int MAX_REGISTRATIONS = 1024;

    /** Parameter list offsets, for field pointers. */
    private static final int SA_KEY_OFFSET = 8;
    private static final int FLAGS_OFFSET = 20;
    private static final int TRANSPORT_IDS_OFFSET = 28;

    private PrTransitions() {
    }

    // ---------------------------------------------------------------- REGISTER / REGISTER AND IGNORE EXISTING KEY

    static LuState register(LuState s, PrOutRequest r, boolean ignoreExistingKey) {
        Registration mine = NexusIds.registrationOf(s, r.issuer());
        if (mine == null) {
            if (!ignoreExistingKey && r.key() != 0) {
                throw ScsiException.reservationConflict();
            }
            if (r.serviceActionKey() == 0) {
                return s; // unregistering an unregistered nexus: nothing to do
            }
            NexusId own = NexusIds.registering(r.issuer(), r.allTargetPorts());
            List<Registration> added = new ArrayList<>();
            added.add(new Registration(own, r.serviceActionKey()));
            if (r.specifyInitiatorPorts()) {
                int relative = r.allTargetPorts() ? NexusId.ALL_TARGET_PORTS : r.issuer().targetPort().relativeTargetPortId();
                for (String port : r.transportIds()) {
                    NexusId id = new NexusId(port, relative);
                    if (id.equals(own)) {
                        continue; // naming oneself again changes nothing
                    }
                    for (Registration existing : concat(s.registrations(), added)) {
                        if (NexusIds.overlap(existing.nexus(), id)) {
                            throw ScsiException.invalidParameterField(TRANSPORT_IDS_OFFSET, 7);
                        }
                    }
                    added.add(new Registration(id, r.serviceActionKey()));
                }
            }
            if (s.registrations().size() + added.size() > MAX_REGISTRATIONS) {
                throw ScsiException.of(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES);
            }
            LuState next = s;
            for (Registration a : added) {
                next = next.withRegistration(a);
            }
            return next.withAptpl(r.aptpl()).nextPrGeneration();
        }
        if (r.specifyInitiatorPorts()) {
            throw ScsiException.invalidParameterField(FLAGS_OFFSET, 3);
        }
        if (!ignoreExistingKey && r.key() != mine.key()) {
            throw ScsiException.reservationConflict();
        }
        LuState next = r.serviceActionKey() == 0
                ? unregister(s, mine, r)
                : s.withRegistration(mine.withKey(r.serviceActionKey()));
        return next.withAptpl(r.aptpl()).nextPrGeneration();
    }

    /**
     * Removes a registration. A holder leaving releases a Write Exclusive / Exclusive Access /
     * Registrants Only reservation (the last one tells the remaining registrants RESERVATIONS
     * RELEASED); an All Registrants reservation lasts while any registrant is left.
     */
    private static LuState unregister(LuState s, Registration leaving, PrOutRequest r) {
        LuState next = s.withoutRegistration(leaving.nexus());
        PersistentReservation res = s.reservation();
        if (res == null) {
            return next;
        }
        if (res.type().allRegistrants()) {
            if (!next.hasRegistrations()) {
                return next.withReservation(null);
            }
            if (res.holder().equals(leaving.nexus())) {
                // keep the holder pointing at a live registration; every registrant holds it anyway
                return next.withReservation(new PersistentReservation(next.registrations().getFirst().nexus(), res.type()));
            }
            return next;
        }
        if (!res.holder().equals(leaving.nexus())) {
            return next;
        }
        next = next.withReservation(null);
        if (res.type().registrantsAccess()) {
            next = next.withTransition(transition(r, Notice.of(Notice.Kind.RESERVATIONS_RELEASED, ids(next.registrations()))));
        }
        return next;
    }

    // ---------------------------------------------------------------- RESERVE / RELEASE

    static LuState reserve(LuState s, PrOutRequest r) {
        registeredWithKey(s, r);
        PersistentReservation res = s.reservation();
        if (res != null) {
            if (NexusIds.isHolder(s, r.issuer()) && res.type() == r.type()) {
                return s; // the holder reserving again with the same type: nothing changes
            }
            throw ScsiException.reservationConflict();
        }
        Registration mine = NexusIds.registrationOf(s, r.issuer());
        return s.withReservation(new PersistentReservation(mine.nexus(), r.type()));
    }

    static LuState release(LuState s, PrOutRequest r) {
        Registration mine = registeredWithKey(s, r);
        PersistentReservation res = s.reservation();
        if (res == null || !NexusIds.isHolder(s, r.issuer())) {
            return s; // nothing this nexus holds: GOOD, no change
        }
        if (res.type() != r.type()) {
            throw ScsiException.of(SenseReason.INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
        }
        LuState next = s.withReservation(null);
        if (res.type().registrantsAccess()) {
            next = next.withTransition(transition(r, Notice.of(Notice.Kind.RESERVATIONS_RELEASED,
                    idsExcept(s.registrations(), mine))));
        }
        return next;
    }

    // ---------------------------------------------------------------- CLEAR

    static LuState clear(LuState s, PrOutRequest r) {
        Registration mine = registeredWithKey(s, r);
        List<NexusId> told = idsExcept(s.registrations(), mine);
        return s.withRegistrations(List.of()).withReservation(null).nextPrGeneration()
                .withTransition(transition(r, Notice.of(Notice.Kind.RESERVATIONS_PREEMPTED, told)));
    }

    // ---------------------------------------------------------------- PREEMPT / PREEMPT AND ABORT

    static LuState preempt(LuState s, PrOutRequest r, boolean abort) {
        Registration mine = registeredWithKey(s, r);
        PersistentReservation res = s.reservation();
        long victimKey = r.serviceActionKey();
        List<Registration> removed;
        PersistentReservation nextReservation = res;
        List<Notice> notices = new ArrayList<>();

        if (res == null) {
            requireNonZero(victimKey);
            removed = withKey(s, victimKey, mine);
            if (removed.isEmpty()) {
                throw ScsiException.reservationConflict();
            }
        } else if (res.type().allRegistrants()) {
            if (victimKey == 0) {
                removed = others(s, mine); // every other registrant loses registration and reservation
                nextReservation = new PersistentReservation(mine.nexus(), r.type());
            } else {
                removed = withKey(s, victimKey, mine);
                if (removed.isEmpty()) {
                    throw ScsiException.reservationConflict();
                }
            }
        } else {
            Registration holder = s.registration(res.holder());
            if (holder != null && victimKey == holder.key()) {
                // Preempting the holder: its reservation passes to the preempting nexus with the new type.
                removed = withKey(s, victimKey, mine);
                nextReservation = new PersistentReservation(mine.nexus(), r.type());
            } else {
                requireNonZero(victimKey);
                removed = withKey(s, victimKey, mine);
                if (removed.isEmpty()) {
                    throw ScsiException.reservationConflict();
                }
            }
        }

        LuState next = s;
        for (Registration gone : removed) {
            next = next.withoutRegistration(gone.nexus());
        }
        if (nextReservation != null && next.registration(nextReservation.holder()) == null) {
            // an All Registrants reservation whose recorded holder was preempted: re-anchor it
            nextReservation = next.hasRegistrations()
                    ? new PersistentReservation(next.registrations().getFirst().nexus(), nextReservation.type())
                    : null;
        }
        next = next.withReservation(nextReservation);

        List<NexusId> preempted = ids(removed);
        if (abort && !preempted.isEmpty()) {
            notices.add(Notice.of(Notice.Kind.ABORT_TASKS, preempted));
        }
        if (!preempted.isEmpty()) {
            notices.add(Notice.of(Notice.Kind.REGISTRATIONS_PREEMPTED, preempted));
        }
        if (res != null && nextReservation != null && res.type() != nextReservation.type()) {
            // the reservation changed type under the remaining registrants
            notices.add(Notice.of(Notice.Kind.RESERVATIONS_RELEASED, idsExcept(next.registrations(), mine)));
        }
        return next.nextPrGeneration().withTransition(Transition.by(r.issuerId(), r.tag(), notices));
    }

    // ---------------------------------------------------------------- REGISTER AND MOVE

    static LuState registerAndMove(LuState s, PrOutRequest r) {
        Registration mine = registeredWithKey(s, r);
        PersistentReservation res = s.reservation();
        if (res == null || res.type().allRegistrants() || !NexusIds.isHolder(s, r.issuer())) {
            throw ScsiException.reservationConflict();
        }
        if (r.serviceActionKey() == 0) {
            throw ScsiException.invalidParameterField(SA_KEY_OFFSET, 7);
        }
        if (r.moveToTargetPort() == 0) {
            throw ScsiException.invalidParameterField(18, 7);
        }
        NexusId destination = new NexusId(r.transportIds().getFirst(), r.moveToTargetPort());
        if (NexusIds.overlap(destination, mine.nexus())) {
            throw ScsiException.invalidParameterField(24, 7); // moving to itself
        }
        Registration existing = null;
        for (Registration x : s.registrations()) {
            if (NexusIds.overlap(x.nexus(), destination)) {
                existing = x;
                break;
            }
        }
        if (existing == null && s.registrations().size() >= MAX_REGISTRATIONS) {
            throw ScsiException.of(SenseReason.INSUFFICIENT_REGISTRATION_RESOURCES);
        }
        Registration moved = existing != null ? existing.withKey(r.serviceActionKey())
                : new Registration(destination, r.serviceActionKey());
        LuState next = s.withRegistration(moved).withReservation(new PersistentReservation(moved.nexus(), res.type()));
        if (r.unregister()) {
            next = next.withoutRegistration(mine.nexus());
        }
        return next.withAptpl(r.aptpl()).nextPrGeneration();
    }

    // ---------------------------------------------------------------- helpers

    /** The issuer's registration; RESERVATION CONFLICT if it has none or the RESERVATION KEY is not its key. */
    private static Registration registeredWithKey(LuState s, PrOutRequest r) {
        Registration mine = NexusIds.registrationOf(s, r.issuer());
        if (mine == null || mine.key() != r.key()) {
            throw ScsiException.reservationConflict();
        }
        return mine;
    }

    private static void requireNonZero(long serviceActionKey) {
        if (serviceActionKey == 0) {
            throw ScsiException.invalidParameterField(SA_KEY_OFFSET, 7);
        }
    }

    /** Registrations with this key, the issuer's own excepted. */
    private static List<Registration> withKey(LuState s, long key, Registration mine) {
        List<Registration> out = new ArrayList<>();
        for (Registration x : s.registrations()) {
            if (x.key() == key && !x.nexus().equals(mine.nexus())) {
                out.add(x);
            }
        }
        return out;
    }

    private static List<Registration> others(LuState s, Registration mine) {
        List<Registration> out = new ArrayList<>(s.registrations());
        out.removeIf(x -> x.nexus().equals(mine.nexus()));
        return out;
    }

    private static List<NexusId> ids(List<Registration> registrations) {
        return registrations.stream().map(Registration::nexus).toList();
    }

    private static List<NexusId> idsExcept(List<Registration> registrations, Registration except) {
        return registrations.stream().map(Registration::nexus).filter(n -> !n.equals(except.nexus())).toList();
    }

    private static Transition transition(PrOutRequest r, Notice notice) {
        return Transition.by(r.issuerId(), r.tag(), notice.nexuses().isEmpty() ? List.of() : List.of(notice));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
