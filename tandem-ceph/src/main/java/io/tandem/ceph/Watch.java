package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A watch on one RADOS object ({@code rados_watch3}): the OSD serving the object delivers every
 * notification sent to it ({@link Notify#send}) to this client, which answers with {@link #ack}.
 * The client pings the OSD to keep the watch; the OSD drops a watch it has not heard from for
 * the watch's timeout, and the client then learns of it through {@link Listener#failed} (or an
 * error from {@link #checkMillis()}).
 *
 * <p>Callbacks arrive on librados threads, one at a time per client, in the order the OSD sent
 * them. The listener must return quickly and must not call librados from inside the callback
 * (acknowledge later, from another thread). The callback argument handed to librados is an id, not
 * a pointer: a callback for a watch already closed finds nothing and is dropped.
 */
public final class Watch implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Watch.class.getName());

    /** What a watch hears. Called on librados threads; must not block. */
    public interface Listener {

        /** A notification; acknowledge it with {@link Watch#ack} (now or later) or the notifier times out on this watch. */
        void notified(Watch watch, Notification notification);

        /**
         * The watch is broken and delivers nothing more (ENOTCONN: the OSD dropped it, e.g. after
         * its timeout; ESHUTDOWN: this client was blocklisted). The watch must be closed; a new
         * one can be started.
         */
        void failed(Watch watch, CephException error);
    }

    /**
     * One notification.
     *
     * @param notifyId   identifies the notification (for {@link Watch#ack})
     * @param cookie     the watch it was delivered to
     * @param notifierId the instance id ({@link Rados#instanceId()}) of the client that sent it
     * @param payload    what the notifier sent
     */
    public record Notification(long notifyId, long cookie, long notifierId, byte[] payload) {
    }

    private static final Map<Long, Watch> REGISTRY = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private final IoCtx io;
    private final String oid;
    private final long id;
    private final Listener listener;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment nativeOid;
    private volatile long cookie;
    private volatile boolean closed;

    private Watch(IoCtx io, String oid, long id, Listener listener) {
        this.io = io;
        this.oid = oid;
        this.id = id;
        this.listener = listener;
        this.nativeOid = Native.cString(arena, oid);
    }

    /**
     * Registers a watch on {@code oid} (which must exist: ENOENT otherwise) and returns once the
     * OSD has it.
     *
     * @param timeoutSeconds how long the OSD keeps the watch without hearing from this client (0:
     *                       the cluster's {@code osd_client_watch_timeout}, 30 s by default). The
     *                       client pings every {@code objecter_tick_interval} (5 s by default),
     *                       which must be well below it.
     */
    public static Watch start(IoCtx io, String oid, int timeoutSeconds, Listener listener) {
        Objects.requireNonNull(listener, "listener");
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("watch timeout " + timeoutSeconds + " s");
        }
        long id = IDS.incrementAndGet();
        Watch w = new Watch(io, oid, id, listener);
        REGISTRY.put(id, w); // before the call: a notification may arrive before it returns
        io.lifetime().enter();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment cookieOut = call.allocate(JAVA_LONG);
            int r = (int) LibRadosWatch.watch3.invokeExact(io.handle(), w.nativeOid, cookieOut, Upcalls.WATCH, Upcalls.ERROR,
                    timeoutSeconds, MemorySegment.ofAddress(id));
            CephException.check("rados_watch3(" + oid + ")", r);
            w.cookie = cookieOut.get(JAVA_LONG, 0);
            return w;
        } catch (Throwable t) {
            REGISTRY.remove(id);
            throw Native.rethrow(t);
        } finally {
            io.lifetime().exit();
        }
    }

    public String oid() {
        return oid;
    }

    public IoCtx ioContext() {
        return io;
    }

    /** The watch's handle (what notify replies name it by, with the client's instance id). */
    public long cookie() {
        return cookie;
    }

    /**
     * Milliseconds since the OSD last confirmed this watch (its reply to a ping), as librados
     * measures it; throws the watch's error when it is broken (ENOTCONN, ESHUTDOWN, ...).
     */
    public long checkMillis() {
        io.lifetime().enter();
        try {
            int r = (int) LibRadosWatch.watchCheck.invokeExact(io.handle(), cookie);
            return CephException.check("rados_watch_check(" + oid + ")", r);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            io.lifetime().exit();
        }
    }

    /**
     * Acknowledges a notification with a payload the notifier receives in its reply. Asynchronous
     * in librados (nothing waits for the OSD); not to be called from inside a callback.
     */
    public void ack(Notification notification, byte[] payload) {
        io.lifetime().enter();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buf = Native.copy(call, payload);
            int r = (int) LibRadosWatch.notifyAck.invokeExact(io.handle(), nativeOid, notification.notifyId(),
                    notification.cookie(), buf, payload.length);
            CephException.check("rados_notify_ack(" + oid + ")", r);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            io.lifetime().exit();
        }
    }

    /**
     * Unregisters the watch ({@code rados_unwatch2}); idempotent. Callbacks already under way may
     * still run; later ones are dropped. Throws when the OSD could not be told (the watch then
     * lapses by its timeout).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        io.lifetime().enter();
        try {
            int r = (int) LibRadosWatch.unwatch2.invokeExact(io.handle(), cookie);
            CephException.check("rados_unwatch2(" + oid + ")", r);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            REGISTRY.remove(id);
            io.lifetime().exit();
        }
    }

    /** Waits until every watch callback librados has queued for {@code rados}'s watches has run. */
    public static void flush(Rados rados) {
        rados.lifetime().enter();
        try {
            int r = (int) LibRadosWatch.watchFlush.invokeExact(rados.handle());
            CephException.check("rados_watch_flush", r);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            rados.lifetime().exit();
        }
    }

    @Override
    public String toString() {
        return "Watch[" + io.pool() + "/" + oid + ", cookie " + cookie + (closed ? ", closed" : "") + "]";
    }

    // ---------------------------------------------------------------- upcalls (librados threads)

    private static void onNotify(MemorySegment arg, long notifyId, long handle, long notifierId, MemorySegment data, long length) {
        try {
            Watch w = REGISTRY.get(arg.address());
            if (w == null || w.closed) {
                return;
            }
            byte[] payload = length <= 0 || data.equals(MemorySegment.NULL) ? new byte[0]
                    : data.reinterpret(length).toArray(JAVA_BYTE);
            w.listener.notified(w, new Notification(notifyId, handle, notifierId, payload));
        } catch (Throwable t) {
            // An exception must not unwind into librados (the JVM would abort).
            LOG.log(System.Logger.Level.ERROR, "watch listener failed on a notification", t);
        }
    }

    private static void onError(MemorySegment arg, long handle, int err) {
        try {
            Watch w = REGISTRY.get(arg.address());
            if (w == null || w.closed) {
                return;
            }
            w.listener.failed(w, CephException.of("watch on " + w.oid, err < 0 ? err : -err));
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "watch listener failed on an error", t);
        }
    }

    /** The two upcall stubs, made once per JVM. */
    private static final class Upcalls {
        static final MemorySegment WATCH;
        static final MemorySegment ERROR;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                WATCH = NativeLibrary.upcall(lookup.findStatic(Watch.class, "onNotify", MethodType.methodType(void.class,
                        MemorySegment.class, long.class, long.class, long.class, MemorySegment.class, long.class)),
                        LibRadosWatch.WATCH_CALLBACK);
                ERROR = NativeLibrary.upcall(lookup.findStatic(Watch.class, "onError", MethodType.methodType(void.class,
                        MemorySegment.class, long.class, int.class)), LibRadosWatch.ERROR_CALLBACK);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }
}
