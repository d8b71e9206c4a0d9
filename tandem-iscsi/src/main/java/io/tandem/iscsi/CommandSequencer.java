package io.tandem.iscsi;

import io.tandem.iscsi.pdu.Bhs;
import java.util.TreeMap;

/**
 * The session's command window (RFC 7143 §4.2.2.1). Non-immediate commands run in CmdSN order,
 * whatever order they arrive in; commands outside [ExpCmdSN, MaxCmdSN] are dropped silently.
 *
 * <p>MaxCmdSN = ExpCmdSN - 1 + (depth - commands in flight), so the window only ever moves
 * forward and bounds the work one session can queue on the target.
 */
final class CommandSequencer {

    enum Verdict { DELIVERED, QUEUED, OUT_OF_WINDOW }

    private final int depth;
    private final TreeMap<Integer, Runnable> waiting = new TreeMap<>(Integer::compareUnsigned);
    private int expCmdSn;
    private int inFlight;
    private int maxCmdSn;

    CommandSequencer(int firstCmdSn, int depth) {
        this.depth = depth;
        this.expCmdSn = firstCmdSn;
        this.maxCmdSn = firstCmdSn - 1 + depth;
    }

    /**
     * Offers a command. In-order commands (and immediate ones) run {@code action} at once, followed
     * by any queued commands that became in order; the caller must call {@link #completed()} once
     * per delivered non-immediate command when it finishes.
     *
     * <p>Actions run on the calling thread but outside this object's lock: an action may complete
     * synchronously and send a response, which reads the window under the connection's writer
     * lock. Only the connection's reader thread offers, so running them after unlocking keeps
     * CmdSN order.
     */
    Verdict offer(int cmdSn, boolean immediate, Runnable action) {
        if (immediate) {
            action.run();
            return Verdict.DELIVERED;
        }
        java.util.List<Runnable> ready = new java.util.ArrayList<>(1);
        Verdict verdict;
        synchronized (this) {
            if (Bhs.serialLess(cmdSn, expCmdSn) || Bhs.serialLess(maxCmdSn, cmdSn) || waiting.containsKey(cmdSn)) {
                return Verdict.OUT_OF_WINDOW;
            }
            if (cmdSn != expCmdSn) {
                waiting.put(cmdSn, action);
                return Verdict.QUEUED;
            }
            deliver(action, ready);
            Runnable next;
            while ((next = waiting.remove(expCmdSn)) != null) {
                deliver(next, ready);
            }
            verdict = Verdict.DELIVERED;
        }
        for (Runnable r : ready) {
            r.run();
        }
        return verdict;
    }

    /**
     * RFC 7143 11.5.1, ABORT TASK of a command that never arrived: when {@code cmdSn} lies in the
     * window and before {@code before} (the task management request's CmdSN) and has not been
     * received, it is considered received, as a command that ends at once; the command itself, if
     * it still comes, is then outside the window or a duplicate and dropped. Returns whether it did.
     */
    boolean consumeMissing(int cmdSn, int before) {
        java.util.List<Runnable> ready = new java.util.ArrayList<>(1);
        synchronized (this) {
            if (Bhs.serialLess(cmdSn, expCmdSn) || Bhs.serialLess(maxCmdSn, cmdSn) || !Bhs.serialLess(cmdSn, before)
                    || waiting.containsKey(cmdSn)) {
                return false;
            }
            Runnable consumed = this::completed;
            if (cmdSn != expCmdSn) {
                waiting.put(cmdSn, consumed);
                return true;
            }
            deliver(consumed, ready);
            Runnable next;
            while ((next = waiting.remove(expCmdSn)) != null) {
                deliver(next, ready);
            }
        }
        for (Runnable r : ready) {
            r.run();
        }
        return true;
    }

    private void deliver(Runnable action, java.util.List<Runnable> ready) {
        expCmdSn++;
        inFlight++;
        ready.add(action);
    }

    /** A delivered command finished: the window opens by one. */
    synchronized void completed() {
        inFlight--;
        int candidate = expCmdSn - 1 + depth - inFlight - waiting.size();
        if (Bhs.serialLess(maxCmdSn, candidate)) {
            maxCmdSn = candidate;
        }
    }

    synchronized int expCmdSn() {
        return expCmdSn;
    }

    synchronized int maxCmdSn() {
        return maxCmdSn;
    }
}
