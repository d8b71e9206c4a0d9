package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An open RBD image ({@code rbd_image_t}) and the image functions of librbd: create/remove, size
 * and layout, resize, asynchronous I/O and update watches. Thread-safe; {@link #close()} waits
 * for calls being submitted, and librbd waits for I/O in flight.
 *
 * <p>Asynchronous calls take native memory segments (direct buffers): the library reads or fills
 * them after the call returned. Their futures complete with the call's return value (bytes read
 * for reads, 0 for writes, flushes, discards and write-same) or with a {@link CephException};
 * none is left pending, since librbd completes every request, in error if need be (the client's
 * {@code rados_osd_op_timeout} bounds how long an unanswered request may take).
 */
public final class RbdImage implements AutoCloseable {

    /** LIBRADOS_OP_FLAG_FADVISE_FUA: the write must be on stable storage when acknowledged. */
    public static final int OP_FLAG_FUA = 0x80;

    private static final Executor NOTIFIER = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("rbd-update-", 0).factory());

    private final IoCtx io;
    private final String name;
    private final MemorySegment image;
    private final boolean readOnly;
    private final Lifetime lifetime;
    private final Map<Long, Long> watches = new ConcurrentHashMap<>();

    private RbdImage(IoCtx io, String name, MemorySegment image, boolean readOnly) {
        this.io = io;
        this.name = name;
        this.image = image;
        this.readOnly = readOnly;
        this.lifetime = new Lifetime("RBD image " + io.pool() + "/" + name);
    }

    /** librbd's version, e.g. "1.16.0". */
    public static String libraryVersion() {
        NativeLibrary.rbd();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT);
            MemorySegment minor = arena.allocate(JAVA_INT);
            MemorySegment extra = arena.allocate(JAVA_INT);
            LibRbd.version.invokeExact(major, minor, extra);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0) + "." + extra.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Creates image {@code name} of {@code sizeBytes} with the given feature bits ({@link
     * RbdFeature#mask}) and object size 2^{@code order} bytes (0: librbd's default, 4 MiB).
     */
    public static void create(IoCtx io, String name, long sizeBytes, long features, int order) {
        NativeLibrary.rbd();
        io.call("rbd_create2(" + name + ")", a -> {
            MemorySegment orderInOut = a.allocate(JAVA_INT);
            orderInOut.set(JAVA_INT, 0, order);
            return (int) LibRbd.create2.invokeExact(io.handle(), Native.cString(a, name), sizeBytes, features, orderInOut);
        });
    }

    /** Removes image {@code name} (ENOENT if there is none, EBUSY while another client watches it). */
    public static void remove(IoCtx io, String name) {
        NativeLibrary.rbd();
        io.call("rbd_remove(" + name + ")", a -> (int) LibRbd.remove.invokeExact(io.handle(), Native.cString(a, name)));
    }

    /** Opens image {@code name} for reading and writing. */
    public static RbdImage open(IoCtx io, String name) {
        return open(io, name, false);
    }

    /** Opens image {@code name}; read-only opens take no lock and refuse writes (EROFS). */
    public static RbdImage open(IoCtx io, String name, boolean readOnly) {
        NativeLibrary.rbd();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            io.call((readOnly ? "rbd_open_read_only(" : "rbd_open(") + io.pool() + "/" + name + ")",
                    a -> readOnly
                            ? (int) LibRbd.openReadOnly.invokeExact(io.handle(), Native.cString(a, name), out, MemorySegment.NULL)
                            : (int) LibRbd.open.invokeExact(io.handle(), Native.cString(a, name), out, MemorySegment.NULL));
            return new RbdImage(io, name, out.get(ADDRESS, 0), readOnly);
        }
    }

    public String name() {
        return name;
    }

    public IoCtx ioContext() {
        return io;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The image's layout: size, object size and count, order, data object name prefix. */
    public record Info(long size, long objectSize, long objectCount, int order, String blockNamePrefix) {
    }

    public Info stat() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(LibRbd.IMAGE_INFO);
            call("rbd_stat", a -> (int) LibRbd.stat.invokeExact(image, info, info.byteSize()));
            return new Info(info.get(JAVA_LONG, LibRbd.INFO_SIZE), info.get(JAVA_LONG, LibRbd.INFO_OBJ_SIZE),
                    info.get(JAVA_LONG, LibRbd.INFO_NUM_OBJS), info.get(JAVA_INT, LibRbd.INFO_ORDER),
                    info.asSlice(LibRbd.INFO_PREFIX, 24).getString(0));
        }
    }

    /** The size in bytes as this client last saw it (refreshed after an update notification). */
    public long size() {
        return outLong("rbd_get_size", LibRbd.getSize);
    }

    /** The image's feature bits ({@link RbdFeature}). */
    public long features() {
        return outLong("rbd_get_features", LibRbd.getFeatures);
    }

    public long stripeUnit() {
        return outLong("rbd_get_stripe_unit", LibRbd.getStripeUnit);
    }

    public long stripeCount() {
        return outLong("rbd_get_stripe_count", LibRbd.getStripeCount);
    }

    /** Bytes of a clone's parent that show through where the clone has no data; 0 without a parent. */
    public long parentOverlap() {
        return outLong("rbd_get_overlap", LibRbd.getOverlap);
    }

    /** The pool holding the image's data objects (the image's own pool unless it has a data pool). */
    public long dataPoolId() {
        lifetime.enter();
        try {
            return CephException.check("rbd_get_data_pool_id", (long) LibRbd.getDataPoolId.invokeExact(image));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /** The prefix of the data object names, e.g. {@code rbd_data.10226b8b4567}. */
    public String blockNamePrefix() {
        return outString("rbd_get_block_name_prefix", LibRbd.getBlockNamePrefix);
    }

    public String id() {
        return outString("rbd_get_id", LibRbd.getId);
    }

    /** Changes the size (shrinking discards the data past the new end). */
    public void resize(long sizeBytes) {
        call("rbd_resize", a -> (int) LibRbd.resize.invokeExact(image, sizeBytes));
    }

    /** Enables or disables features (e.g. to turn off exclusive-lock). */
    public void updateFeatures(long features, boolean enabled) {
        call("rbd_update_features", a -> (int) LibRbd.updateFeatures.invokeExact(image, features, (byte) (enabled ? 1 : 0)));
    }

    /** Synchronous flush of every completed write. */
    public void flush() {
        call("rbd_flush", a -> (int) LibRbd.flush.invokeExact(image));
    }

    /** Synchronous read into a native segment; returns the bytes read. */
    public long read(long offset, MemorySegment into) {
        requireNative(into);
        return call("rbd_read", a -> (long) LibRbd.read.invokeExact(image, offset, into.byteSize(), into));
    }

    /** Synchronous write of a native segment; returns the bytes written. */
    public long write(long offset, MemorySegment from) {
        requireNative(from);
        return call("rbd_write", a -> (long) LibRbd.write.invokeExact(image, offset, from.byteSize(), from));
    }

    public CompletableFuture<Long> readAsync(long offset, MemorySegment into, int opFlags) {
        requireNative(into);
        return start("rbd_aio_read2", into,
                c -> (int) LibRbd.aioRead2.invokeExact(image, offset, into.byteSize(), into, c, opFlags));
    }

    public CompletableFuture<Long> writeAsync(long offset, MemorySegment from, int opFlags) {
        requireNative(from);
        return start("rbd_aio_write2", from,
                c -> (int) LibRbd.aioWrite2.invokeExact(image, offset, from.byteSize(), from, c, opFlags));
    }

    public CompletableFuture<Long> flushAsync() {
        return start("rbd_aio_flush", null, c -> (int) LibRbd.aioFlush.invokeExact(image, c));
    }

    /**
     * Discards {@code length} bytes. librbd skips the parts of the range that do not cover whole
     * units of {@code rbd_discard_granularity_bytes} (they are neither freed nor zeroed).
     */
    public CompletableFuture<Long> discardAsync(long offset, long length) {
        return start("rbd_aio_discard", null, c -> (int) LibRbd.aioDiscard.invokeExact(image, offset, length, c));
    }

    /** Writes zeroes to {@code length} bytes; librbd may deallocate whole objects to do so. */
    public CompletableFuture<Long> writeZeroesAsync(long offset, long length, int zeroFlags, int opFlags) {
        return start("rbd_aio_write_zeroes", null,
                c -> (int) LibRbd.aioWriteZeroes.invokeExact(image, offset, length, c, zeroFlags, opFlags));
    }

    /** Writes {@code pattern} repeatedly over {@code length} bytes (a multiple of the pattern's size). */
    public CompletableFuture<Long> writeSameAsync(long offset, long length, MemorySegment pattern, int opFlags) {
        requireNative(pattern);
        return start("rbd_aio_writesame", pattern, c -> (int) LibRbd.aioWritesame.invokeExact(image, offset, length,
                pattern, pattern.byteSize(), c, opFlags));
    }

    /**
     * Calls {@code listener} (on a virtual thread) whenever the image's header changes: resize,
     * features, locks, metadata, snapshots, from this client or any other. Returns the handle
     * for {@link #unwatchUpdates}.
     */
    public long watchUpdates(Runnable listener) {
        long id = Upcalls.UPDATE_IDS.incrementAndGet();
        Upcalls.UPDATE_LISTENERS.put(id, listener);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = arena.allocate(JAVA_LONG);
            call("rbd_update_watch", a -> (int) LibRbd.updateWatch.invokeExact(image, handle, Upcalls.UPDATE_STUB,
                    MemorySegment.ofAddress(id)));
            long h = handle.get(JAVA_LONG, 0);
            watches.put(h, id);
            return h;
        } catch (RuntimeException e) {
            Upcalls.UPDATE_LISTENERS.remove(id);
            throw e;
        }
    }

    public void unwatchUpdates(long handle) {
        Long id = watches.remove(handle);
        try {
            call("rbd_update_unwatch", a -> (int) LibRbd.updateUnwatch.invokeExact(image, handle));
        } finally {
            if (id != null) {
                Upcalls.UPDATE_LISTENERS.remove(id);
            }
        }
    }

    /** One extent reported by {@link #diffIterate}. */
    @FunctionalInterface
    public interface DiffExtentConsumer {
        /**
         * @param exists whether the extent holds data (false: it was discarded / is a hole)
         * @return false to stop the iteration
         */
        boolean accept(long offset, long length, boolean exists);
    }

    /**
     * Reports the extents of [{@code offset}, {@code offset + length}) that hold data, in order
     * (without a starting snapshot: what was ever written and not discarded). {@code wholeObject}
     * reports whole objects, which is cheaper.
     */
    public void diffIterate(long offset, long length, boolean wholeObject, DiffExtentConsumer consumer) {
        long id = Upcalls.DIFF_IDS.incrementAndGet();
        // librbd may report extents it had already collected after the consumer said stop: drop them
        boolean[] stopped = new boolean[1];
        Upcalls.DIFF_CONSUMERS.put(id, (offset1, length1, exists) -> {
            synchronized (stopped) {
                if (stopped[0]) {
                    return false;
                }
                stopped[0] = !consumer.accept(offset1, length1, exists);
                return !stopped[0];
            }
        });
        try {
            long r = callRaw(a -> (int) LibRbd.diffIterate2.invokeExact(image, MemorySegment.NULL, offset, length,
                    (byte) 0, (byte) (wholeObject ? 1 : 0), Upcalls.DIFF_STUB, MemorySegment.ofAddress(id)));
            if (r < 0 && r != Upcalls.STOPPED) {
                throw CephException.of("rbd_diff_iterate2", r);
            }
        } finally {
            Upcalls.DIFF_CONSUMERS.remove(id);
        }
    }

    /** Closes the image (waiting for its I/O in flight); idempotent. */
    @Override
    public void close() {
        if (!lifetime.close()) {
            return;
        }
        try {
            for (Map.Entry<Long, Long> w : watches.entrySet()) {
                int r = (int) LibRbd.updateUnwatch.invokeExact(image, (long) w.getKey());
                Upcalls.UPDATE_LISTENERS.remove(w.getValue());
                if (r < 0) {
                    System.getLogger(RbdImage.class.getName()).log(System.Logger.Level.WARNING,
                            "rbd_update_unwatch on close: " + Errno.name(r));
                }
            }
            watches.clear();
            CephException.check("rbd_close(" + name + ")", (int) LibRbd.close.invokeExact(image));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private CompletableFuture<Long> start(String call, Object keepAlive, Completions.Submit submit) {
        try {
            lifetime.enter();
        } catch (IllegalStateException e) {
            return CompletableFuture.failedFuture(e);
        }
        try {
            return LibRbd.completions.start(call, keepAlive, submit);
        } finally {
            lifetime.exit();
        }
    }

    private static void requireNative(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("librbd needs native memory (a direct buffer), not a heap segment");
        }
    }

    @FunctionalInterface
    private interface Call {
        long invoke(Arena arena) throws Throwable;
    }

    private long call(String name, Call call) {
        return CephException.check(name, callRaw(call));
    }

    private long callRaw(Call call) {
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            return call.invoke(arena);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    private long outLong(String name, java.lang.invoke.MethodHandle function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            call(name, a -> (int) function.invokeExact(image, out));
            return out.get(JAVA_LONG, 0);
        }
    }

    private String outString(String name, java.lang.invoke.MethodHandle function) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(256);
            call(name, a -> (int) function.invokeExact(image, out, out.byteSize()));
            return out.getString(0);
        }
    }

    /** The upcall stubs of update watches and diff iteration: one each, callbacks keyed by id. */
    private static final class Upcalls {
        static final long STOPPED = -Errno.ECANCELED;
        static final AtomicLong UPDATE_IDS = new AtomicLong();
        static final Map<Long, Runnable> UPDATE_LISTENERS = new ConcurrentHashMap<>();
        static final AtomicLong DIFF_IDS = new AtomicLong();
        static final Map<Long, DiffExtentConsumer> DIFF_CONSUMERS = new ConcurrentHashMap<>();
        static final MemorySegment UPDATE_STUB;
        static final MemorySegment DIFF_STUB;

        static {
            try {
                var lookup = MethodHandles.lookup();
                UPDATE_STUB = NativeLibrary.upcall(lookup.findStatic(Upcalls.class, "updated",
                                MethodType.methodType(void.class, MemorySegment.class)),
                        FunctionDescriptor.ofVoid(ADDRESS));
                DIFF_STUB = NativeLibrary.upcall(lookup.findStatic(Upcalls.class, "extent",
                                MethodType.methodType(int.class, long.class, long.class, int.class, MemorySegment.class)),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** rbd_update_callback_t; runs on a librbd thread, which must not wait: hand off. */
        @SuppressWarnings("unused")
        private static void updated(MemorySegment arg) {
            try {
                Runnable listener = UPDATE_LISTENERS.get(arg.address());
                if (listener != null) {
                    NOTIFIER.execute(listener);
                }
            } catch (Throwable t) {
                System.getLogger(RbdImage.class.getName()).log(System.Logger.Level.ERROR, "update callback failed", t);
            }
        }

        /** The diff_iterate2 callback; runs on the calling thread, during the call. */
        @SuppressWarnings("unused")
        private static int extent(long offset, long length, int exists, MemorySegment arg) {
            try {
                DiffExtentConsumer consumer = DIFF_CONSUMERS.get(arg.address());
                return consumer != null && consumer.accept(offset, length, exists != 0) ? 0 : (int) STOPPED;
            } catch (Throwable t) {
                System.getLogger(RbdImage.class.getName()).log(System.Logger.Level.ERROR, "diff callback failed", t);
                return (int) STOPPED;
            }
        }
    }
}
