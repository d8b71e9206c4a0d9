package io.tandem.iscsi;

import io.tandem.iscsi.login.LoginConfig;
import io.tandem.iscsi.login.LoginNegotiator;
import io.tandem.iscsi.login.LoginStep;
import io.tandem.iscsi.login.NegotiatedParameters;
import io.tandem.iscsi.login.SessionType;
import io.tandem.iscsi.pdu.Bhs;
import io.tandem.iscsi.pdu.Opcode;
import io.tandem.iscsi.pdu.PduException;
import io.tandem.iscsi.pdu.PduReader;
import io.tandem.iscsi.pdu.PduWriter;
import io.tandem.scsi.Nexus;
import io.tandem.scsi.ScsiResponse;
import io.tandem.scsi.ScsiTask;
import io.tandem.scsi.TaskAttribute;
import io.tandem.scsi.TaskManagementFunction;
import io.tandem.scsi.TaskManagementResult;
import io.tandem.scsi.TransportPort;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One iSCSI connection: the login phase, then the full feature phase. A single virtual thread
 * reads PDUs and dispatches them through a table indexed by opcode; SCSI tasks run concurrently in
 * the SCSI core and come back through {@link TransportPort}. Every send takes the writer lock, so
 * StatSN is assigned in wire order.
 */
final class IscsiConnection implements TransportPort {

    private static final Logger LOG = Logger.getLogger(IscsiConnection.class.getName());
    /** How long a logout waits for the nexus' state to be released before answering anyway. */
    private static final long LOGOUT_RELEASE_SECONDS = 10;
    /** RFC 7143: during login, PDUs carry at most 8192 bytes of data. */
    private static final int LOGIN_MAX_DATA = 8192;

    @FunctionalInterface
    private interface PduHandler {
        void handle(Bhs bhs) throws IOException, PduException;
    }

    private final IscsiServer server;
    private final SocketChannel channel;
    private final PduReader reader;
    private final PduWriter writer;
    private final PduHandler[] handlers = new PduHandler[64];
    private final Map<Integer, IscsiTask> tasks = new ConcurrentHashMap<>();
    private final AtomicInteger nextTtt = new AtomicInteger(1);
    private final String peer;

    private volatile IscsiSession session;
    private volatile NegotiatedParameters params;
    /** Guarded by the writer lock. */
    private int statSn;
    private volatile boolean closed;
    private volatile long lastReceiveNanos = System.nanoTime();
    private volatile int pendingPingTtt = Bhs.RESERVED_TAG;
    private volatile long pingSentNanos;
    private volatile String closeReason;

    IscsiConnection(IscsiServer server, SocketChannel channel) {
        this.server = server;
        this.channel = channel;
        this.reader = new PduReader(channel, LOGIN_MAX_DATA);
        this.writer = new PduWriter(channel);
        this.peer = describePeer(channel);
        handlers[Opcode.NOP_OUT] = this::onNopOut;
        handlers[Opcode.SCSI_COMMAND] = this::onScsiCommand;
        handlers[Opcode.TASK_MGMT_REQUEST] = this::onTaskManagement;
        handlers[Opcode.LOGIN_REQUEST] = this::onLoginInFullFeature;
        handlers[Opcode.TEXT_REQUEST] = this::onText;
        handlers[Opcode.DATA_OUT] = this::onDataOut;
        handlers[Opcode.LOGOUT_REQUEST] = this::onLogout;
        handlers[Opcode.SNACK_REQUEST] = this::onSnack;
    }

