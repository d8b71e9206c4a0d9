package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Asynchronous calls of one library (librados or librbd), turned into futures. There is one upcall
 * stub per library for the life of the JVM; the callback argument is not a pointer but the id of
 * the pending call, so no Java object is ever handed to native code and a late or duplicate
 * callback finds nothing to complete.
 *
 * <p>Every started call ends in its future: with the call's non-negative return value, or with
 * a {@link CephException} for a negative one (also when the submitting function itself fails, in
 * which case the library never calls back). Callbacks run on library threads, which must not
 * block or re-enter the library, so futures are completed on virtual threads.
 */
final class Completions {

    private static final System.Logger LOG = System.getLogger(Completions.class.getName());
    private static final FunctionDescriptor CALLBACK = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
    private static final Executor COMPLETER = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ceph-completion-", 0).factory());

    /** The three completion functions of a library. */
    interface Api {
        int create(MemorySegment arg, MemorySegment callback, MemorySegment out) throws Throwable;

        long returnValue(MemorySegment completion) throws Throwable;

        void release(MemorySegment completion) throws Throwable;

        /**
         * The version of the object the call read or wrote, kept in the completion (librados'
         * {@code rados_aio_get_version}); a library without object versions does not offer it.
         */
        default long version(MemorySegment completion) throws Throwable {
            throw new UnsupportedOperationException("object versions");
        }
    }

    /** What a call {@linkplain #startVersioned started with its version} ended with. */
    record Versioned(long value, long version) {
    }

    /** Submits the asynchronous call with the completion it must report to; returns its return code. */
    @FunctionalInterface
    interface Submit {
        long submit(MemorySegment completion) throws Throwable;
    }

    /** A started call: {@code future} or, for a call that reports its version, {@code versioned}. */
    private record Pending(String call, CompletableFuture<Long> future, CompletableFuture<Versioned> versioned,
                           Object keepAlive) {

        void fail(Throwable t) {
            if (future != null) {
                future.completeExceptionally(t);
            } else {
                versioned.completeExceptionally(t);
            }
        }
    }

    private final String library;
    private final Api api;
    private final MemorySegment callback;
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    Completions(String library, Api api) {
        this.library = library;
        this.api = api;
        try {
            MethodHandle target = MethodHandles.lookup().findVirtual(Completions.class, "completed",
                    MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class)).bindTo(this);
            this.callback = NativeLibrary.upcall(target, CALLBACK);
        } catch (ReflectiveOperationException e) {
            throw new LinkageError("completion callback", e);
        }
    }

    /**
     * Starts {@code call}. {@code keepAlive} (the buffers the library reads or writes) stays
     * reachable until the library called back.
     */
    CompletableFuture<Long> start(String call, Object keepAlive, Submit submit) {
        CompletableFuture<Long> future = new CompletableFuture<>();
        begin(new Pending(call, future, null, keepAlive), submit);
        return future;
    }

    /**
     * As {@link #start}, and the future also carries the version of the object the call touched,
     * read from the call's own completion: unlike {@code rados_get_last_version}, which is one slot
     * per I/O context that every synchronous call (a notify, a watch) overwrites, it cannot be
     * another call's.
     */
    CompletableFuture<Versioned> startVersioned(String call, Object keepAlive, Submit submit) {
        CompletableFuture<Versioned> future = new CompletableFuture<>();
        begin(new Pending(call, null, future, keepAlive), submit);
        return future;
    }

    private void begin(Pending call, Submit submit) {
        long id = ids.incrementAndGet();
        MemorySegment completion;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int created = api.create(MemorySegment.ofAddress(id), callback, out);
            if (created < 0) {
                call.fail(CephException.of(library + " completion for " + call.call(), created));
                return;
            }
            completion = out.get(ADDRESS, 0);
        } catch (Throwable t) {
            call.fail(t);
            return;
        }
        pending.put(id, call);
        long submitted;
        try {
            submitted = submit.submit(completion);
        } catch (Throwable t) {
            abandon(id, completion, t);
            return;
        }
        if (submitted < 0) {
            // The library refused the call before queueing it: it will not call back.
            abandon(id, completion, CephException.of(call.call(), submitted));
        }
    }

    private void abandon(long id, MemorySegment completion, Throwable failure) {
        Pending p = pending.remove(id);
        if (p == null) {
            return; // it called back after all; the callback completed the future
        }
        release(completion);
        p.fail(failure);
    }

    private void release(MemorySegment completion) {
        try {
            api.release(completion);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, library + ": releasing a completion failed", t);
        }
    }

    /** Number of calls started and not yet called back (for tests and diagnostics). */
    int pendingCount() {
        return pending.size();
    }

    /** The upcall: must not throw (an exception escaping an upcall ends the JVM). */
    @SuppressWarnings("unused")
    private void completed(MemorySegment completion, MemorySegment arg) {
        Pending p = pending.remove(arg.address());
        try {
            long result;
            long version = 0;
            try {
                result = api.returnValue(completion);
                if (p != null && p.versioned() != null && result >= 0) {
                    version = api.version(completion);
                }
            } finally {
                release(completion);
            }
            if (p == null) {
                return;
            }
            long v = version;
            COMPLETER.execute(() -> {
                if (result < 0) {
                    p.fail(CephException.of(p.call(), result));
                } else if (p.future() != null) {
                    p.future().complete(result);
                } else {
                    p.versioned().complete(new Versioned(result, v));
                }
            });
        } catch (Throwable t) {
            if (p != null) {
                p.fail(t);
            }
            LOG.log(System.Logger.Level.ERROR, library + ": completion callback failed", t);
        }
    }
}
