package io.tandem.it.initiator;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * Raw mode for bad-input tests: a connection (logged in or not) on which the test writes any bytes or
 * hand-built PDUs and reads back whatever comes, with no reader thread and no automatic behaviour.
 * Sequence numbers are tracked only as a convenience for building plausible PDUs.
 */
public final class RawConnection implements AutoCloseable {
    private final PduChannel channel;
    private final LoginResult login;
    private int cmdSn;
    private int expStatSn;
    private int nextItt = 0x100;

    private RawConnection(PduChannel channel, LoginResult login) {
        this.channel = channel;
        this.login = login;
        if (login != null) {
            this.cmdSn = login.nextCmdSn();
            this.expStatSn = login.expStatSn();
        }
    }

    /** TCP connection only; the test drives login itself (or sends garbage instead). */
    public static RawConnection connect(InetSocketAddress portal) throws IOException {
        return new RawConnection(PduChannel.connect(portal, IscsiSession.DEFAULT_TIMEOUT), null);
    }

    /** Connection logged in to full-feature phase with the normal login code. */
    public static RawConnection login(InetSocketAddress portal, LoginOptions options) throws IOException {
        PduChannel channel = PduChannel.connect(portal, options.timeout());
        try {
            return new RawConnection(channel, LoginNegotiator.login(channel, options));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public LoginResult loginResult() { return login; }
    public PduChannel channel() { return channel; }
    public int cmdSn() { return cmdSn; }
    public int expStatSn() { return expStatSn; }

    public int newItt() {
        return nextItt++;
    }

    /** Stamps CmdSN (advancing it) and ExpStatSN into a non-immediate request. */
    public Pdu sequence(Pdu pdu) {
        return pdu.cmdSn(cmdSn++).expStatSn(expStatSn);
    }

    /** Stamps CmdSN (not advancing it) and ExpStatSN into an immediate request. */
    public Pdu sequenceImmediate(Pdu pdu) {
        return pdu.immediate(true).cmdSn(cmdSn).expStatSn(expStatSn);
    }

    /** A SCSI Command PDU with no data, CmdSN stamped; the caller may still edit any field. */
    public Pdu scsiCommand(int lun, byte[] cdb, DataDirection direction, int expectedLength) {
        int flags = Pdu.FLAG_FINAL | ScsiRequest.SIMPLE
                | (direction == DataDirection.READ ? 0x40 : direction == DataDirection.WRITE ? 0x20 : 0);
        byte[] cdb16 = java.util.Arrays.copyOf(cdb, 16);
        return sequence(Pdu.create(Opcode.SCSI_COMMAND).flags(flags).lun(Lun.encode(lun)).itt(newItt())
                .putInt(Pdu.OFF_WORD20, expectedLength).putBytes(Pdu.OFF_CDB, cdb16));
    }

    /** Sends with lengths filled from the segments. */
    public void send(Pdu pdu) throws IOException {
        channel.send(pdu);
    }

    /** Sends with the lengths already in the header, whatever the segments are. */
    public void sendAsIs(Pdu pdu) throws IOException {
        channel.sendAsIs(pdu);
    }

    public void sendBytes(byte[] bytes) throws IOException {
        channel.sendRaw(bytes);
    }

    /** Next PDU, or throws SocketTimeoutException / EOFException. Tracks StatSN as it goes. */
    public Pdu receive(Duration timeout) throws IOException {
        Pdu pdu = channel.receive(timeout);
        int op = pdu.opcode();
        boolean carriesStatus = op == Opcode.SCSI_RESPONSE || op == Opcode.TASK_MGMT_RESPONSE
                || op == Opcode.TEXT_RESPONSE || op == Opcode.LOGOUT_RESPONSE || op == Opcode.REJECT
                || op == Opcode.LOGIN_RESPONSE
                || (op == Opcode.DATA_IN && (pdu.flags() & 0x01) != 0)
                || (op == Opcode.NOP_IN && pdu.itt() != Pdu.RESERVED_TAG);
        if (carriesStatus) {
            expStatSn = pdu.statSn() + 1;
        }
        return pdu;
    }

    /** What happened when waiting for the target. */
    public sealed interface Outcome permits Received, Closed, Silent {}

    public record Received(Pdu pdu) implements Outcome {}

    public record Closed(String how) implements Outcome {}

    public record Silent() implements Outcome {}

    /** Next PDU, or notice that the target closed the connection, or silence for the whole timeout. */
    public Outcome next(Duration timeout) {
        try {
            return new Received(receive(timeout));
        } catch (SocketTimeoutException e) {
            return new Silent();
        } catch (EOFException e) {
            return new Closed("EOF: " + e.getMessage());
        } catch (IOException e) {
            return new Closed(e.toString());
        }
    }

    /** True if the target closes the connection within the timeout (anything it sends is discarded). */
    public boolean awaitClose(Duration timeout) {
        return channel.awaitPeerClose(timeout);
    }

    @Override
    public void close() {
        channel.close();
    }
}