    private static String describePeer(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    void run() {
        try {
            if (login()) {
                Thread.ofVirtual().name("iscsi-nop-" + peer).start(this::pingLoop);
                fullFeaturePhase();
            }
        } catch (EOFException e) {
            LOG.log(Level.FINE, "peer closed " + peer);
        } catch (IOException e) {
            if (!closed) {
                LOG.log(Level.FINE, "connection " + peer + " failed: " + e.getMessage());
            }
        } catch (PduException e) {
            server.event("dropping connection from " + peer + ": " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "connection " + peer + " failed unexpectedly", e);
        } finally {
            cleanup();
        }
    }

    // ---------------------------------------------------------------- login phase

    private boolean login() throws IOException, PduException {
        IscsiTargetConfig config = server.config();
        LoginNegotiator negotiator = new LoginNegotiator(LoginConfigs.forTarget(config));
        boolean first = true;
        long isid = 0;
        int firstCmdSn = 0;
        while (true) {
            Bhs bhs;
            try {
                bhs = reader.readHeader();
            } catch (PduException e) {
                throw PduException.drop("malformed PDU during login: " + e.getMessage());
            }
            if (bhs.opcode() != Opcode.LOGIN_REQUEST) {
                // RFC 7143 §6.1: anything but Login before full feature phase ends the login.
                reader.skipData();
                sendLoginFailure(bhs, 0x02, 0x0b);
                throw PduException.drop("opcode 0x" + Integer.toHexString(bhs.opcode()) + " during login");
            }
            int flags = bhs.flags();
            boolean transit = (flags & 0x80) != 0;
            boolean cont = (flags & 0x40) != 0;
            int csg = (flags >> 2) & 3;
            int nsg = flags & 3;
            int versionMax = bhs.byte2();
            int versionMin = bhs.byte3();
            long requestIsid = bhs.isid();
            int tsih = bhs.uint16(14);
            int itt = bhs.itt();
            int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
            int expStatSn = bhs.int32(Bhs.OFFSET_EXPSTATSN_OR_EXPCMDSN);
            ByteBuffer data = reader.readData();
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            if (first) {
                first = false;
                isid = requestIsid;
                firstCmdSn = cmdSn;
                writer.lock().lock();
                try {
                    statSn = expStatSn;
                } finally {
                    writer.lock().unlock();
                }
            } else if (requestIsid != isid) {
                sendLoginResponse(itt, isid, 0, firstCmdSn, loginFailure(0x02, 0x00, "ISID changed"), null);
                throw PduException.drop("ISID changed during login");
            }
            LoginStep step = negotiator.onLoginRequest(csg, nsg, transit, cont, versionMax, versionMin, isid, tsih, bytes);
            if (step.complete() && tsih != 0) {
                // Adding a connection to an existing session: MaxConnections is 1, so none can be added.
                step = loginFailure(0x02, 0x0a, "session does not exist");
            }
            if (!step.complete()) {
                sendLoginResponse(itt, isid, 0, firstCmdSn, step, null);
                if (step.statusClass() != 0) {
                    server.event("login refused for " + peer + ": status 0x"
                            + String.format("%04x", step.statusCode()) + (step.reason() == null ? "" : " (" + step.reason() + ")"));
                    return false;
                }
                continue;
            }
            NegotiatedParameters negotiated = step.parameters();
            boolean discovery = negotiated.sessionType() == SessionType.DISCOVERY;
            Nexus nexus = new Nexus(negotiated.initiatorName(), isid, server.targetPort());
            IscsiSession newSession = server.register(
                    new IscsiSession.SessionKey(negotiated.initiatorName(), isid, server.config().targetName()),
                    discovery, nexus, firstCmdSn);
            newSession.connection = this;
            this.params = negotiated;
            this.textExchange = new TextExchange(negotiated);
            this.session = newSession;
            if (!discovery) {
                server.scsiTarget().nexusAdded(nexus);
            }
            sendLoginResponse(itt, isid, newSession.tsih, firstCmdSn, step, newSession);
            reader.configure(negotiated.headerDigest(), negotiated.dataDigest(),
                    negotiated.targetMaxRecvDataSegmentLength());
            writer.configure(negotiated.headerDigest(), negotiated.dataDigest());
            server.event((discovery ? "discovery login: " : "login: ") + negotiated.initiatorName()
                    + " isid 0x" + String.format("%012x", isid) + " from " + peer + " tsih " + newSession.tsih);
            return true;
        }
    }

    private static LoginStep loginFailure(int statusClass, int statusDetail, String reason) {
        return new LoginStep(statusClass, statusDetail, false, 0, 0, null, false, null, reason);
    }

    private void sendLoginFailure(Bhs request, int statusClass, int statusDetail) throws IOException {
        sendLoginResponse(request.itt(), request.isid(), 0, request.int32(Bhs.OFFSET_CMDSN_OR_STATSN),
                loginFailure(statusClass, statusDetail, "not a login PDU"), null);
    }

    private void sendLoginResponse(int itt, long isid, int tsih, int cmdSn, LoginStep step, IscsiSession done)
            throws IOException {
        writer.lock().lock();
        try {
            Bhs h = writer.header();
            h.opcode(Opcode.LOGIN_RESPONSE);
            int flags = (step.transit() ? 0x80 : 0) | (step.csg() << 2) | step.nsg();
            h.flags(step.statusClass() == 0 ? flags : 0);
            h.byte2(0).byte3(0);
            h.isid(isid).uint16(14, tsih).itt(itt);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn++);
            int expCmdSn = done == null ? cmdSn : done.sequencer.expCmdSn();
            int maxCmdSn = done == null ? cmdSn : done.sequencer.maxCmdSn();
            h.int32(Bhs.OFFSET_EXPSTATSN_OR_EXPCMDSN, expCmdSn).int32(Bhs.OFFSET_MAXCMDSN, maxCmdSn);
            h.buffer().put(36, (byte) step.statusClass());
            h.buffer().put(37, (byte) step.statusDetail());
            byte[] response = step.responseData();
            writer.send(response == null || response.length == 0 ? null : ByteBuffer.wrap(response));
        } finally {
            writer.lock().unlock();
        }
    }

