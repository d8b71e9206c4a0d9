package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * An I/O context ({@code rados_ioctx_t}): object operations in one pool. Thread-safe.
 *
 * <p>Object versions ({@link #readVersioned}, {@link #statVersioned}, {@link
 * WriteOp#operateVersioned}) are taken from each operation's own completion. librados' {@code
 * rados_get_last_version} is deliberately not offered: it is one slot per context that every
 * synchronous call overwrites when it ends, notifications and watches included, so under
 * concurrency it can report the version of another object.
 */
public final class IoCtx implements AutoCloseable {

    private final Rados rados;
    private final String pool;
    private final MemorySegment io;
    private final Lifetime lifetime;

    IoCtx(Rados rados, String pool, MemorySegment io) {
        this.rados = rados;
        this.pool = pool;
        this.io = io;
        this.lifetime = new Lifetime("I/O context of pool " + pool);
    }

    public Rados rados() {
        return rados;
    }

    public String pool() {
        return pool;
    }

    /** An object's bytes together with the object version they were read at. */
    public record Versioned(byte[] data, long version) {
    }

    /** An object's size and the object version it was seen at. */
    public record SizeVersion(long size, long version) {
    }

    /** An object's size and modification time (seconds since the epoch). */
    public record ObjectStat(long size, long mtimeSeconds) {
    }

    /** Reads up to {@code length} bytes of {@code oid} from {@code offset}; the result is as long as what was read. */
    public byte[] read(String oid, long offset, int length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, length));
            int n = (int) call("rados_read(" + oid + ")", a -> (int) LibRados.read.invokeExact(io,
                    Native.cString(a, oid), buf, (long) length, offset));
            return Arrays.copyOf(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), n);
        }
    }

    /** Reads {@code into.byteSize()} bytes (a native segment) from {@code offset}; returns the count read. */
    public int read(String oid, long offset, MemorySegment into) {
        return (int) call("rados_read(" + oid + ")", a -> (int) LibRados.read.invokeExact(io,
                Native.cString(a, oid), into, into.byteSize(), offset));
    }

    /**
     * Reads the whole object (up to {@code maxLength} bytes) and the object version it was read
     * at. ENOENT when there is no such object.
     */
    public Versioned readVersioned(String oid, int maxLength) {
        // Freed only once the call ended (await returns after librados called back, or after it refused the call).
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, maxLength));
            MemorySegment name = Native.cString(arena, oid);
            Completions.Versioned done = await(startVersioned("rados_aio_read(" + oid + ")", null,
                    c -> (int) LibRados.aioRead.invokeExact(io, name, c, buf, (long) maxLength, 0L)));
            return new Versioned(buf.asSlice(0, done.value()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), done.version());
        }
    }

    /** Asynchronous read into a native segment; completes with the count read. */
    public CompletableFuture<Long> readAsync(String oid, long offset, MemorySegment into) {
        lifetime.enter();
        try {
            Arena arena = Arena.ofAuto();
            MemorySegment name = Native.cString(arena, oid);
            return LibRados.completions.start("rados_aio_read(" + oid + ")", new Object[] {into, name},
                    c -> (int) LibRados.aioRead.invokeExact(io, name, c, into, into.byteSize(), offset));
        } finally {
            lifetime.exit();
        }
    }

    /** Writes {@code data} at {@code offset} of {@code oid}, creating the object if needed. */
    public void write(String oid, long offset, byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Native.copy(arena, data);
            call("rados_write(" + oid + ")", a -> (int) LibRados.write.invokeExact(io, Native.cString(a, oid), buf,
                    (long) data.length, offset));
        }
    }

    /** Replaces the whole content of {@code oid} with {@code data}. */
    public void writeFull(String oid, byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = Native.copy(arena, data);
            call("rados_write_full(" + oid + ")", a -> (int) LibRados.writeFull.invokeExact(io, Native.cString(a, oid),
                    buf, (long) data.length));
        }
    }

    /** Removes {@code oid}; ENOENT when there is none. */
    public void remove(String oid) {
        call("rados_remove(" + oid + ")", a -> (int) LibRados.remove.invokeExact(io, Native.cString(a, oid)));
    }

    /** Size and modification time of {@code oid}; ENOENT when there is none. */
    public ObjectStat stat(String oid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            MemorySegment mtime = arena.allocate(JAVA_LONG);
            call("rados_stat(" + oid + ")", a -> (int) LibRados.stat.invokeExact(io, Native.cString(a, oid), size, mtime));
            return new ObjectStat(size.get(JAVA_LONG, 0), mtime.get(JAVA_LONG, 0));
        }
    }

    /**
     * Size of {@code oid} and the object version it was seen at (paired under this context's
     * version lock); ENOENT when there is none.
     */
    public SizeVersion statVersioned(String oid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            MemorySegment mtime = arena.allocate(JAVA_LONG);
            MemorySegment name = Native.cString(arena, oid);
            Completions.Versioned done = await(startVersioned("rados_aio_stat(" + oid + ")", null,
                    c -> (int) LibRados.aioStat.invokeExact(io, name, c, size, mtime)));
            return new SizeVersion(size.get(JAVA_LONG, 0), done.version());
        }
    }

    /** The value of extended attribute {@code name} of {@code oid} (at most {@code maxLength} bytes); ENODATA when unset. */
    public byte[] getXattr(String oid, String name, int maxLength) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, maxLength));
            int n = (int) call("rados_getxattr(" + oid + ", " + name + ")", a -> (int) LibRados.getxattr.invokeExact(io,
                    Native.cString(a, oid), Native.cString(a, name), buf, (long) maxLength));
            return Arrays.copyOf(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), n);
        }
    }

    /** Starts an asynchronous call on this context whose result carries the object version. */
    CompletableFuture<Completions.Versioned> startVersioned(String call, Object keepAlive, Completions.Submit submit) {
        lifetime.enter();
        try {
            return LibRados.completions.startVersioned(call, keepAlive, submit);
        } finally {
            lifetime.exit();
        }
    }

    /**
     * Waits for a call as a synchronous one would (bounded by the client's {@code rados_osd_op_timeout},
     * like the synchronous calls), uninterruptibly: buffers the call writes may be freed once this
     * returns. Its failure is thrown as is.
     */
    static <T> T await(CompletableFuture<T> call) {
        try {
            return call.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    /** The native context, for bindings in this package; use between enter/exit of {@link #lifetime()}. */
    MemorySegment handle() {
        return io;
    }

    Lifetime lifetime() {
        return lifetime;
    }

    /** Frees the context; idempotent. Operations still in flight must have completed. */
    @Override
    public void close() {
        if (!lifetime.close()) {
            return;
        }
        try {
            LibRados.ioctxDestroy.invokeExact(io);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @FunctionalInterface
    interface Call {
        long invoke(Arena arena) throws Throwable;
    }

    /** Runs one synchronous call with a scratch arena; throws {@link CephException} for a negative result. */
    long call(String name, Call call) {
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            return CephException.check(name, call.invoke(arena));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }
}
