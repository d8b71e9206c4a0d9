package io.tandem.it.initiator;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A logged-in iSCSI session on one connection, in full-feature phase (RFC 7143 sections 3-4, 11).
 *
 * <p>Threads: callers submit commands; one reader thread receives every PDU and dispatches it by ITT;
 * one sender thread answers R2Ts and target NOP-Ins. The reader never writes to the socket and never
 * takes the CmdSN lock, so a target that blocks on its own writes cannot deadlock the initiator.
 *
 * <p>Checks made on the target while running (a failure fails the affected command with
 * {@link ProtocolViolationException}, or is recorded in {@link #protocolViolations()} where the
 * command itself is still usable): DataSN and R2TSN order, buffer offsets inside the expected
 * length and in order, Data-In sequences within MaxBurstLength, Data-In segments within our
 * MaxRecvDataSegmentLength, R2Ts within MaxBurstLength and MaxOutstandingR2T, StatSN order,
 * ExpDataSN in the SCSI Response, bytes delivered versus residual count.
 */
public final class IscsiSession implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private static final int SCSI_FLAG_READ = 0x40;
    private static final int SCSI_FLAG_WRITE = 0x20;
    private static final int RESP_FLAG_BIDI_OVERFLOW = 0x10;
    private static final int RESP_FLAG_BIDI_UNDERFLOW = 0x08;
    private static final int RESP_FLAG_OVERFLOW = 0x04;
    private static final int RESP_FLAG_UNDERFLOW = 0x02;
    private static final int DATA_IN_FLAG_STATUS = 0x01;
    private static final int TEXT_FLAG_CONTINUE = 0x40;

    private final PduChannel channel;
    private final LoginOptions options;
    private final LoginResult login;
    private final NegotiatedParameters params;

    /** Serialises CmdSN assignment with the write of the command so the wire order is the CmdSN order. */
    private final ReentrantLock cmdSnLock = new ReentrantLock();
    private int cmdSn;
    /** Window bounds from the target; guarded by {@code window}. */
    private final Object window = new Object();
    private int expCmdSn;
    private int maxCmdSn;
    private volatile int expStatSn;

    private final AtomicInteger nextItt = new AtomicInteger(1);
    private final Map<Integer, PendingTask> tasks = new ConcurrentHashMap<>();
    private final ExecutorService sender;
    private final Thread reader;
    private volatile boolean closing;
    private volatile Throwable closeCause;
    private final CompletableFuture<Throwable> closedFuture = new CompletableFuture<>();

    private final List<Violation> violations = Collections.synchronizedList(new ArrayList<>());
    private final List<Pdu> rejects = Collections.synchronizedList(new ArrayList<>());
    private final List<Pdu> asyncMessages = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger nopInsAnswered = new AtomicInteger();
    private volatile Duration commandTimeout = DEFAULT_TIMEOUT;
    /** Solicited Data-Out waits for this; see {@link #holdDataOut()}. */
    private volatile CompletableFuture<Void> dataOutGate = CompletableFuture.completedFuture(null);
    private final AtomicInteger r2tsHeld = new AtomicInteger();

    private IscsiSession(PduChannel channel, LoginOptions options, LoginResult login) {
        this.channel = channel;
        this.options = options;
        this.login = login;
        this.params = login.negotiated();
        this.cmdSn = login.nextCmdSn();
        this.expCmdSn = login.expCmdSn();
        this.maxCmdSn = login.maxCmdSn();
        this.expStatSn = login.expStatSn();
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "iscsi-it-sender");
            t.setDaemon(true);
            return t;
        });
        this.reader = new Thread(this::readLoop, "iscsi-it-reader");
        this.reader.setDaemon(true);
    }

    /** Connects and logs in; the returned session is in full-feature phase. */
    public static IscsiSession login(InetSocketAddress portal, LoginOptions options) throws IOException {
        PduChannel channel = PduChannel.connect(portal, options.timeout());
        try {
            LoginResult result = LoginNegotiator.login(channel, options);
            IscsiSession session = new IscsiSession(channel, options, result);
            session.reader.start();
            return session;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Discovery session: logs in, asks SendTargets=All, logs out. */
    public static List<DiscoveredTarget> discover(InetSocketAddress portal, LoginOptions discoveryOptions)
            throws IOException {
        try (IscsiSession s = login(portal, discoveryOptions)) {
            List<DiscoveredTarget> targets = s.sendTargets("All");
            s.logout();
            return targets;
        }
    }

    public NegotiatedParameters negotiated() { return params; }
    public LoginResult loginResult() { return login; }
    public LoginOptions options() { return options; }
    public int tsih() { return login.tsih(); }
    public void commandTimeout(Duration timeout) { this.commandTimeout = timeout; }
    public Duration commandTimeout() { return commandTimeout; }

    /** Protocol problems seen so far that did not fail a command. Tests assert this stays empty. */
    public List<Violation> protocolViolations() {
        synchronized (violations) {
            return List.copyOf(violations);
        }
    }

    public List<Pdu> rejects() {
        synchronized (rejects) {
            return List.copyOf(rejects);
        }
    }

    public List<Pdu> asyncMessages() {
        synchronized (asyncMessages) {
            return List.copyOf(asyncMessages);
        }
    }

    /**
     * From now on R2Ts are accepted but not answered until {@link #releaseDataOut()}, so a write
     * stays at the target waiting for its Data-Out (for aborting commands in that state).
     */
    public void holdDataOut() {
        if (dataOutGate.isDone()) {
            dataOutGate = new CompletableFuture<>();
        }
    }

    /** Answers the held R2Ts (in arrival order) and stops holding. */
    public void releaseDataOut() {
        dataOutGate.complete(null);
    }

    /** R2Ts received while Data-Out was held. */
    public int r2tsHeld() {
        return r2tsHeld.get();
    }

    /** Number of target NOP-Ins (TTT != 0xffffffff) answered with a NOP-Out. */
    public int nopInsAnswered() {
        return nopInsAnswered.get();
    }

    public boolean isOpen() {
        return !closedFuture.isDone();
    }

    /** Completes with the cause when the connection ends, for whatever reason. */
    public CompletableFuture<Throwable> closed() {
        return closedFuture;
    }

    // ------------------------------------------------------------------ SCSI commands

    /** Sends a SCSI command; the future completes with its result or a protocol/connection error. */
    public CompletableFuture<ScsiResult> submit(ScsiRequest request) {
        return submitAll(List.of(request), null).getFirst();
    }

    /**
     * Sends several commands. CmdSNs are assigned in list order; {@code sendOrder} (a permutation of
     * list indexes, or null for list order) says in which order they go on the wire, so a test can
     * deliver CmdSN n+1 before CmdSN n.
     */
    public List<CompletableFuture<ScsiResult>> submitAll(List<ScsiRequest> requests, int[] sendOrder) {
        int n = requests.size();
        List<ScsiTask> created = new ArrayList<>(n);
        for (ScsiRequest request : requests) {
            created.add(new ScsiTask(allocateItt(), request));
        }
        List<CompletableFuture<ScsiResult>> futures = created.stream().map(t -> t.future).toList();
        try {
            ensureOpen();
            if (sendOrder == null) {
                // one at a time, so a batch larger than the CmdSN window simply waits for it to open
                for (ScsiTask task : created) {
                    cmdSnLock.lock();
                    try {
                        awaitWindow(1);
                        task.cmdSn = cmdSn++;
                        Pdu pdu = task.commandPdu();
                        tasks.put(task.itt, task);
                        channel.send(pdu.expStatSn(expStatSn));
                    } finally {
                        cmdSnLock.unlock();
                    }
                    task.sendUnsolicitedData();
                }
                return futures;
            }
            // reordered: the whole batch must fit in the window, since later CmdSNs go out first
            cmdSnLock.lock();
            try {
                awaitWindow(n);
                Pdu[] pdus = new Pdu[n];
                for (int i = 0; i < n; i++) {
                    ScsiTask task = created.get(i);
                    task.cmdSn = cmdSn++;
                    pdus[i] = task.commandPdu();
                    tasks.put(task.itt, task);
                }
                for (int index : sendOrder) {
                    channel.send(pdus[index].expStatSn(expStatSn));
                }
            } finally {
                cmdSnLock.unlock();
            }
            for (int index : sendOrder) {
                created.get(index).sendUnsolicitedData();
            }
        } catch (IOException | RuntimeException e) {
            for (ScsiTask task : created) {
                tasks.remove(task.itt);
                task.future.completeExceptionally(e);
            }
        }
        return futures;
    }

    /** Sends a command and waits for it (bounded by {@link #commandTimeout()}). */
    public ScsiResult execute(ScsiRequest request) throws IOException {
        return await(submit(request));
    }

    public <T> T await(CompletableFuture<T> future) throws IOException {
        try {
            return future.get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IOException("no answer from target within " + commandTimeout, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }

    /** The CDB helpers bound to one LUN. */
    public ScsiDevice device(int lun) {
        return new ScsiDevice(this, lun);
    }

    // ------------------------------------------------------------------ other requests

    /** NOP-Out ping (non-immediate, consumes a CmdSN); returns the NOP-In and checks the echo. */
    public Pdu ping(byte[] data) throws IOException {
        SimpleTask task = new SimpleTask(allocateItt(), Opcode.NOP_IN);
        Pdu nop = Pdu.create(Opcode.NOP_OUT).setFinal(true).itt(task.itt).ttt(Pdu.RESERVED_TAG).data(data);
        sendCommand(task, nop, false);
        Pdu answer = await(task.future);
        if (!Arrays.equals(answer.data(), data)) {
            throw new ProtocolViolationException("NOP-In did not echo the ping data");
        }
        return answer;
    }

    /**
     * Task management request (immediate). Returns the TMF Response code (0 = function complete).
     *
     * @param function        RFC 7143 section 11.5.1 (1 ABORT TASK, 2 ABORT TASK SET, 3 CLEAR ACA,
     *                        4 CLEAR TASK SET, 5 LOGICAL UNIT RESET, 6 TARGET WARM RESET, ...)
     * @param referencedItt   task to abort for ABORT TASK, else 0xffffffff
     * @param refCmdSn        CmdSN of the referenced task
     */
    public int taskManagement(int function, int lun, int referencedItt, int refCmdSn) throws IOException {
        SimpleTask task = new SimpleTask(allocateItt(), Opcode.TASK_MGMT_RESPONSE);
        Pdu tmf = Pdu.create(Opcode.TASK_MGMT_REQUEST).flags(0x80 | (function & 0x7f)).lun(Lun.encode(lun))
                .itt(task.itt).putInt(Pdu.OFF_WORD20, referencedItt).putInt(Pdu.OFF_WORD32, refCmdSn);
        sendCommand(task, tmf, true);
        return await(task.future).byte2();
    }

    /** ABORT TASK for a command submitted on this session, identified by its future. */
    public int abortTask(int lun, CompletableFuture<ScsiResult> command) throws IOException {
        for (PendingTask t : tasks.values()) {
            if (t instanceof ScsiTask st && st.future == command) {
                return taskManagement(1, lun, st.itt, st.cmdSn);
            }
        }
        throw new IllegalStateException("command already completed or unknown");
    }

    /** Text request, following C-bit continuations; returns all answered keys. */
    public TextParameters text(TextParameters request) throws IOException {
        TextParameters collected = new TextParameters();
        java.io.ByteArrayOutputStream accumulated = new java.io.ByteArrayOutputStream();
        int itt = allocateItt();
        int ttt = Pdu.RESERVED_TAG;
        byte[] payload = request.encode();
        for (int round = 0; round < 64; round++) {
            SimpleTask task = new SimpleTask(itt, Opcode.TEXT_RESPONSE);
            Pdu pdu = Pdu.create(Opcode.TEXT_REQUEST).setFinal(true).itt(itt).ttt(ttt).data(payload)
                    .lun(0);
            sendCommand(task, pdu, false);
            Pdu answer = await(task.future);
            accumulated.writeBytes(answer.data());
            if ((answer.flags() & TEXT_FLAG_CONTINUE) == 0) {
                if (!answer.isFinal()) {
                    throw new ProtocolViolationException("Text Response without F and without C");
                }
                TextParameters.decode(accumulated.toByteArray()).pairs()
                        .forEach(e -> collected.add(e.getKey(), e.getValue()));
                return collected;
            }
            ttt = answer.ttt();
            payload = new byte[0];
        }
        throw new ProtocolViolationException("text exchange did not finish in 64 rounds");
    }

    public List<DiscoveredTarget> sendTargets(String value) throws IOException {
        return DiscoveredTarget.parse(text(new TextParameters().add("SendTargets", value)));
    }

    /** Logout (close the session); returns the Logout Response code and closes the connection. */
    public int logout() throws IOException {
        SimpleTask task = new SimpleTask(allocateItt(), Opcode.LOGOUT_RESPONSE);
        Pdu pdu = Pdu.create(Opcode.LOGOUT_REQUEST).flags(0x80).itt(task.itt)
                .putShort(Pdu.OFF_WORD20, options.cid);
        closing = true;
        sendCommand(task, pdu, false);
        try {
            return await(task.future).byte2();
        } finally {
            close();
        }
    }

    /** Sends a fully built PDU as is, outside any task bookkeeping (for mixed raw/normal tests). */
    public void sendRawPdu(Pdu pdu) throws IOException {
        channel.send(pdu);
    }

    public void sendRawBytes(byte[] bytes) throws IOException {
        channel.sendRaw(bytes);
    }

    /** Drops the TCP connection without logout. Pending commands fail. */
    @Override
    public void close() {
        closing = true;
        channel.close();
        sender.shutdownNow();
        try {
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failAll(new EOFException("session closed by initiator"));
    }

    // ------------------------------------------------------------------ sequence numbers

    private int allocateItt() {
        int itt;
        do {
            itt = nextItt.getAndIncrement();
        } while (itt == Pdu.RESERVED_TAG || itt == 0);
        return itt;
    }

    private void ensureOpen() throws IOException {
        if (!isOpen()) {
            throw new EOFException("connection closed: " + closeCause);
        }
    }

    /** Sends a request that is not a SCSI command; immediate requests carry CmdSN without advancing it. */
    private void sendCommand(PendingTask task, Pdu pdu, boolean immediate) throws IOException {
        ensureOpen();
        tasks.put(task.itt(), task);
        cmdSnLock.lock();
        try {
            if (immediate) {
                pdu.immediate(true).cmdSn(cmdSn);
            } else {
                awaitWindow(1);
                pdu.cmdSn(cmdSn++);
            }
            pdu.expStatSn(expStatSn);
            channel.send(pdu);
        } catch (IOException | RuntimeException e) {
            tasks.remove(task.itt());
            throw e;
        } finally {
            cmdSnLock.unlock();
        }
    }

    /** Waits (holding the CmdSN lock) until {@code count} more commands fit under MaxCmdSN. */
    private void awaitWindow(int count) throws IOException {
        long deadline = System.nanoTime() + commandTimeout.toNanos();
        synchronized (window) {
            while (serialGreater(cmdSn + count - 1, maxCmdSn)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("CmdSN window stayed closed: CmdSN " + cmdSn + " (+" + count
                            + "), MaxCmdSN " + maxCmdSn);
                }
                try {
                    window.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                ensureOpen();
            }
        }
    }

    /** RFC 1982 serial comparison on 32 bits. */
    static boolean serialGreater(int a, int b) {
        return a != b && (a - b) > 0;
    }

    private void updateWindow(Pdu pdu) {
        int exp = pdu.expCmdSn();
        int max = pdu.maxCmdSn();
        if (serialGreater(exp, max + 1)) {
            violation(Violation.Kind.COMMAND_WINDOW, "MaxCmdSN " + max + " < ExpCmdSN-1 (" + exp + ") in " + Opcode.name(pdu.opcode()));
            return;
        }
        synchronized (window) {
            if (serialGreater(exp, expCmdSn)) {
                expCmdSn = exp;
            }
            if (serialGreater(max, maxCmdSn)) {
                maxCmdSn = max;
                window.notifyAll();
            }
        }
    }

    /** For PDUs whose StatSN consumes a number: check order and advance ExpStatSN. */
    private void acceptStatSn(Pdu pdu, boolean strict) {
        int statSn = pdu.statSn();
        if (strict && statSn != expStatSn) {
            violation(Violation.Kind.STAT_SN, "StatSN " + statSn + " but expected " + expStatSn + " in " + Opcode.name(pdu.opcode()));
        }
        if (!serialGreater(expStatSn, statSn + 1)) {
            expStatSn = statSn + 1;
        }
    }

    private void violation(Violation.Kind kind, String message) {
        violations.add(new Violation(kind, message));
    }

    // ------------------------------------------------------------------ receive side

    private void readLoop() {
        Throwable cause = null;
        try {
            while (true) {
                Pdu pdu = channel.receiveIdle(options.timeout(), () -> closing && !channel.isOpen());
                dispatch(pdu);
            }
        } catch (Throwable t) {
            cause = t;
        } finally {
            closeCause = cause;
            channel.close();
            failAll(cause instanceof IOException ? cause : new IOException("reader stopped", cause));
            closedFuture.complete(cause);
        }
    }

    private void dispatch(Pdu pdu) {
        switch (pdu.opcode()) {
            case Opcode.DATA_IN, Opcode.SCSI_RESPONSE, Opcode.R2T -> {
                if (pdu.opcode() == Opcode.SCSI_RESPONSE
                        || (pdu.opcode() == Opcode.DATA_IN && (pdu.flags() & DATA_IN_FLAG_STATUS) != 0)) {
                    acceptStatSn(pdu, true);
                }
                updateWindow(pdu);
                deliver(pdu);
            }
            case Opcode.NOP_IN -> onNopIn(pdu);
            case Opcode.TASK_MGMT_RESPONSE, Opcode.TEXT_RESPONSE, Opcode.LOGOUT_RESPONSE -> {
                acceptStatSn(pdu, true);
                updateWindow(pdu);
                deliver(pdu);
            }
            case Opcode.REJECT -> onReject(pdu);
            case Opcode.ASYNC_MESSAGE -> {
                acceptStatSn(pdu, false);
                updateWindow(pdu);
                asyncMessages.add(pdu);
            }
            default -> throw new ProtocolViolationException("unexpected PDU from target: " + pdu);
        }
    }

    private void deliver(Pdu pdu) {
        PendingTask task = tasks.get(pdu.itt());
        if (task == null) {
            violation(Violation.Kind.UNKNOWN_TASK_TAG, "PDU for unknown ITT: " + pdu);
            return;
        }
        try {
            if (task.onPdu(pdu)) {
                tasks.remove(pdu.itt());
            }
        } catch (RuntimeException e) {
            tasks.remove(pdu.itt());
            task.fail(e);
        }
    }

    private void onNopIn(Pdu pdu) {
        updateWindow(pdu);
        if (pdu.itt() != Pdu.RESERVED_TAG) {
            acceptStatSn(pdu, true);
            deliver(pdu);
            return;
        }
        // unsolicited NOP-In: StatSN is not advanced (RFC 7143 section 11.19)
        if (pdu.statSn() != expStatSn) {
            violation(Violation.Kind.STAT_SN, "unsolicited NOP-In StatSN " + pdu.statSn() + " != ExpStatSN " + expStatSn);
        }
        if (pdu.ttt() != Pdu.RESERVED_TAG) {
            sender.execute(() -> {
                Pdu reply = Pdu.create(Opcode.NOP_OUT).immediate(true).setFinal(true).lun(pdu.lun())
                        .itt(Pdu.RESERVED_TAG).ttt(pdu.ttt()).data(pdu.data());
                try {
                    cmdSnLock.lock();
                    try {
                        reply.cmdSn(cmdSn).expStatSn(expStatSn);
                        channel.send(reply);
                    } finally {
                        cmdSnLock.unlock();
                    }
                    nopInsAnswered.incrementAndGet();
                } catch (IOException e) {
                    channel.close();
                }
            });
        }
    }

    private void onReject(Pdu pdu) {
        acceptStatSn(pdu, false);
        updateWindow(pdu);
        rejects.add(pdu);
        if (pdu.data().length >= Pdu.BHS_LENGTH) {
            Pdu rejected = Pdu.wrap(Arrays.copyOf(pdu.data(), Pdu.BHS_LENGTH), new byte[0], new byte[0]);
            PendingTask task = tasks.remove(rejected.itt());
            if (task != null) {
                task.fail(new RejectedException(pdu.byte2(), rejected));
            }
        }
    }

    private void failAll(Throwable cause) {
        for (Integer itt : List.copyOf(tasks.keySet())) {
            PendingTask task = tasks.remove(itt);
            if (task != null) {
                task.fail(cause);
            }
        }
    }

    // ------------------------------------------------------------------ tasks

    private sealed interface PendingTask permits SimpleTask, ScsiTask {
        int itt();

        /** Handles one PDU for this task; true when the task is finished. */
        boolean onPdu(Pdu pdu);

        void fail(Throwable cause);
    }

    /** A request answered by exactly one PDU of a known opcode. */
    private static final class SimpleTask implements PendingTask {
        final int itt;
        final int expectedOpcode;
        final CompletableFuture<Pdu> future = new CompletableFuture<>();

        SimpleTask(int itt, int expectedOpcode) {
            this.itt = itt;
            this.expectedOpcode = expectedOpcode;
        }

        @Override
        public int itt() { return itt; }

        @Override
        public boolean onPdu(Pdu pdu) {
            if (pdu.opcode() != expectedOpcode) {
                throw new ProtocolViolationException("expected " + Opcode.name(expectedOpcode) + ", got " + pdu);
            }
            future.complete(pdu);
            return true;
        }

        @Override
        public void fail(Throwable cause) {
            future.completeExceptionally(cause);
        }
    }

    /** One SCSI command: Data-In collection, Data-Out generation, status. */
    private final class ScsiTask implements PendingTask {
        final int itt;
        final ScsiRequest request;
        final CompletableFuture<ScsiResult> future = new CompletableFuture<>();
        int cmdSn;
        // read side (reader thread only)
        final byte[] readBuffer;
        int received;
        int nextDataSn;
        int sequenceBytes;
        boolean sequenceOverrunReported;
        int dataInPdus;
        // write side
        final int immediateLength;
        final int unsolicitedLength;
        int nextR2tSn;
        int r2ts;
        final AtomicInteger outstandingR2ts = new AtomicInteger();

        ScsiTask(int itt, ScsiRequest request) {
            this.itt = itt;
            this.request = request;
            this.readBuffer = request.direction() == DataDirection.READ ? new byte[request.expectedLength()] : null;
            if (request.direction() == DataDirection.WRITE) {
                int total = Math.min(request.writeData().length, request.expectedLength());
                int unsolicitedLimit = params.initialR2T() && !params.immediateData()
                        ? 0 : Math.min(params.firstBurstLength(), total);
                this.immediateLength = params.immediateData()
                        ? Math.min(unsolicitedLimit, params.targetMaxRecvDataSegmentLength()) : 0;
                this.unsolicitedLength = params.initialR2T() ? immediateLength : unsolicitedLimit;
            } else {
                this.immediateLength = 0;
                this.unsolicitedLength = 0;
            }
        }

        @Override
        public int itt() { return itt; }

        Pdu commandPdu() {
            int flags = request.taskAttribute() & 0x07;
            if (request.direction() == DataDirection.READ) {
                flags |= SCSI_FLAG_READ;
            } else if (request.direction() == DataDirection.WRITE) {
                flags |= SCSI_FLAG_WRITE;
            }
            if (unsolicitedLength == immediateLength) {
                flags |= Pdu.FLAG_FINAL; // no unsolicited Data-Out follows
            }
            byte[] cdb = Arrays.copyOf(request.cdb(), 16);
            Pdu pdu = Pdu.create(Opcode.SCSI_COMMAND).flags(flags).lun(Lun.encode(request.lun())).itt(itt)
                    .putInt(Pdu.OFF_WORD20, request.expectedLength()).cmdSn(cmdSn).putBytes(Pdu.OFF_CDB, cdb);
            if (immediateLength > 0) {
                pdu.data(Arrays.copyOf(request.writeData(), immediateLength));
            }
            return pdu;
        }

        /** Unsolicited Data-Out after the command (InitialR2T=No), from the submitting thread. */
        void sendUnsolicitedData() throws IOException {
            if (unsolicitedLength > immediateLength) {
                sendDataOut(Pdu.RESERVED_TAG, immediateLength, unsolicitedLength - immediateLength, false);
            }
        }

        /** One Data-Out sequence: PDUs of at most the target's MaxRecvDataSegmentLength, DataSN from 0. */
        void sendDataOut(int ttt, int offset, int length, boolean solicited) throws IOException {
            int chunk = params.targetMaxRecvDataSegmentLength();
            int dataSn = 0;
            for (int done = 0; done < length; ) {
                int n = Math.min(chunk, length - done);
                boolean last = done + n == length;
                Pdu pdu = Pdu.create(Opcode.DATA_OUT).setFinal(last).lun(Lun.encode(request.lun())).itt(itt).ttt(ttt)
                        .expStatSn(expStatSn).putInt(Pdu.OFF_WORD36, dataSn++).putInt(Pdu.OFF_WORD40, offset + done)
                        .data(Arrays.copyOfRange(request.writeData(), offset + done, offset + done + n));
                if (last && solicited) {
                    outstandingR2ts.decrementAndGet();
                }
                channel.send(pdu);
                done += n;
            }
        }

        @Override
        public boolean onPdu(Pdu pdu) {
            return switch (pdu.opcode()) {
                case Opcode.DATA_IN -> onDataIn(pdu);
                case Opcode.R2T -> {
                    onR2t(pdu);
                    yield false;
                }
                case Opcode.SCSI_RESPONSE -> onResponse(pdu);
                default -> throw new ProtocolViolationException("unexpected " + pdu + " for SCSI task");
            };
        }

        private boolean onDataIn(Pdu pdu) {
            if (request.direction() != DataDirection.READ) {
                throw new ProtocolViolationException("Data-In for a command that reads nothing");
            }
            int dataSn = pdu.word36();
            if (dataSn != nextDataSn) {
                throw new ProtocolViolationException("Data-In DataSN " + dataSn + ", expected " + nextDataSn);
            }
            nextDataSn++;
            dataInPdus++;
            int offset = pdu.word40();
            int length = pdu.data().length;
            if (length > params.initiatorMaxRecvDataSegmentLength()) {
                throw new ProtocolViolationException("Data-In of " + length + " bytes exceeds our MaxRecvDataSegmentLength "
                        + params.initiatorMaxRecvDataSegmentLength());
            }
            if (offset < 0 || (long) offset + length > readBuffer.length) {
                throw new ProtocolViolationException("Data-In offset " + offset + "+" + length
                        + " outside expected length " + readBuffer.length);
            }
            if (params.dataPduInOrder() && offset != received) {
                throw new ProtocolViolationException("Data-In offset " + offset + ", expected " + received);
            }
            System.arraycopy(pdu.data(), 0, readBuffer, offset, length);
            received = Math.max(received, offset + length);
            sequenceBytes += length;
            if (sequenceBytes > params.maxBurstLength() && !sequenceOverrunReported) {
                sequenceOverrunReported = true;
                violation(Violation.Kind.DATA_IN_SEQUENCE_OVER_MAX_BURST, "Data-In sequence of " + sequenceBytes
                        + " bytes exceeds MaxBurstLength " + params.maxBurstLength() + " (ITT " + itt + ")");
            }
            if (pdu.isFinal()) {
                sequenceBytes = 0;
            }
            if ((pdu.flags() & DATA_IN_FLAG_STATUS) == 0) {
                return false;
            }
            if (!pdu.isFinal()) {
                throw new ProtocolViolationException("Data-In with S bit but without F bit");
            }
            int flags = pdu.flags();
            complete(0, pdu.byte3(), null, (flags & RESP_FLAG_UNDERFLOW) != 0, (flags & RESP_FLAG_OVERFLOW) != 0,
                    pdu.word44(), true);
            return true;
        }

        private void onR2t(Pdu pdu) {
            if (request.direction() != DataDirection.WRITE) {
                throw new ProtocolViolationException("R2T for a command that writes nothing");
            }
            int r2tSn = pdu.word36();
            if (r2tSn != nextR2tSn) {
                throw new ProtocolViolationException("R2TSN " + r2tSn + ", expected " + nextR2tSn);
            }
            nextR2tSn++;
            r2ts++;
            int offset = pdu.word40();
            int length = pdu.word44();
            if (length <= 0 || length > params.maxBurstLength()) {
                throw new ProtocolViolationException("R2T desired length " + length + " not in 1.."
                        + params.maxBurstLength());
            }
            if (offset < unsolicitedLength || (long) offset + length > request.expectedLength()) {
                throw new ProtocolViolationException("R2T asks for " + offset + "+" + length + ", unsolicited part "
                        + unsolicitedLength + ", expected length " + request.expectedLength());
            }
            if (pdu.ttt() == Pdu.RESERVED_TAG) {
                throw new ProtocolViolationException("R2T with reserved TTT");
            }
            if (outstandingR2ts.incrementAndGet() > params.maxOutstandingR2T()) {
                throw new ProtocolViolationException("more than MaxOutstandingR2T=" + params.maxOutstandingR2T()
                        + " R2Ts outstanding");
            }
            int ttt = pdu.ttt();
            Runnable answer = () -> {
                try {
                    sendDataOut(ttt, offset, length, true);
                } catch (IOException e) {
                    fail(e);
                }
            };
            CompletableFuture<Void> gate = dataOutGate;
            if (gate.isDone()) {
                sender.execute(answer);
            } else {
                r2tsHeld.incrementAndGet();
                gate.thenRunAsync(answer, sender);
            }
        }

        private boolean onResponse(Pdu pdu) {
            int flags = pdu.flags();
            if (!pdu.isFinal()) {
                throw new ProtocolViolationException("SCSI Response without F bit");
            }
            if ((flags & (RESP_FLAG_BIDI_OVERFLOW | RESP_FLAG_BIDI_UNDERFLOW)) != 0) {
                violation(Violation.Kind.RESPONSE_FLAGS, "bidirectional residual flags on a unidirectional command: " + pdu);
            }
            // RFC 7143 11.4.8: ExpDataSN counts the R2T and Data-In PDUs sent, yet MUST be 0 when no Data-In
            // was sent; for writes both readings (R2T count or 0) are accepted
            int expDataSn = pdu.word36();
            boolean plausible = request.direction() == DataDirection.WRITE
                    ? expDataSn == 0 || expDataSn == r2ts
                    : expDataSn == dataInPdus;
            if (pdu.byte2() == 0 && !plausible) {
                violation(Violation.Kind.EXP_DATA_SN, "SCSI Response ExpDataSN " + expDataSn + " but target sent "
                        + dataInPdus + " Data-In and " + r2ts + " R2T PDUs (ITT " + itt + ")");
            }
            byte[] sense = null;
            byte[] data = pdu.data();
            if (data.length >= 2) {
                int senseLength = ((data[0] & 0xff) << 8) | (data[1] & 0xff);
                if (senseLength + 2 > data.length) {
                    throw new ProtocolViolationException("SenseLength " + senseLength + " beyond data segment "
                            + data.length);
                }
                sense = Arrays.copyOfRange(data, 2, 2 + senseLength);
            } else if (data.length == 1) {
                throw new ProtocolViolationException("1-byte data segment in SCSI Response");
            }
            complete(pdu.byte2(), pdu.byte3(), sense, (flags & RESP_FLAG_UNDERFLOW) != 0,
                    (flags & RESP_FLAG_OVERFLOW) != 0, pdu.word44(), false);
            return true;
        }

        private void complete(int response, int status, byte[] sense, boolean underflow, boolean overflow,
                              int residual, boolean collapsed) {
            if (underflow && overflow) {
                throw new ProtocolViolationException("both U and O bits set");
            }
            if (!underflow && !overflow && residual != 0) {
                throw new ProtocolViolationException("residual " + residual + " without U or O");
            }
            byte[] data = readBuffer == null ? new byte[0] : Arrays.copyOf(readBuffer, received);
            if (request.direction() == DataDirection.READ && response == 0 && status == ScsiResult.GOOD) {
                int promised = underflow ? request.expectedLength() - residual : request.expectedLength();
                if (received != promised) {
                    throw new ProtocolViolationException("GOOD read delivered " + received + " bytes, but expected "
                            + request.expectedLength() + " with " + (underflow ? "underflow " + residual : "no residual"));
                }
            }
            Sense decoded = Sense.decode(sense);
            future.complete(new ScsiResult(response, status, data, decoded, underflow, overflow, residual,
                    dataInPdus, r2ts, collapsed, cmdSn));
        }

        @Override
        public void fail(Throwable cause) {
            future.completeExceptionally(cause);
        }
    }

    /** The target answered a request with a Reject PDU. */
    public static final class RejectedException extends IOException {
        private final int reason;
        private final transient Pdu rejectedHeader;

        public RejectedException(int reason, Pdu rejectedHeader) {
            super(String.format("rejected by target, reason 0x%02x: %s", reason, rejectedHeader));
            this.reason = reason;
            this.rejectedHeader = rejectedHeader;
        }

        public int reason() { return reason; }
        public Pdu rejectedHeader() { return rejectedHeader; }
    }
}
