package io.tandem.ceph;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A compound write operation on one object ({@code rados_write_op_t}): guards (existence,
 * version, extent and attribute comparisons) and changes applied by the OSD as one atomic step;
 * if any guard fails nothing is applied. Built by chaining, then executed once with {@link
 * #operate}, {@link #operateVersioned} or {@link #operateAsync}, which release it; {@link #close()}
 * releases one that is not executed. Not thread-safe while being built.
 *
 * <p>Outcomes of guards: a failed {@link #assertVersion} is ERANGE (object newer) or EOVERFLOW
 * (older), {@link #assertExists} ENOENT, {@link #compareExtent} a {@link CompareMismatchException}
 * with the offset of the first difference (a missing object compares as zeroes), {@link
 * #compareXattr} ECANCELED, an exclusive {@link #create} EEXIST.
 */
public final class WriteOp implements AutoCloseable {

    /** Comparison of {@link #compareXattr}: the object's attribute OP the given value. */
    public enum XattrComparison {
        EQ(1), NE(2), GT(3), GTE(4), LT(5), LTE(6);

        final byte code;

        XattrComparison(int code) {
            this.code = (byte) code;
        }
    }

    private final MemorySegment op;
    /** Native copies of the arguments, freed with this object (librados copies them anyway). */
    private final Arena arena = Arena.ofAuto();
    /** Segments the caller passed in, kept reachable until the operation ran. */
    private final List<Object> keepAlive = new ArrayList<>(2);
    private final StringBuilder description = new StringBuilder();
    private boolean released;

    private WriteOp(MemorySegment op) {
        this.op = op;
    }

    public static WriteOp create() {
        NativeLibrary.rados();
        try {
            MemorySegment op = (MemorySegment) LibRados.createWriteOp.invokeExact();
            if (op.equals(MemorySegment.NULL)) {
                throw new CephException("rados_create_write_op", Errno.ENOMEM);
            }
            return new WriteOp(op);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Creates the object; {@code exclusive}: fail with EEXIST if it exists. */
    public WriteOp create(boolean exclusive) {
        step("create");
        invoke(() -> {
            LibRados.writeOpCreate.invokeExact(op, exclusive ? 1 : 0, MemorySegment.NULL);
        });
        return this;
    }

    public WriteOp assertExists() {
        step("assert_exists");
        invoke(() -> {
            LibRados.writeOpAssertExists.invokeExact(op);
        });
        return this;
    }

    /** Fails unless the object's version is exactly {@code version}. */
    public WriteOp assertVersion(long version) {
        step("assert_version " + version);
        invoke(() -> {
            LibRados.writeOpAssertVersion.invokeExact(op, version);
        });
        return this;
    }

    /** Fails unless the object's bytes at {@code offset} equal {@code expected}. */
    public WriteOp compareExtent(long offset, MemorySegment expected) {
        step("cmpext " + offset + "+" + expected.byteSize());
        MemorySegment data = nativeSegment(expected);
        invoke(() -> {
            LibRados.writeOpCmpext.invokeExact(op, data, data.byteSize(), offset, MemorySegment.NULL);
        });
        return this;
    }

    public WriteOp compareExtent(long offset, byte[] expected) {
        return compareExtent(offset, MemorySegment.ofArray(expected));
    }

    /**
     * Fails unless attribute {@code name} compares as asked to {@code value}; an attribute that
     * is not set compares as the empty value.
     */
    public WriteOp compareXattr(String name, XattrComparison comparison, byte[] value) {
        step("cmpxattr " + name);
        MemorySegment n = Native.cString(arena, name);
        MemorySegment v = Native.copy(arena, value);
        invoke(() -> {
            LibRados.writeOpCmpxattr.invokeExact(op, n, comparison.code, v, (long) value.length);
        });
        return this;
    }

    public WriteOp setXattr(String name, byte[] value) {
        step("setxattr " + name);
        MemorySegment n = Native.cString(arena, name);
        MemorySegment v = Native.copy(arena, value);
        invoke(() -> {
            LibRados.writeOpSetxattr.invokeExact(op, n, v, (long) value.length);
        });
        return this;
    }

    public WriteOp removeXattr(String name) {
        step("rmxattr " + name);
        MemorySegment n = Native.cString(arena, name);
        invoke(() -> {
            LibRados.writeOpRmxattr.invokeExact(op, n);
        });
        return this;
    }

    /** Writes {@code data} at {@code offset}. */
    public WriteOp write(long offset, MemorySegment data) {
        step("write " + offset + "+" + data.byteSize());
        MemorySegment d = nativeSegment(data);
        invoke(() -> {
            LibRados.writeOpWrite.invokeExact(op, d, d.byteSize(), offset);
        });
        return this;
    }

    public WriteOp write(long offset, byte[] data) {
        return write(offset, MemorySegment.ofArray(data));
    }

    /** Replaces the whole object with {@code data}. */
    public WriteOp writeFull(MemorySegment data) {
        step("write_full " + data.byteSize());
        MemorySegment d = nativeSegment(data);
        invoke(() -> {
            LibRados.writeOpWriteFull.invokeExact(op, d, d.byteSize());
        });
        return this;
    }

    public WriteOp writeFull(byte[] data) {
        return writeFull(MemorySegment.ofArray(data));
    }

    /** Removes the object. */
    public WriteOp remove() {
        step("remove");
        invoke(() -> {
            LibRados.writeOpRemove.invokeExact(op);
        });
        return this;
    }

    /** Executes the operation on {@code oid} and releases it; throws {@link CephException} when a guard fails. */
    public void operate(IoCtx io, String oid) {
        try {
            runSync(io, oid);
        } finally {
            close();
        }
    }

    /**
     * As {@link #operate}, and returns the object's version after the operation, as the
     * operation's own completion reports it (see {@link IoCtx}).
     */
    public long operateVersioned(IoCtx io, String oid) {
        try {
            checkOpen();
            MemorySegment name = Native.cString(arena, oid);
            // The operation stays reachable (keep-alive) until librados called back; it is released after.
            return IoCtx.await(io.startVersioned("rados_aio_write_op_operate(" + oid + ": " + description + ")", this,
                    c -> (int) LibRados.aioWriteOpOperate.invokeExact(op, io.handle(), c, name, MemorySegment.NULL, 0)))
                    .version();
        } finally {
            close();
        }
    }

    /** Executes the operation asynchronously; the operation is released when it completes. */
    public CompletableFuture<Void> operateAsync(IoCtx io, String oid) {
        checkOpen();
        String call = "rados_aio_write_op_operate(" + oid + ": " + description + ")";
        MemorySegment name = Native.cString(arena, oid);
        CompletableFuture<Long> done;
        io.lifetime().enter();
        try {
            done = LibRados.completions.start(call, this,
                    c -> (int) LibRados.aioWriteOpOperate.invokeExact(op, io.handle(), c, name, MemorySegment.NULL, 0));
        } finally {
            io.lifetime().exit();
        }
        return done.handle((r, e) -> {
            close();
            if (e != null) {
                throw e instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(e);
            }
            return null;
        });
    }

    private void runSync(IoCtx io, String oid) {
        checkOpen();
        io.call("rados_write_op_operate(" + oid + ": " + description + ")", a -> (int) LibRados.writeOpOperate
                .invokeExact(op, io.handle(), Native.cString(a, oid), MemorySegment.NULL, 0));
    }

    /** Releases the native operation; idempotent. */
    @Override
    public synchronized void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            LibRados.releaseWriteOp.invokeExact(op);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private MemorySegment nativeSegment(MemorySegment data) {
        if (data.isNative()) {
            keepAlive.add(data);
            return data;
        }
        MemorySegment copy = arena.allocate(Math.max(1, data.byteSize())).asSlice(0, data.byteSize());
        copy.copyFrom(data);
        return copy;
    }

    private void step(String what) {
        checkOpen();
        if (!description.isEmpty()) {
            description.append(", ");
        }
        description.append(what);
    }

    private synchronized void checkOpen() {
        if (released) {
            throw new IllegalStateException("write operation already executed or released");
        }
    }

    @FunctionalInterface
    private interface Invocation {
        void run() throws Throwable;
    }

    private static void invoke(Invocation invocation) {
        try {
            invocation.run();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
