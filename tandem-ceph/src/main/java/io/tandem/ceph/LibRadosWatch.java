package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles and layouts of librados' watch/notify functions (and the OSD map wait that
 * fencing with them needs) ({@code rados/librados.h} and
 * {@code rados/rados_types.h}, Ceph 16). Kept apart from {@link LibRados} so the two parts of the
 * binding grow independently; touch only after {@link NativeLibrary#rados()} succeeded.
 */
final class LibRadosWatch {

    private LibRadosWatch() {
    }

    private static MethodHandle fn(String name, FunctionDescriptor descriptor) {
        return NativeLibrary.rados().function(name, descriptor);
    }

    /** {@code void (*rados_watchcb2_t)(void *arg, uint64_t notify_id, uint64_t handle, uint64_t notifier_id, void *data, size_t data_len)} */
    static final FunctionDescriptor WATCH_CALLBACK = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG);
    /** {@code void (*rados_watcherrcb_t)(void *pre, uint64_t cookie, int err)} */
    static final FunctionDescriptor ERROR_CALLBACK = FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT);

    /** {@code struct notify_ack_t { uint64_t notifier_id; uint64_t cookie; char *payload; uint64_t payload_len; }} */
    static final StructLayout NOTIFY_ACK = MemoryLayout.structLayout(
            JAVA_LONG.withName("notifier_id"), JAVA_LONG.withName("cookie"), ADDRESS.withName("payload"),
            JAVA_LONG.withName("payload_len"));
    /** {@code struct notify_timeout_t { uint64_t notifier_id; uint64_t cookie; }} */
    static final StructLayout NOTIFY_TIMEOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("notifier_id"), JAVA_LONG.withName("cookie"));

    /** int rados_watch3(rados_ioctx_t io, const char *o, uint64_t *cookie, rados_watchcb2_t watchcb, rados_watcherrcb_t watcherrcb, uint32_t timeout, void *arg) */
    static final MethodHandle watch3 = fn("rados_watch3",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
    /** int rados_watch_check(rados_ioctx_t io, uint64_t cookie) */
    static final MethodHandle watchCheck = fn("rados_watch_check", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** int rados_unwatch2(rados_ioctx_t io, uint64_t cookie) */
    static final MethodHandle unwatch2 = fn("rados_unwatch2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** int rados_watch_flush(rados_t cluster) */
    static final MethodHandle watchFlush = fn("rados_watch_flush", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** int rados_notify2(rados_ioctx_t io, const char *o, const char *buf, int buf_len, uint64_t timeout_ms, char **reply_buffer, size_t *reply_buffer_len) */
    static final MethodHandle notify2 = fn("rados_notify2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    /** int rados_notify_ack(rados_ioctx_t io, const char *o, uint64_t notify_id, uint64_t cookie, const char *buf, int buf_len) */
    static final MethodHandle notifyAck = fn("rados_notify_ack",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT));
    /** int rados_decode_notify_response(char *reply_buffer, size_t reply_buffer_len, struct notify_ack_t **acks, size_t *nr_acks, struct notify_timeout_t **timeouts, size_t *nr_timeouts) */
    static final MethodHandle decodeNotifyResponse = fn("rados_decode_notify_response",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    /** void rados_free_notify_response(struct notify_ack_t *acks, size_t nr_acks, struct notify_timeout_t *timeouts) */
    static final MethodHandle freeNotifyResponse = fn("rados_free_notify_response",
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, ADDRESS));
    /** int rados_wait_for_latest_osdmap(rados_t cluster) */
    static final MethodHandle waitForLatestOsdmap = fn("rados_wait_for_latest_osdmap", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** void rados_buffer_free(char *buf) */
    static final MethodHandle bufferFree = fn("rados_buffer_free", FunctionDescriptor.ofVoid(ADDRESS));
}