    // ---------------------------------------------------------------- full feature phase

    private void fullFeaturePhase() throws IOException, PduException {
        while (!closed) {
            Bhs bhs;
            try {
                bhs = reader.readHeader();
            } catch (PduException e) {
                handleProtocolError(e);
                continue;
            }
            lastReceiveNanos = System.nanoTime();
            int opcode = bhs.opcode();
            PduHandler handler = handlers[opcode];
            try {
                if (handler == null) {
                    reader.skipData();
                    throw PduException.reject(PduException.REASON_COMMAND_NOT_SUPPORTED,
                            "opcode 0x" + Integer.toHexString(opcode) + " not supported");
                }
                if (session.discovery && opcode != Opcode.TEXT_REQUEST && opcode != Opcode.LOGOUT_REQUEST
                        && opcode != Opcode.NOP_OUT) {
                    reader.skipData();
                    throw PduException.reject(PduException.REASON_PROTOCOL_ERROR,
                            "opcode 0x" + Integer.toHexString(opcode) + " not allowed in a discovery session");
                }
                handler.handle(bhs);
            } catch (PduException e) {
                handleProtocolError(e);
            }
        }
    }

    private void handleProtocolError(PduException e) throws IOException, PduException {
        if (reader.dataPending()) {
            reader.skipData();
        }
        switch (e.level()) {
            case DROP_PDU -> LOG.log(Level.FINE, "dropped PDU from " + peer + ": " + e.getMessage());
            case REJECT -> {
                server.event("reject to " + peer + ": " + e.getMessage());
                sendReject(e.rejectReason(), reader.headerBytes());
                if (e.rejectReason() == PduException.REASON_DATA_DIGEST_ERROR) {
                    // ErrorRecoveryLevel 0 has no way to recover the lost payload.
                    throw PduException.drop("data digest error");
                }
            }
            case DROP_CONNECTION -> throw e;
        }
    }

