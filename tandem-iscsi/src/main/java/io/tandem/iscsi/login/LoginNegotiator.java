package io.tandem.iscsi.login;

import static io.tandem.iscsi.login.LoginKeys.AUTH_METHOD;
import static io.tandem.iscsi.login.LoginKeys.FIRST_BURST_LENGTH;
import static io.tandem.iscsi.login.LoginKeys.INITIATOR_ALIAS;
import static io.tandem.iscsi.login.LoginKeys.INITIATOR_NAME;
import static io.tandem.iscsi.login.LoginKeys.MAX_BURST_LENGTH;
import static io.tandem.iscsi.login.LoginKeys.MAX_RECV_DATA_SEGMENT_LENGTH;
import static io.tandem.iscsi.login.LoginKeys.SESSION_TYPE;
import static io.tandem.iscsi.login.LoginKeys.TARGET_ALIAS;
import static io.tandem.iscsi.login.LoginKeys.TARGET_NAME;
import static io.tandem.iscsi.login.LoginKeys.TARGET_PORTAL_GROUP_TAG;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The login phase of one connection (RFC 7143 sections 6 and 11.12-11.13), target side. Feed it
 * every Login Request in order; each call returns the Login Response to send.
 *
 * <p>Stages: security (CSG 0: AuthMethod, CHAP), operational (CSG 1: the keys of
 * {@link LoginKeys}), full feature (NSG 3 ends the login). The target sets T only when it agrees
 * to move: never out of the security stage before a required CHAP exchange succeeded, never
 * while its own offers are unanswered. Any failure ends the login: the response carries the
 * status and the connection must be closed; further calls throw.
 *
 * <p>Compatible with what real initiators send: libiscsi puts every key in one PDU with T=1
 * NSG=3 when it has no CHAP user, offers "AuthMethod=CHAP,None" with T=1 and a single CHAP_A
 * value otherwise, and re-sends InitiatorName, TargetName and SessionType after the security
 * stage when the target picked AuthMethod=None (identical re-declarations are therefore
 * accepted); open-iscsi always starts in the security stage and may go straight from it to full
 * feature phase in discovery sessions.
 *
 * <p>Not thread-safe: one instance per connection, driven by that connection's reader.
 */
public final class LoginNegotiator {
    public static final int STAGE_SECURITY = 0;
    public static final int STAGE_OPERATIONAL = 1;
    public static final int STAGE_FULL_FEATURE = 3;

    private static final int DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;
    private static final String CHAP = "CHAP";
    private static final String NONE = "None";
    private static final SecureRandom SHARED_RANDOM = new SecureRandom();

    private enum State { ACTIVE, COMPLETE, FAILED }

    private final LoginConfig config;
    private final TargetPreferences preferences;
    private final SecureRandom random;
    private final TextAccumulator accumulator = new TextAccumulator();

    private State state = State.ACTIVE;
    private int stage = -1;
    private boolean headerSeen;
    private long isid;
    private int tsih;
    private int versionMax;
    private int versionMin;

    /** The first complete request has been read (names, session type, target known). */
    private boolean started;
    private final Map<String, String> declarations = new HashMap<>();
    private SessionType sessionType;
    private String initiatorName;
    private String initiatorAlias;
    private TargetInfo target;
    private boolean targetDeclared;

    private ChapCredentials requiredChap;
    private ChapCredentials mutualChap;
    private String authMethod;
    private ChapAuthenticator chap;

    /** Operational results so far (keys absent here keep their RFC default). */
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> negotiatedKeys = new HashSet<>();
    private final Map<String, String> pendingOffers = new LinkedHashMap<>();
    private boolean offersMade;
    private boolean targetMaxRecvDeclared;

    private NegotiatedParameters result;

    public LoginNegotiator(LoginConfig config) {
        this(config, SHARED_RANDOM);
    }

