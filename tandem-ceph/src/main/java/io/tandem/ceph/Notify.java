package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Notifications to the watchers of a RADOS object ({@code rados_notify2}).
 */
public final class Notify {

    private Notify() {
    }

    /** A watch as a notify reply names it: the watching client's instance id and the watch's cookie. */
    public record Watcher(long instanceId, long cookie) {
    }

    /** One watcher's acknowledgement and the payload it acknowledged with. */
    public record Ack(Watcher watcher, byte[] payload) {
    }

    /**
     * What came back: the watchers that acknowledged, and those the OSD had registered but that did
     * not acknowledge within the timeout. Together they are every watch the object had when the
     * notification went out (a watch the OSD had already dropped is in neither).
     */
    public record Reply(List<Ack> acks, List<Watcher> timedOut) {

        public Reply {
            acks = List.copyOf(acks);
            timedOut = List.copyOf(timedOut);
        }

        /** Every watcher the notification reached or tried to reach. */
        public List<Watcher> watchers() {
            List<Watcher> all = new ArrayList<>(acks.size() + timedOut.size());
            acks.forEach(a -> all.add(a.watcher()));
            all.addAll(timedOut);
            return all;
        }
    }

    /**
     * Sends {@code payload} to every watcher of {@code oid} and waits until each acknowledged or
     * {@code timeout} passed (the OSD counts whole seconds: at least one). A timeout is not an
     * error: the reply lists who did not answer. Blocks the calling thread in librados.
     */
    public static Reply send(IoCtx io, String oid, byte[] payload, Duration timeout) {
        long timeoutMillis = Math.max(1000, timeout.toMillis());
        io.lifetime().enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Native.copy(arena, payload);
            MemorySegment replyOut = arena.allocate(ADDRESS);
            MemorySegment lengthOut = arena.allocate(JAVA_LONG);
            int r = (int) LibRadosWatch.notify2.invokeExact(io.handle(), Native.cString(arena, oid), buf, payload.length,
                    timeoutMillis, replyOut, lengthOut);
            MemorySegment reply = replyOut.get(ADDRESS, 0);
            try {
                if (r < 0 && r != -Errno.ETIMEDOUT) {
                    throw CephException.of("rados_notify2(" + oid + ")", r);
                }
                if (reply.equals(MemorySegment.NULL)) {
                    return new Reply(List.of(), List.of());
                }
                return decode(arena, reply, lengthOut.get(JAVA_LONG, 0));
            } finally {
                if (!reply.equals(MemorySegment.NULL)) {
                    LibRadosWatch.bufferFree.invokeExact(reply);
                }
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            io.lifetime().exit();
        }
    }

    private static Reply decode(Arena arena, MemorySegment reply, long length) throws Throwable {
        MemorySegment acksOut = arena.allocate(ADDRESS);
        MemorySegment ackCount = arena.allocate(JAVA_LONG);
        MemorySegment timeoutsOut = arena.allocate(ADDRESS);
        MemorySegment timeoutCount = arena.allocate(JAVA_LONG);
        int r = (int) LibRadosWatch.decodeNotifyResponse.invokeExact(reply, length, acksOut, ackCount, timeoutsOut, timeoutCount);
        CephException.check("rados_decode_notify_response", r);
        MemorySegment acksAt = acksOut.get(ADDRESS, 0);
        long nAcks = ackCount.get(JAVA_LONG, 0);
        MemorySegment timeoutsAt = timeoutsOut.get(ADDRESS, 0);
        long nTimeouts = timeoutCount.get(JAVA_LONG, 0);
        try {
            List<Ack> acks = new ArrayList<>((int) nAcks);
            long ackSize = LibRadosWatch.NOTIFY_ACK.byteSize();
            MemorySegment a = nAcks == 0 ? MemorySegment.NULL : acksAt.reinterpret(nAcks * ackSize);
            for (long i = 0; i < nAcks; i++) {
                long base = i * ackSize;
                MemorySegment p = a.get(ADDRESS, base + 16);
                long len = a.get(JAVA_LONG, base + 24);
                byte[] payload = len <= 0 || p.equals(MemorySegment.NULL) ? new byte[0] : p.reinterpret(len).toArray(JAVA_BYTE);
                acks.add(new Ack(new Watcher(a.get(JAVA_LONG, base), a.get(JAVA_LONG, base + 8)), payload));
            }
            List<Watcher> timedOut = new ArrayList<>((int) nTimeouts);
            long timeoutSize = LibRadosWatch.NOTIFY_TIMEOUT.byteSize();
            MemorySegment t = nTimeouts == 0 ? MemorySegment.NULL : timeoutsAt.reinterpret(nTimeouts * timeoutSize);
            for (long i = 0; i < nTimeouts; i++) {
                timedOut.add(new Watcher(t.get(JAVA_LONG, i * timeoutSize), t.get(JAVA_LONG, i * timeoutSize + 8)));
            }
            return new Reply(acks, timedOut);
        } finally {
            LibRadosWatch.freeNotifyResponse.invokeExact(acksAt, nAcks, timeoutsAt);
        }
    }
}
