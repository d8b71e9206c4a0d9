package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles of librados (declarations of {@code rados/librados.h}, Ceph 16). size_t,
 * ssize_t, uint64_t, int64_t and time_t are 64-bit ({@code JAVA_LONG}). Touch this class only
 * after {@link NativeLibrary#rados()} succeeded: its initialisation binds every symbol.
 */
final class LibRados {

    private LibRados() {
    }

    private static MethodHandle fn(String name, FunctionDescriptor descriptor) {
        return NativeLibrary.rados().function(name, descriptor);
    }

    private static FunctionDescriptor ints(java.lang.foreign.MemoryLayout... args) {
        return FunctionDescriptor.of(JAVA_INT, args);
    }

    private static FunctionDescriptor voids(java.lang.foreign.MemoryLayout... args) {
        return FunctionDescriptor.ofVoid(args);
    }

    // cluster handle
    static final MethodHandle create = fn("rados_create", ints(ADDRESS, ADDRESS));
    static final MethodHandle create2 = fn("rados_create2", ints(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle confReadFile = fn("rados_conf_read_file", ints(ADDRESS, ADDRESS));
    static final MethodHandle confSet = fn("rados_conf_set", ints(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle confGet = fn("rados_conf_get", ints(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle connect = fn("rados_connect", ints(ADDRESS));
    static final MethodHandle shutdown = fn("rados_shutdown", voids(ADDRESS));
    static final MethodHandle getInstanceId = fn("rados_get_instance_id", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle getaddrs = fn("rados_getaddrs", ints(ADDRESS, ADDRESS));
    static final MethodHandle bufferFree = fn("rados_buffer_free", voids(ADDRESS));
    static final MethodHandle blocklistAdd = fn("rados_blocklist_add", ints(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle poolLookup = fn("rados_pool_lookup", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS));

    // I/O context
    static final MethodHandle ioctxCreate = fn("rados_ioctx_create", ints(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle ioctxCreate2 = fn("rados_ioctx_create2", ints(ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle ioctxDestroy = fn("rados_ioctx_destroy", voids(ADDRESS));
    static final MethodHandle write = fn("rados_write", ints(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle writeFull = fn("rados_write_full", ints(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle read = fn("rados_read", ints(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle remove = fn("rados_remove", ints(ADDRESS, ADDRESS));
    static final MethodHandle stat = fn("rados_stat", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle getxattr = fn("rados_getxattr", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle aioRead = fn("rados_aio_read", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle aioStat = fn("rados_aio_stat", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

    // compound write operations
    static final MethodHandle createWriteOp = fn("rados_create_write_op", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle releaseWriteOp = fn("rados_release_write_op", voids(ADDRESS));
    static final MethodHandle writeOpCreate = fn("rados_write_op_create", voids(ADDRESS, JAVA_INT, ADDRESS));
    static final MethodHandle writeOpAssertExists = fn("rados_write_op_assert_exists", voids(ADDRESS));
    static final MethodHandle writeOpAssertVersion = fn("rados_write_op_assert_version", voids(ADDRESS, JAVA_LONG));
    static final MethodHandle writeOpCmpext = fn("rados_write_op_cmpext", voids(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    static final MethodHandle writeOpCmpxattr = fn("rados_write_op_cmpxattr", voids(ADDRESS, ADDRESS, JAVA_BYTE, ADDRESS, JAVA_LONG));
    static final MethodHandle writeOpSetxattr = fn("rados_write_op_setxattr", voids(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle writeOpRmxattr = fn("rados_write_op_rmxattr", voids(ADDRESS, ADDRESS));
    static final MethodHandle writeOpWrite = fn("rados_write_op_write", voids(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle writeOpWriteFull = fn("rados_write_op_write_full", voids(ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle writeOpRemove = fn("rados_write_op_remove", voids(ADDRESS));
    static final MethodHandle writeOpOperate = fn("rados_write_op_operate", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle aioWriteOpOperate = fn("rados_aio_write_op_operate",
            ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));

    // asynchronous completions
    static final MethodHandle aioCreateCompletion2 = fn("rados_aio_create_completion2", ints(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle aioGetReturnValue = fn("rados_aio_get_return_value", ints(ADDRESS));
    static final MethodHandle aioRelease = fn("rados_aio_release", voids(ADDRESS));
    static final MethodHandle aioGetVersion = fn("rados_aio_get_version", FunctionDescriptor.of(JAVA_LONG, ADDRESS));

    /** Asynchronous librados calls (one upcall stub for all of them). */
    static final Completions completions = new Completions("librados", new Completions.Api() {
        @Override
        public int create(java.lang.foreign.MemorySegment arg, java.lang.foreign.MemorySegment callback,
                          java.lang.foreign.MemorySegment out) throws Throwable {
            return (int) aioCreateCompletion2.invokeExact(arg, callback, out);
        }

        @Override
        public long returnValue(java.lang.foreign.MemorySegment completion) throws Throwable {
            return (int) aioGetReturnValue.invokeExact(completion);
        }

        @Override
        public void release(java.lang.foreign.MemorySegment completion) throws Throwable {
            aioRelease.invokeExact(completion);
        }

        @Override
        public long version(java.lang.foreign.MemorySegment completion) throws Throwable {
            return (long) aioGetVersion.invokeExact(completion);
        }
    });
}