    /** With a chosen source of CHAP challenges and identifiers. */
    public LoginNegotiator(LoginConfig config, SecureRandom random) {
        this.config = Objects.requireNonNull(config, "config");
        this.preferences = config.preferences();
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Processes one Login Request.
     *
     * @param csg the request's CSG
     * @param nsg the request's NSG (ignored unless transit)
     * @param transit the T bit
     * @param cont the C bit: the text continues in the next request
     * @param versionMax Version-max of the request
     * @param versionMin Version-min of the request
     * @param isid the 48-bit ISID
     * @param tsih the TSIH (0 for a new session)
     * @param dataSegment the request's data segment without padding
     * @return the response to send
     * @throws IllegalStateException if the login already completed or failed
     */
    public LoginStep onLoginRequest(int csg, int nsg, boolean transit, boolean cont, int versionMax,
                                    int versionMin, long isid, int tsih, byte[] dataSegment) {
        if (state != State.ACTIVE) {
            throw new IllegalStateException("login already " + (state == State.COMPLETE ? "complete" : "failed"));
        }
        try {
            return step(csg, nsg, transit, cont, versionMax, versionMin, isid, tsih,
                    dataSegment == null ? new byte[0] : dataSegment);
        } catch (LoginException e) {
            state = State.FAILED;
            accumulator.reset();
            LoginStatus s = e.status();
            return new LoginStep(s.statusClass(), s.statusDetail(), false, csg & 3, 0, new byte[0], false, null,
                    e.getMessage());
        }
    }

    /** The negotiated parameters once the login completed, else null. */
    public NegotiatedParameters result() {
        return result;
    }

    public boolean isComplete() {
        return state == State.COMPLETE;
    }

    public boolean isFailed() {
        return state == State.FAILED;
    }

    private LoginStep step(int csg, int nsg, boolean transit, boolean cont, int vMax, int vMin, long isid,
                           int tsih, byte[] data) throws LoginException {
        checkHeader(csg, nsg, transit, cont, vMax, vMin, isid, tsih);

        byte[] text;
        TextParameters request;
        try {
            text = accumulator.append(data, cont);
            if (text == null) {
                // RFC 7143 section 11.13.3: each partial request gets an empty response.
                return new LoginStep(0, 0, false, stage, 0, new byte[0], false, null, null);
            }
            request = TextParameters.decode(text);
        } catch (TextFormatException e) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, e.getMessage());
        }

        TextParameters.Builder reply = TextParameters.builder();
        if (!started) {
            start(request);
        } else {
            checkRedeclarations(request);
        }

        boolean mayTransit;
        if (stage == STAGE_SECURITY) {
            mayTransit = securityStage(request, reply, transit);
        } else {
            mayTransit = operationalStage(request, reply, transit);
        }

        if (!targetDeclared && sessionType == SessionType.NORMAL) {
            // RFC 7143 section 13.9: the first Login Response of a normal session carries the tag.
            reply.add(TARGET_PORTAL_GROUP_TAG, Integer.toString(target.portalGroupTag()));
            if (target.alias() != null) {
                reply.add(TARGET_ALIAS, target.alias());
            }
            targetDeclared = true;
        }