    private void onLoginInFullFeature(Bhs bhs) throws IOException, PduException {
        reader.skipData();
        throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "Login request in full feature phase");
    }

    private void onSnack(Bhs bhs) throws IOException, PduException {
        reader.skipData();
        throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "SNACK needs ErrorRecoveryLevel > 0");
    }

    // ---------------------------------------------------------------- SCSI command and data

    private void onScsiCommand(Bhs bhs) throws IOException, PduException {
        int flags = bhs.flags();
        boolean fin = (flags & 0x80) != 0;
        boolean read = (flags & 0x40) != 0;
        boolean write = (flags & 0x20) != 0;
        boolean immediate = bhs.immediate();
        int itt = bhs.itt();
        long lun = bhs.lun();
        int edtl = bhs.int32(Bhs.OFFSET_EDTL_OR_TTT);
        int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
        int dataLength = bhs.dataSegmentLength();
        byte[] cdb = reader.cdb();
        NegotiatedParameters p = params;
        if (edtl < 0) {
            throw PduException.reject(PduException.REASON_INVALID_PDU_FIELD, "expected data transfer length " + (edtl & 0xffffffffL));
        }
        if (dataLength > 0 && (!p.immediateData() || !write)) {
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR,
                    write ? "immediate data while ImmediateData=No" : "data with a command that has no W bit");
        }
        if (dataLength > edtl || dataLength > p.firstBurstLength()) {
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "immediate data of " + dataLength
                    + " bytes exceeds expected length " + edtl + " or FirstBurstLength " + p.firstBurstLength());
        }
        if (write && !fin && p.initialR2T()) {
            throw PduException.reject(PduException.REASON_PROTOCOL_ERROR, "unsolicited data announced while InitialR2T=Yes");
        }
        if (tasks.containsKey(itt)) {
            throw PduException.reject(PduException.REASON_TASK_IN_PROGRESS, "task tag 0x" + Integer.toHexString(itt) + " in use");
        }
        int unsolicited = !write ? 0 : fin ? dataLength : Math.min(edtl, p.firstBurstLength());
        IscsiTask task = new IscsiTask(itt, lun, edtl, cmdSn, immediate, unsolicited);
        if (dataLength > 0) {
            task.immediateData(reader.readData());
        } else {
            reader.skipData();
        }
        ScsiTask scsiTask = new ScsiTask(session.nexus, lun, cdb, TaskAttribute.fromIscsiCode(flags & 7),
                itt & 0xffffffffL, edtl, read, write, this);
        scsiTask.fabricContext(task);
        task.scsiTask = scsiTask;
        tasks.put(itt, task);
        CommandSequencer.Verdict verdict = session.sequencer.offer(cmdSn, immediate, () -> {
            task.delivered = true;
            if (task.abortedBeforeDelivery) {
                if (!immediate) {
                    session.sequencer.completed();
                }
            } else {
                server.scsiTarget().submit(scsiTask);
            }
        });
        if (verdict == CommandSequencer.Verdict.OUT_OF_WINDOW) {
            tasks.remove(itt, task);
            LOG.log(Level.FINE, "dropped command with CmdSN " + (cmdSn & 0xffffffffL) + " outside the window");
        }
    }

    private void onDataOut(Bhs bhs) throws IOException, PduException {
        int itt = bhs.itt();
        int ttt = bhs.int32(Bhs.OFFSET_EDTL_OR_TTT);
        int dataSn = bhs.int32(Bhs.OFFSET_DATASN);
        int offset = bhs.int32(Bhs.OFFSET_BUFFER_OFFSET);
        int length = bhs.dataSegmentLength();
        IscsiTask task = tasks.get(itt);
        if (task == null) {
            // The task already ended (e.g. CHECK CONDITION before its data): surplus data is discarded.
            reader.skipData();
            return;
        }
        if (offset < 0) {
            throw PduException.reject(PduException.REASON_INVALID_PDU_FIELD, "negative buffer offset");
        }
        if (ttt == Bhs.RESERVED_TAG) {
            ByteBuffer sink = task.unsolicitedSink(offset, length, dataSn);
            if (sink != null) {
                reader.readData(sink);
            } else {
                task.keepOverlap(offset, reader.readData());
            }
            task.unsolicitedArrived(offset, length);
            return;
        }
        IscsiTask.Burst burst = task.burstFor(ttt, offset, length, dataSn);
        if (burst == null) {
            throw PduException.reject(PduException.REASON_INVALID_PDU_FIELD,
                    "Data-Out target transfer tag 0x" + Integer.toHexString(ttt) + " matches no R2T");
        }
        reader.readData(task.solicitedSink(offset, length));
        NegotiatedParameters p = params;
        List<IscsiTask.Burst> next = task.solicitedArrived(burst, length, p.maxBurstLength(),
                p.maxOutstandingR2T(), this::allocateTtt);
        for (IscsiTask.Burst b : next) {
            sendR2t(task, b);
        }
    }

    private int allocateTtt() {
        int ttt;
        do {
            ttt = nextTtt.getAndIncrement();
        } while (ttt == Bhs.RESERVED_TAG || ttt == 0);
        return ttt;
    }

    @Override
    public CompletableFuture<Void> receiveDataOut(ScsiTask scsiTask, ByteBuffer into) {
        IscsiTask task = (IscsiTask) scsiTask.fabricContext();
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IOException("connection closed"));
            return done;
        }
        NegotiatedParameters p = params;
        List<IscsiTask.Burst> r2ts = task.start(into, done, p.maxBurstLength(), p.maxOutstandingR2T(), this::allocateTtt);
        try {
            for (IscsiTask.Burst burst : r2ts) {
                sendR2t(task, burst);
            }
        } catch (IOException e) {
            task.fail(e);
        }
        return done;
    }

    private void sendR2t(IscsiTask task, IscsiTask.Burst burst) throws IOException {
        writer.lock().lock();
        try {
            Bhs h = writer.header();
            h.opcode(Opcode.R2T).flags(0x80).lun(task.lun).itt(task.itt);
            h.int32(Bhs.OFFSET_EDTL_OR_TTT, burst.ttt());
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn);
            windowFields(h);
            h.int32(Bhs.OFFSET_DATASN, burst.r2tSn());
            h.int32(Bhs.OFFSET_BUFFER_OFFSET, burst.offset());
            h.int32(Bhs.OFFSET_RESIDUAL_OR_DESIRED_LENGTH, burst.length());
            writer.send(null);
        } finally {
            writer.lock().unlock();
        }
    }

    @Override
    public void complete(ScsiTask scsiTask, ScsiResponse response) {
        IscsiTask task = (IscsiTask) scsiTask.fabricContext();
        if (response.status() == ScsiResponse.TASK_ABORTED) {
            // Aborted by another nexus under TAS=1, possibly while its Data-Out was still being
            // solicited: stop waiting for it (later Data-Out PDUs for the tag are discarded).
            task.fail(new CancellationException("task aborted"));
        }
        if (!finish(task)) {
            return;
        }
        try {
            sendResponse(task, scsiTask, response);
        } catch (IOException e) {
            LOG.log(Level.FINE, "response for " + scsiTask + " not sent: " + e.getMessage());
            terminate("send failed: " + e.getMessage());
        }
    }

    @Override
    public void aborted(ScsiTask scsiTask) {
        IscsiTask task = (IscsiTask) scsiTask.fabricContext();
        task.fail(new CancellationException("task aborted"));
        finish(task);
    }

    /** Forgets the task and opens the command window; false if it was already finished. */
    private boolean finish(IscsiTask task) {
        if (!tasks.remove(task.itt, task)) {
            return false;
        }
        if (!task.immediate) {
            session.sequencer.completed();
        }
        return true;
    }

    private void sendResponse(IscsiTask task, ScsiTask scsiTask, ScsiResponse response) throws IOException {
        int expected = task.expectedLength;
        ByteBuffer dataIn = response.dataIn();
        int produced;
        if (dataIn != null) {
            produced = dataIn.remaining();
        } else {
            produced = scsiTask.commandDataOutLength();
        }
        int residualFlags = 0;
        int residual = 0;
        if (produced > expected) {
            residualFlags = 0x04;
            residual = produced - expected;
        } else if (produced < expected) {
            residualFlags = 0x02;
            residual = expected - produced;
        }
        boolean collapse = dataIn != null && response.sense() == null
                && (response.status() == ScsiResponse.GOOD || response.status() == ScsiResponse.CONDITION_MET);
        int sendLength = dataIn == null ? 0 : Math.min(dataIn.remaining(), expected);
        writer.lock().lock();
        try {
            int dataSn = 0;
            if (sendLength > 0) {
                int maxSegment = params.initiatorMaxRecvDataSegmentLength();
                int maxBurst = params.maxBurstLength();
                int offset = 0;
                int burstBytes = 0;
                int base = dataIn.position();
                while (offset < sendLength) {
                    int length = Math.min(maxSegment, Math.min(sendLength - offset, maxBurst - burstBytes));
                    boolean last = offset + length == sendLength;
                    burstBytes += length;
                    boolean endOfSequence = last || burstBytes == maxBurst;
                    if (burstBytes == maxBurst) {
                        burstBytes = 0;
                    }
                    boolean status = last && collapse;
                    Bhs h = writer.header();
                    h.opcode(Opcode.DATA_IN);
                    h.flags((endOfSequence ? 0x80 : 0) | (status ? 0x01 | residualFlags : 0));
                    h.byte3(status ? response.status() : 0);
                    h.lun(task.lun).itt(task.itt).int32(Bhs.OFFSET_EDTL_OR_TTT, Bhs.RESERVED_TAG);
                    h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, status ? statSn++ : 0);
                    windowFields(h);
                    h.int32(Bhs.OFFSET_DATASN, dataSn++);
                    h.int32(Bhs.OFFSET_BUFFER_OFFSET, offset);
                    h.int32(Bhs.OFFSET_RESIDUAL_OR_DESIRED_LENGTH, status ? residual : 0);
                    writer.send(dataIn.slice(base + offset, length));
                    offset += length;
                }
                if (collapse) {
                    return;
                }
            }
            Bhs h = writer.header();
            h.opcode(Opcode.SCSI_RESPONSE).flags(0x80 | residualFlags);
            h.byte2(0x00).byte3(response.status());
            h.itt(task.itt);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn++);
            windowFields(h);
            h.int32(Bhs.OFFSET_DATASN, dataSn);
            h.int32(Bhs.OFFSET_RESIDUAL_OR_DESIRED_LENGTH, residual);
            byte[] sense = response.sense();
            ByteBuffer senseData = null;
            if (sense != null && sense.length > 0) {
                senseData = ByteBuffer.allocate(2 + sense.length);
                senseData.putShort((short) sense.length).put(sense).flip();
            }
            writer.send(senseData);
        } finally {
            writer.lock().unlock();
        }
    }

    /**
     * Sends a status-bearing response (StatSN advances): {@code build} fills the opcode-specific
     * fields; window fields and StatSN are set here. A non-immediate request's CmdSN slot is
     * released first, so the window in the response already reflects it.
     */
    private void respond(boolean immediate, java.util.function.Consumer<Bhs> build, ByteBuffer data) {
        writer.lock().lock();
        try {
            if (!immediate) {
                session.sequencer.completed();
            }
            Bhs h = writer.header();
            build.accept(h);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn++);
            windowFields(h);
            writer.send(data);
        } catch (IOException e) {
            terminate("send failed: " + e.getMessage());
        } finally {
            writer.lock().unlock();
        }
    }

    /** ExpCmdSN and MaxCmdSN for a response being built (writer lock held). */
    private void windowFields(Bhs h) {
        IscsiSession s = session;
        h.int32(Bhs.OFFSET_EXPSTATSN_OR_EXPCMDSN, s.sequencer.expCmdSn());
        h.int32(Bhs.OFFSET_MAXCMDSN, s.sequencer.maxCmdSn());
    }

    // ---------------------------------------------------------------- NOP, task management, text, logout

    private void onNopOut(Bhs bhs) throws IOException, PduException {
        int itt = bhs.itt();
        int ttt = bhs.int32(Bhs.OFFSET_EDTL_OR_TTT);
        long lun = bhs.lun();
        int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
        boolean immediate = bhs.immediate();
        ByteBuffer ping = reader.readData();
        if (ttt != Bhs.RESERVED_TAG) {
            if (ttt == pendingPingTtt) {
                pendingPingTtt = Bhs.RESERVED_TAG;
            }
            return;
        }
        if (itt == Bhs.RESERVED_TAG) {
            return; // a one-way NOP-Out: nothing to answer
        }
        Runnable answer = () -> respond(immediate, h -> h.opcode(Opcode.NOP_IN).flags(0x80).lun(lun).itt(itt)
                .int32(Bhs.OFFSET_EDTL_OR_TTT, Bhs.RESERVED_TAG), ping.hasRemaining() ? ping : null);
        session.sequencer.offer(cmdSn, immediate, answer);
    }

    private void pingLoop() {
        IscsiTargetConfig config = server.config();
        long interval = config.nopInterval().toNanos();
        long timeout = config.nopTimeout().toNanos();
        if (interval <= 0) {
            return;
        }
        while (!closed) {
            try {
                Thread.sleep(Math.max(10, Math.min(1000, interval / 1_000_000 / 2)));
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            if (pendingPingTtt != Bhs.RESERVED_TAG) {
                if (now - pingSentNanos > timeout) {
                    server.event("initiator at " + peer + " did not answer NOP-In for "
                            + config.nopTimeout().toSeconds() + " s: dropping the connection");
                    terminate("NOP-In ping unanswered");
                    return;
                }
            } else if (now - lastReceiveNanos > interval) {
                sendPing();
            }
        }
    }

    private void sendPing() {
        int ttt = allocateTtt();
        writer.lock().lock();
        try {
            pendingPingTtt = ttt;
            pingSentNanos = System.nanoTime();
            Bhs h = writer.header();
            h.opcode(Opcode.NOP_IN).flags(0x80).lun(0).itt(Bhs.RESERVED_TAG).int32(Bhs.OFFSET_EDTL_OR_TTT, ttt);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn); // an unsolicited NOP-In does not advance StatSN
            windowFields(h);
            writer.send(null);
        } catch (IOException e) {
            terminate("send failed: " + e.getMessage());
        } finally {
            writer.lock().unlock();
        }
    }

    private void onTaskManagement(Bhs bhs) throws IOException, PduException {
        int function = bhs.flags() & 0x7f;
        long lun = bhs.lun();
        int itt = bhs.itt();
        int referencedTag = bhs.int32(Bhs.OFFSET_20);
        int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
        int refCmdSn = bhs.int32(Bhs.OFFSET_32);
        boolean immediate = bhs.immediate();
        reader.skipData();
        TaskManagementFunction tmf = TaskManagementFunction.fromIscsiCode(function);
        Runnable run = () -> {
            CompletableFuture<TaskManagementResult> result;
            if (tmf == null) {
                result = CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_REJECTED);
            } else if (tmf == TaskManagementFunction.TASK_REASSIGN) {
                result = CompletableFuture.completedFuture(null); // allegiance reassignment needs ERL 2
            } else if (abortUndelivered(tmf, lun, referencedTag)) {
                result = CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_COMPLETE);
            } else if (tmf == TaskManagementFunction.ABORT_TASK && !tasks.containsKey(referencedTag)
                    && session.sequencer.consumeMissing(refCmdSn, cmdSn)) {
                // The referenced command never arrived: its CmdSN counts as received (RFC 7143 11.5.1 b).
                result = CompletableFuture.completedFuture(TaskManagementResult.FUNCTION_COMPLETE);
            } else {
                result = server.scsiTarget().taskManagement(session.nexus, tmf, lun, referencedTag & 0xffffffffL);
            }
            result.whenComplete((r, failure) -> {
                int code = failure != null ? 0xff : responseCode(r);
                if (tmf == TaskManagementFunction.TARGET_COLD_RESET && code == 0) {
                    server.coldReset(this);
                    sendLastResponse(() -> sendTaskManagementResponse(itt, immediate, code), "target cold reset");
                } else {
                    sendTaskManagementResponse(itt, immediate, code);
                }
            });
        };
        session.sequencer.offer(cmdSn, immediate, run);
    }

    /**
     * Aborts commands this session received but still holds behind a CmdSN gap: the SCSI core has
     * not seen them, so only this layer can. Runs on the reader thread, as the sequencer's actions
     * do, so it cannot race a delivery. Returns true when ABORT TASK was fully handled here.
     */
    private boolean abortUndelivered(TaskManagementFunction tmf, long lun, int referencedTag) {
        switch (tmf) {
            case ABORT_TASK -> {
                IscsiTask task = tasks.get(referencedTag);
                if (task != null && !task.delivered && task.lun == lun) {
                    task.abortedBeforeDelivery = true;
                    tasks.remove(referencedTag, task);
                    return true;
                }
                return false;
            }
            case ABORT_TASK_SET, CLEAR_TASK_SET, LOGICAL_UNIT_RESET, TARGET_WARM_RESET, TARGET_COLD_RESET -> {
                boolean wholeTarget = tmf == TaskManagementFunction.TARGET_WARM_RESET
                        || tmf == TaskManagementFunction.TARGET_COLD_RESET;
                for (IscsiTask task : tasks.values()) {
                    if (!task.delivered && (wholeTarget || task.lun == lun)) {
                        task.abortedBeforeDelivery = true;
                        tasks.remove(task.itt, task);
                    }
                }
                return false; // the SCSI core still runs the function for the tasks it holds
            }
            default -> {
                return false;
            }
        }
    }

    private static int responseCode(TaskManagementResult result) {
        if (result == null) {
            return 4; // task allegiance reassignment not supported
        }
        return switch (result) {
            case FUNCTION_COMPLETE -> 0;
            case TASK_DOES_NOT_EXIST -> 1;
            case LUN_DOES_NOT_EXIST -> 2;
            case FUNCTION_NOT_SUPPORTED -> 5;
            case AUTHORIZATION_FAILED -> 6;
            case FUNCTION_REJECTED -> 0xff;
        };
    }

    /**
     * Sends a response after which the connection serves nothing more, and closes it. The writer
     * lock is held across both, so no response can follow it: an initiator that answers it at once
     * (libiscsi's TEST UNIT READY right after TARGET COLD RESET) finds the connection gone instead
     * of the old nexus still serving, however late this thread runs.
     */
    private void sendLastResponse(Runnable send, String reason) {
        writer.lock().lock();
        try {
            send.run();
            terminate(reason);
        } finally {
            writer.lock().unlock();
        }
    }

    private void sendTaskManagementResponse(int itt, boolean immediate, int code) {
        respond(immediate, h -> h.opcode(Opcode.TASK_MGMT_RESPONSE).flags(0x80).byte2(code).itt(itt), null);
    }

    private void onText(Bhs bhs) throws IOException, PduException {
        int itt = bhs.itt();
        int ttt = bhs.int32(Bhs.OFFSET_EDTL_OR_TTT);
        int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
        boolean immediate = bhs.immediate();
        boolean cont = (bhs.flags() & 0x40) != 0;
        long lun = bhs.lun();
        byte[] header = reader.headerBytes();
        ByteBuffer data = reader.readData();
        byte[] request = new byte[data.remaining()];
        data.get(request);
        Runnable answer = () -> {
            try {
                IscsiTargetConfig config = server.config();
                TextExchange.Reply reply = textExchange.onRequest(request, cont, ttt,
                        params.initiatorMaxRecvDataSegmentLength(),
                        session.discovery ? null : config.targetName(), config.targetName(),
                        config.admits(params.initiatorName()), config.portalGroupTag(), server.advertisedPortals(),
                        (InetSocketAddress) channel.getLocalAddress());
                params = textExchange.parameters();
                sendTextResponse(itt, lun, immediate, reply, header);
            } catch (IOException e) {
                terminate("send failed: " + e.getMessage());
            }
        };
        session.sequencer.offer(cmdSn, immediate, answer);
    }

    private volatile TextExchange textExchange;

    private void sendTextResponse(int itt, long lun, boolean immediate, TextExchange.Reply reply, byte[] request)
            throws IOException {
        if (reply.error() != null) {
            if (!immediate) {
                session.sequencer.completed();
            }
            server.event("reject to " + peer + ": malformed text request: " + reply.error());
            sendReject(PduException.REASON_PROTOCOL_ERROR, request);
            return;
        }
        respond(immediate, h -> h.opcode(Opcode.TEXT_RESPONSE).flags(reply.more() ? 0x40 : 0x80).lun(lun).itt(itt)
                        .int32(Bhs.OFFSET_EDTL_OR_TTT, reply.more() ? TextExchange.CONTINUATION_TAG : Bhs.RESERVED_TAG),
                reply.length() == 0 ? null : ByteBuffer.wrap(reply.data(), reply.offset(), reply.length()));
    }

    private void onLogout(Bhs bhs) throws IOException, PduException {
        int reason = bhs.flags() & 0x7f;
        int itt = bhs.itt();
        int cmdSn = bhs.int32(Bhs.OFFSET_CMDSN_OR_STATSN);
        boolean immediate = bhs.immediate();
        reader.skipData();
        // ERL 0 offers no connection recovery: "remove the connection for recovery" is refused.
        int response = reason == 2 ? 2 : 0;
        Runnable answer = () -> {
            // Time2Wait and Time2Retain (bytes 40-43) stay 0: nothing is kept for recovery at ERL 0.
            Runnable reply = () -> respond(immediate,
                    h -> h.opcode(Opcode.LOGOUT_RESPONSE).flags(0x80).byte2(response).itt(itt), null);
            if (response != 0) {
                reply.run();
                return;
            }
            // The session ends before the initiator hears so: what its nexus held (an SPC-2
            // reservation) is released by then, so its other sessions never see it afterwards.
            server.unregister(session).orTimeout(LOGOUT_RELEASE_SECONDS, TimeUnit.SECONDS)
                    .whenComplete((v, failure) -> {
                        if (failure != null) {
                            LOG.log(Level.WARNING, "releasing " + peer + "'s nexus at logout did not finish: " + failure);
                        }
                        reply.run();
                        server.event("logout: " + params.initiatorName() + " from " + peer);
                        terminate("logged out");
                    });
        };
        session.sequencer.offer(cmdSn, immediate, answer);
    }

    /** Asks the initiator to log out within {@code seconds} (Async Message, event 1). */
    void requestLogout(int seconds) {
        if (session == null || closed) {
            terminate("target shutting down");
            return;
        }
        writer.lock().lock();
        try {
            Bhs h = writer.header();
            h.opcode(Opcode.ASYNC_MESSAGE).flags(0x80).lun(0).itt(Bhs.RESERVED_TAG)
                    .int32(Bhs.OFFSET_EDTL_OR_TTT, Bhs.RESERVED_TAG);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn++);
            windowFields(h);
            h.buffer().put(36, (byte) 1);
            h.uint16(42, seconds);
            writer.send(null);
        } catch (IOException e) {
            terminate("send failed: " + e.getMessage());
        } finally {
            writer.lock().unlock();
        }
    }

    private void sendReject(int reason, byte[] rejectedHeader) throws IOException {
        writer.lock().lock();
        try {
            Bhs h = writer.header();
            h.opcode(Opcode.REJECT).flags(0x80).byte2(reason).itt(Bhs.RESERVED_TAG);
            h.int32(Bhs.OFFSET_CMDSN_OR_STATSN, statSn++);
            if (session != null) {
                windowFields(h);
            }
            writer.send(ByteBuffer.wrap(rejectedHeader));
        } finally {
            writer.lock().unlock();
        }
    }

    // ---------------------------------------------------------------- teardown

    /**
     * The initiator closed its side of this connection, which the reader may not have noticed yet
     * (see {@link TcpConnectionTable}); a connection already closed here counts as closed.
     */
    boolean peerClosed() {
        try {
            return channel.getLocalAddress() instanceof InetSocketAddress local
                    && channel.getRemoteAddress() instanceof InetSocketAddress remote
                    && TcpConnectionTable.peerClosed(local, remote);
        } catch (IOException e) {
            return true;
        }
    }

    /** Closes a full-feature connection for TARGET COLD RESET; discovery sessions stay. */
    void terminateAfterColdReset() {
        IscsiSession s = session;
        if (s != null && !s.discovery) {
            terminate("target cold reset");
        }
    }

    void terminate(String reason) {
        if (closeReason == null) {
            closeReason = reason;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void cleanup() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        IOException lost = new IOException("connection closed");
        for (IscsiTask task : tasks.values()) {
            task.fail(lost);
        }
        IscsiSession s = session;
        if (s != null) {
            server.unregister(s);
            if (closeReason == null || !closeReason.equals("logged out")) {
                server.event("connection closed: " + (params == null ? "?" : params.initiatorName()) + " from " + peer
                        + (closeReason == null ? "" : " (" + closeReason + ")"));
            }
        }
    }
}
