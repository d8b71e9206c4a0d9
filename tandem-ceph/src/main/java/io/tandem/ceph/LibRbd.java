package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * Downcall handles of librbd (declarations of {@code rbd/librbd.h}, librbd 1.16 / Ceph 16). Touch
 * this class only after {@link NativeLibrary#rbd()} succeeded.
 */
final class LibRbd {

    private LibRbd() {
    }

    private static MethodHandle fn(String name, FunctionDescriptor descriptor) {
        return NativeLibrary.rbd().function(name, descriptor);
    }

    private static FunctionDescriptor ints(MemoryLayout... args) {
        return FunctionDescriptor.of(JAVA_INT, args);
    }

    /** rbd_image_info_t: size, obj_size, num_objs, order, block_name_prefix[24], parent_pool, parent_name[96]. */
    static final StructLayout IMAGE_INFO = MemoryLayout.structLayout(
            JAVA_LONG.withName("size"),
            JAVA_LONG.withName("obj_size"),
            JAVA_LONG.withName("num_objs"),
            JAVA_INT.withName("order"),
            MemoryLayout.sequenceLayout(24, JAVA_BYTE).withName("block_name_prefix"),
            MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("parent_pool"),
            MemoryLayout.sequenceLayout(96, JAVA_BYTE).withName("parent_name"));
    static final long INFO_SIZE = IMAGE_INFO.byteOffset(MemoryLayout.PathElement.groupElement("size"));
    static final long INFO_OBJ_SIZE = IMAGE_INFO.byteOffset(MemoryLayout.PathElement.groupElement("obj_size"));
    static final long INFO_NUM_OBJS = IMAGE_INFO.byteOffset(MemoryLayout.PathElement.groupElement("num_objs"));
    static final long INFO_ORDER = IMAGE_INFO.byteOffset(MemoryLayout.PathElement.groupElement("order"));
    static final long INFO_PREFIX = IMAGE_INFO.byteOffset(MemoryLayout.PathElement.groupElement("block_name_prefix"));

    static final MethodHandle version = fn("rbd_version", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle create2 = fn("rbd_create2", ints(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    static final MethodHandle remove = fn("rbd_remove", ints(ADDRESS, ADDRESS));
    static final MethodHandle open = fn("rbd_open", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle openReadOnly = fn("rbd_open_read_only", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle close = fn("rbd_close", ints(ADDRESS));
    static final MethodHandle getSize = fn("rbd_get_size", ints(ADDRESS, ADDRESS));
    static final MethodHandle stat = fn("rbd_stat", ints(ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle resize = fn("rbd_resize", ints(ADDRESS, JAVA_LONG));
    static final MethodHandle getFeatures = fn("rbd_get_features", ints(ADDRESS, ADDRESS));
    static final MethodHandle updateFeatures = fn("rbd_update_features", ints(ADDRESS, JAVA_LONG, JAVA_BYTE));
    static final MethodHandle getStripeUnit = fn("rbd_get_stripe_unit", ints(ADDRESS, ADDRESS));
    static final MethodHandle getStripeCount = fn("rbd_get_stripe_count", ints(ADDRESS, ADDRESS));
    static final MethodHandle getOverlap = fn("rbd_get_overlap", ints(ADDRESS, ADDRESS));
    static final MethodHandle getBlockNamePrefix = fn("rbd_get_block_name_prefix", ints(ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle getDataPoolId = fn("rbd_get_data_pool_id", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle getId = fn("rbd_get_id", ints(ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle flush = fn("rbd_flush", ints(ADDRESS));
    static final MethodHandle read = fn("rbd_read", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    static final MethodHandle write = fn("rbd_write", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));

    static final MethodHandle aioCreateCompletion = fn("rbd_aio_create_completion", ints(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle aioGetReturnValue = fn("rbd_aio_get_return_value", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle aioRelease = fn("rbd_aio_release", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle aioRead2 = fn("rbd_aio_read2", ints(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle aioWrite2 = fn("rbd_aio_write2", ints(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle aioFlush = fn("rbd_aio_flush", ints(ADDRESS, ADDRESS));
    static final MethodHandle aioDiscard = fn("rbd_aio_discard", ints(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    static final MethodHandle aioWriteZeroes = fn("rbd_aio_write_zeroes",
            ints(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle aioWritesame = fn("rbd_aio_writesame",
            ints(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT));

    static final MethodHandle updateWatch = fn("rbd_update_watch", ints(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle updateUnwatch = fn("rbd_update_unwatch", ints(ADDRESS, JAVA_LONG));
    static final MethodHandle diffIterate2 = fn("rbd_diff_iterate2",
            ints(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_BYTE, JAVA_BYTE, ADDRESS, ADDRESS));

    /** Asynchronous librbd calls (one upcall stub for all of them). */
    static final Completions completions = new Completions("librbd", new Completions.Api() {
        @Override
        public int create(MemorySegment arg, MemorySegment callback, MemorySegment out) throws Throwable {
            return (int) aioCreateCompletion.invokeExact(arg, callback, out);
        }

        @Override
        public long returnValue(MemorySegment completion) throws Throwable {
            return (long) aioGetReturnValue.invokeExact(completion);
        }

        @Override
        public void release(MemorySegment completion) throws Throwable {
            aioRelease.invokeExact(completion);
        }
    });
}