        if (!(transit && mayTransit)) {
            return new LoginStep(0, 0, false, stage, 0, reply.build().encode(), false, null, null);
        }
        int current = stage;
        stage = nsg;
        if (nsg != STAGE_FULL_FEATURE) {
            return new LoginStep(0, 0, true, current, nsg, reply.build().encode(), false, null, null);
        }
        result = buildResult();
        state = State.COMPLETE;
        return new LoginStep(0, 0, true, current, nsg, reply.build().encode(), true, result, null);
    }

    private void checkHeader(int csg, int nsg, boolean transit, boolean cont, int vMax, int vMin, long isid,
                             int tsih) throws LoginException {
        if (csg != STAGE_SECURITY && csg != STAGE_OPERATIONAL) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "CSG " + csg + " is not a login stage");
        }
        if (transit && cont) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "T and C bits both set");
        }
        if (transit && ((nsg != STAGE_OPERATIONAL && nsg != STAGE_FULL_FEATURE) || nsg <= csg)) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "cannot move from stage " + csg + " to " + nsg);
        }
        if (!headerSeen) {
            if (vMin != 0 || vMax < vMin) {
                // This target speaks version 0 (RFC 7143) only.
                throw new LoginException(LoginStatus.UNSUPPORTED_VERSION,
                        "versions " + vMin + ".." + vMax + " exclude 0");
            }
            if (tsih != 0) {
                // One connection per session: a login naming an existing session would add a
                // second connection to it.
                throw config.existingSession().test(tsih)
                        ? new LoginException(LoginStatus.TOO_MANY_CONNECTIONS, "session " + tsih + " allows one connection")
                        : new LoginException(LoginStatus.SESSION_DOES_NOT_EXIST, "no session with TSIH " + tsih);
            }
            headerSeen = true;
            this.isid = isid;
            this.tsih = tsih;
            this.versionMax = vMax;
            this.versionMin = vMin;
            stage = csg;
            return;
        }
        if (isid != this.isid || tsih != this.tsih || vMax != versionMax || vMin != versionMin) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "ISID, TSIH or versions changed during login");
        }
        if (csg != stage) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "CSG " + csg + " but the login is in stage " + stage);
        }
    }

    /** Reads the declarations of the first request: who logs in, to what, for which kind of session. */
    private void start(TextParameters request) throws LoginException {
        initiatorName = request.get(INITIATOR_NAME);
        if (initiatorName == null || initiatorName.isEmpty()) {
            throw new LoginException(LoginStatus.MISSING_PARAMETER, "InitiatorName missing from the first request");
        }
        String type = request.get(SESSION_TYPE);
        sessionType = type == null ? SessionType.NORMAL : SessionType.fromKeyValue(type);
        if (sessionType == null) {
            throw new LoginException(LoginStatus.SESSION_TYPE_NOT_SUPPORTED, "SessionType=" + type);
        }
        initiatorAlias = request.get(INITIATOR_ALIAS);
        declarations.put(INITIATOR_NAME, initiatorName);
        declarations.put(SESSION_TYPE, sessionType.keyValue());
        if (initiatorAlias != null) {
            declarations.put(INITIATOR_ALIAS, initiatorAlias);
        }

        if (sessionType == SessionType.DISCOVERY) {
            if (!config.discoveryEnabled()) {
                throw new LoginException(LoginStatus.SESSION_TYPE_NOT_SUPPORTED, "discovery sessions are disabled");
            }
            // A TargetName in a discovery login means nothing; it is neither looked up nor checked.
            requiredChap = config.discoveryChap();
            mutualChap = config.discoveryMutualChap();
        } else {
            String targetName = request.get(TARGET_NAME);
            if (targetName == null || targetName.isEmpty()) {
                throw new LoginException(LoginStatus.MISSING_PARAMETER, "TargetName missing from a normal session login");
            }
            target = config.targetLookup().apply(targetName);
            if (target == null) {
                throw new LoginException(LoginStatus.NOT_FOUND, "no target " + targetName);
            }
            declarations.put(TARGET_NAME, targetName);
            if (!target.admits(initiatorName)) {
                throw new LoginException(LoginStatus.AUTHORIZATION_FAILURE,
                        initiatorName + " may not log in to " + target.name());
            }
            try {
                config.checkCredentials(target);
            } catch (IllegalArgumentException e) {
                throw new LoginException(LoginStatus.TARGET_ERROR, e.getMessage());
            }
            requiredChap = target.chap();
            mutualChap = target.mutualChap();
        }
        if (stage == STAGE_OPERATIONAL && requiredChap != null) {
            throw new LoginException(LoginStatus.AUTHENTICATION_FAILURE,
                    "login skipped the security stage but authentication is required");
        }
        started = true;
    }

    /**
     * Later requests may repeat a declaration of the first one only with the same value (libiscsi
     * repeats them after AuthMethod=None); any other change is an initiator error (RFC 7143
     * section 6.2: no key is declared twice).
     */
    private void checkRedeclarations(TextParameters request) throws LoginException {
        for (String key : new String[] {INITIATOR_NAME, SESSION_TYPE, TARGET_NAME, INITIATOR_ALIAS}) {
            String value = request.get(key);
            if (value == null) {
                continue;
            }
            String earlier = declarations.get(key);
            if (earlier == null) {
                if (key.equals(INITIATOR_ALIAS)) {
                    declarations.put(key, value);
                    initiatorAlias = value;
                    continue;
                }
                if (key.equals(TARGET_NAME) && sessionType == SessionType.DISCOVERY) {
                    continue;
                }
                throw new LoginException(LoginStatus.INITIATOR_ERROR, key + " must be in the first login request");
            }
            if (!earlier.equals(value)) {
                throw new LoginException(LoginStatus.INITIATOR_ERROR, key + " changed during login");
            }
        }
    }

    private static boolean isDeclarationOfStart(String key) {
        return key.equals(INITIATOR_NAME) || key.equals(SESSION_TYPE) || key.equals(TARGET_NAME)
                || key.equals(INITIATOR_ALIAS);
    }

    /** @return whether the target lets the initiator leave the security stage now */
    private boolean securityStage(TextParameters request, TextParameters.Builder reply, boolean transit)
            throws LoginException {
        boolean chapKeys = false;
        for (TextParameters.KeyValue kv : request.entries()) {
            String key = kv.key();
            if (isDeclarationOfStart(key)) {
                continue;
            }
            KeyDefinition def = LoginKeys.lookup(key);
            if (def == null) {
                reply.add(key, TextValues.NOT_UNDERSTOOD);
                continue;
            }
            checkSender(def);
            switch (def.use()) {
                case SECURITY -> chapKeys |= ChapAuthenticator.isChapKey(key);
                case ANY -> negotiate(def, kv.value(), reply);
                case FULL_FEATURE -> reply.add(key, TextValues.REJECT);
                case OPERATIONAL, LOGIN_START -> throw new LoginException(LoginStatus.INITIATOR_ERROR,
                        key + " is not allowed in the security stage");
            }
        }

        String offeredMethods = request.get(AUTH_METHOD);
        if (offeredMethods != null) {
            chooseAuthMethod(offeredMethods, reply);
        }
        if (chapKeys || chap != null) {
            if (chap == null) {
                throw new LoginException(requiredChap != null ? LoginStatus.AUTHENTICATION_FAILURE
                        : LoginStatus.INITIATOR_ERROR, "CHAP keys without AuthMethod=CHAP");
            }
            chap.process(request, reply);
        }

        if (requiredChap == null || (chap != null && chap.succeeded())) {
            return true;
        }
        if (transit && chap == null) {
            throw new LoginException(LoginStatus.AUTHENTICATION_FAILURE,
                    "initiator tried to leave the security stage without authenticating");
        }
        return false;
    }

    private void chooseAuthMethod(String offered, TextParameters.Builder reply) throws LoginException {
        if (authMethod != null) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, "AuthMethod negotiated twice");
        }
        // The target offers exactly one method: CHAP when credentials are configured, else None.
        String ours = requiredChap != null ? CHAP : NONE;
        if (!NegotiationType.split(offered).contains(ours)) {
            if (requiredChap != null) {
                throw new LoginException(LoginStatus.AUTHENTICATION_FAILURE,
                        "authentication required but AuthMethod=" + offered);
            }
            authMethod = TextValues.REJECT;
            reply.add(AUTH_METHOD, TextValues.REJECT);
            return;
        }
        authMethod = ours;
        reply.add(AUTH_METHOD, ours);
        if (ours.equals(CHAP)) {
            chap = new ChapAuthenticator(requiredChap, mutualChap, preferences.chapAlgorithms(), random);
        }
    }

    /** @return whether the target lets the initiator leave the operational stage now */
    private boolean operationalStage(TextParameters request, TextParameters.Builder reply, boolean transit)
            throws LoginException {
        for (TextParameters.KeyValue kv : request.entries()) {
            String key = kv.key();
            if (isDeclarationOfStart(key)) {
                continue;
            }
            KeyDefinition def = LoginKeys.lookup(key);
            if (def == null) {
                reply.add(key, TextValues.NOT_UNDERSTOOD);
                continue;
            }
            checkSender(def);
            switch (def.use()) {
                case SECURITY -> throw new LoginException(LoginStatus.INITIATOR_ERROR,
                        key + " is not allowed in the operational stage");
                case FULL_FEATURE -> reply.add(key, TextValues.REJECT);
                case OPERATIONAL, ANY, LOGIN_START -> negotiate(def, kv.value(), reply);
            }
        }
        capFirstBurst(reply);

        if (!targetMaxRecvDeclared) {
            reply.add(MAX_RECV_DATA_SEGMENT_LENGTH, Integer.toString(preferences.maxRecvDataSegmentLength()));
            targetMaxRecvDeclared = true;
        }

        if (!transit) {
            return false;
        }
        // Offers wait until the initiator has said all it wants to (it asks to transit), so an
        // offer never crosses one of its own.
        if (!offersMade) {
            offersMade = true;
            if (makeOffers(reply)) {
                return false;
            }
        }
        // An initiator that ignores an offer leaves that key at its default.
        pendingOffers.clear();
        return true;
    }

    private void checkSender(KeyDefinition def) throws LoginException {
        if (!def.sender().initiatorMay()) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, def.name() + " may only be sent by a target");
        }
    }

    /** Applies the table row of one offered key. */
    private void negotiate(KeyDefinition def, String value, TextParameters.Builder reply) throws LoginException {
        String key = def.name();
        String offered = pendingOffers.remove(key);
        if (offered != null) {
            acceptAnswer(def, offered, value);
            return;
        }
        if (!negotiatedKeys.add(key)) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, key + " negotiated twice");
        }
        if (sessionType == SessionType.DISCOVERY && def.irrelevantInDiscovery()) {
            reply.add(key, TextValues.IRRELEVANT);
            return;
        }
        String settled = def.type().respond(def, value, def.targetValueFor(preferences));
        if (!def.type().answered()) {
            if (settled == null) {
                throw new LoginException(LoginStatus.INITIATOR_ERROR, "invalid " + key + "=" + value);
            }
            values.put(key, settled);
            return;
        }
        if (settled == null) {
            reply.add(key, TextValues.REJECT);
            return;
        }
        values.put(key, settled);
        reply.add(key, settled);
    }

    private void acceptAnswer(KeyDefinition def, String offered, String answer) throws LoginException {
        negotiatedKeys.add(def.name());
        if (answer.equals(TextValues.REJECT) || answer.equals(TextValues.NOT_UNDERSTOOD)
                || answer.equals(TextValues.IRRELEVANT)) {
            return;
        }
        if (!def.type().acceptsAnswer(def, offered, answer)) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR,
                    "answer " + def.name() + "=" + answer + " does not fit the offer " + offered);
        }
        values.put(def.name(), def.isNumeric() ? Long.toString(TextValues.parseNumber(answer)) : answer);
    }

    /** RFC 7143 section 13.14: FirstBurstLength must not exceed MaxBurstLength. */
    private void capFirstBurst(TextParameters.Builder reply) {
        String first = values.get(FIRST_BURST_LENGTH);
        if (first == null) {
            return;
        }
        long maxBurst = longValue(MAX_BURST_LENGTH);
        if (Long.parseLong(first) > maxBurst) {
            values.put(FIRST_BURST_LENGTH, Long.toString(maxBurst));
            if (reply.contains(FIRST_BURST_LENGTH)) {
                reply.add(FIRST_BURST_LENGTH, Long.toString(maxBurst));
            }
        }
    }

    /** Offers the keys whose default would override the target's preference. */
    private boolean makeOffers(TextParameters.Builder reply) {
        for (KeyDefinition def : LoginKeys.all()) {
            if (def.handledByLogin() || !def.type().answered() || negotiatedKeys.contains(def.name())
                    || (sessionType == SessionType.DISCOVERY && def.irrelevantInDiscovery())
                    || !def.offerWhenAbsent().test(preferences)) {
                continue;
            }
            String value = def.targetValueFor(preferences);
            if (def.type() == NegotiationType.LIST && value.contains(",")) {
                continue;
            }
            reply.add(def.name(), value);
            pendingOffers.put(def.name(), value);
        }
        return !pendingOffers.isEmpty();
    }

    private long longValue(String key) {
        String v = values.get(key);
        return TextValues.parseNumber(v != null ? v : LoginKeys.lookup(key).rfcDefault());
    }

    private boolean booleanValue(String key) {
        String v = values.get(key);
        return TextValues.YES.equals(v != null ? v : LoginKeys.lookup(key).rfcDefault());
    }

    private boolean digestValue(String key, DigestPolicy policy) throws LoginException {
        boolean crc = DigestPolicy.CRC32C.equals(values.get(key));
        if (policy == DigestPolicy.REQUIRE_CRC32C && !crc) {
            throw new LoginException(LoginStatus.INITIATOR_ERROR, key + "=CRC32C is required");
        }
        return crc;
    }

    private NegotiatedParameters buildResult() throws LoginException {
        boolean headerDigest = digestValue(LoginKeys.HEADER_DIGEST, preferences.headerDigest());
        boolean dataDigest = digestValue(LoginKeys.DATA_DIGEST, preferences.dataDigest());
        int maxBurst = (int) longValue(MAX_BURST_LENGTH);
        int firstBurst = (int) Math.min(longValue(FIRST_BURST_LENGTH), maxBurst);
        int initiatorMaxRecv = values.containsKey(MAX_RECV_DATA_SEGMENT_LENGTH)
                ? (int) longValue(MAX_RECV_DATA_SEGMENT_LENGTH) : DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
        int targetMaxRecv = targetMaxRecvDeclared
                ? preferences.maxRecvDataSegmentLength() : DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
        boolean normal = sessionType == SessionType.NORMAL;
        return new NegotiatedParameters(sessionType, initiatorName, initiatorAlias,
                normal ? target.name() : null, isid, normal ? target.portalGroupTag() : -1,
                requiredChap != null ? requiredChap.user() : null,
                headerDigest, dataDigest, initiatorMaxRecv, targetMaxRecv, maxBurst, firstBurst,
                booleanValue(LoginKeys.INITIAL_R2T), booleanValue(LoginKeys.IMMEDIATE_DATA),
                (int) longValue(LoginKeys.MAX_OUTSTANDING_R2T), booleanValue(LoginKeys.DATA_PDU_IN_ORDER),
                booleanValue(LoginKeys.DATA_SEQUENCE_IN_ORDER), (int) longValue(LoginKeys.DEFAULT_TIME2WAIT),
                (int) longValue(LoginKeys.DEFAULT_TIME2RETAIN), (int) longValue(LoginKeys.ERROR_RECOVERY_LEVEL),
                (int) longValue(LoginKeys.MAX_CONNECTIONS));
    }
}
