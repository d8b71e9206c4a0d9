package io.tandem.storage.rbd;

import io.tandem.ceph.CephException;
import io.tandem.ceph.CompareMismatchException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import io.tandem.ceph.WriteOp;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.StorageException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Atomic operations on an image's data objects, executed by the OSDs, so they are atomic across
 * every client of the image (every node) without a cluster lock on the data path:
 *
 * <ul>
 *   <li><b>COMPARE AND WRITE inside one object</b> (every single-block CAW, since objects are
 *       whole blocks): one RADOS write operation on the data object, {@code cmpext(expected) +
 *       write(replacement)}, guarded by {@code cmpxattr(LOCK == "")} so it waits for a multi-object
 *       operation holding the object. A missing object reads as zeroes to cmpext; the attribute
 *       guard needs an existing object, so a missing one is written with {@code create(exclusive) +
 *       cmpext + write} instead, retried the normal way if another client created it meanwhile.</li>
 *   <li><b>Everything else</b> (a CAW straddling objects, any {@code update}): the objects are
 *       locked in ascending order by setting attribute {@code LOCK} to this operation's token
 *       ({@code cmpxattr(LOCK == "") + setxattr}, or {@code create(exclusive) + setxattr} for a
 *       missing object), read, changed, and each written with {@code cmpxattr(LOCK == token) +
 *       write + rmxattr} (an object left unwritten is unlocked alone). A lock carries an expiry
 *       ({@link #LEASE_MILLIS}); a holder that died is broken after it ({@code cmpxattr(LOCK ==
 *       stale) + rmxattr}), and a holder whose lease was broken fails its guarded write instead of
 *       writing.</li>
 * </ul>
 *
 * Atomicity holds among these operations. Plain writes (librbd) do not look at the lock, as in
 * the file backend; readers may see a multi-object write half done.
 */
final class AtomicObjects {

    static final String LOCK = "tandem.atomic";
    /** How long a lock is honoured: far longer than a locked operation takes, short enough for a dead holder. */
    static final long LEASE_MILLIS = 20_000;
    /** How long an operation waits for a lock before failing. */
    static final long WAIT_MILLIS = 25_000;
    private static final byte[] UNLOCKED = new byte[0];
    private static final int MAX_CREATE_RACES = 64;

    private final IoCtx io;
    private final ObjectLayout layout;
    private final String owner;
    private final Executor blocking;

    AtomicObjects(IoCtx io, ObjectLayout layout, String owner, Executor blocking) {
        this.io = io;
        this.layout = layout;
        this.owner = owner;
        this.blocking = blocking;
    }

    // ---- COMPARE AND WRITE ------------------------------------------------------------------

    /**
     * Compares the image bytes at {@code offset} with {@code expected} and writes {@code
     * replacement} if equal, atomically. Completes with -1 when written, or the offset of the first
     * difference.
     */
    CompletableFuture<Long> compareAndWrite(long offset, ByteBuffer expected, ByteBuffer replacement) {
        List<ObjectLayout.Piece> pieces = layout.split(offset, expected.remaining());
        if (pieces.size() == 1) {
            ObjectLayout.Piece p = pieces.getFirst();
            MemorySegment cmp = MemorySegment.ofBuffer(expected);
            MemorySegment data = MemorySegment.ofBuffer(replacement);
            return compareAndWriteObject(p, cmp, data, System.currentTimeMillis() + WAIT_MILLIS, 0);
        }
        long[] mismatch = {-1};
        ByteBuffer current = ByteBuffer.allocate(expected.remaining());
        return update(offset, current, medium -> {
            int at = expected.duplicate().mismatch(medium);
            if (at >= 0) {
                mismatch[0] = at;
                return false;
            }
            medium.clear();
            medium.put(replacement.duplicate());
            medium.flip();
            return true;
        }).thenApply(written -> written ? -1L : mismatch[0]);
    }

    private CompletableFuture<Long> compareAndWriteObject(ObjectLayout.Piece p, MemorySegment cmp, MemorySegment data,
                                                          long deadline, int creates) {
        WriteOp op = WriteOp.create()
                .compareXattr(LOCK, WriteOp.XattrComparison.EQ, UNLOCKED)
                .compareExtent(p.objectOffset(), cmp)
                .write(p.objectOffset(), data);
        return op.operateAsync(io, p.oid()).handle((v, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(-1L);
            }
            Throwable cause = unwrap(e);
            if (cause instanceof CompareMismatchException m) {
                return CompletableFuture.completedFuture(m.offset());
            }
            if (cause instanceof CephException c && c.errno() == Errno.ENOENT) {
                return createAndWrite(p, cmp, data, deadline, creates);
            }
            if (cause instanceof CephException c && c.errno() == Errno.ECANCELED) {
                // a multi-object operation holds the object: try again shortly
                if (System.currentTimeMillis() > deadline) {
                    return CompletableFuture.<Long>failedFuture(lockTimeout(p.oid()));
                }
                return later().thenCompose(x -> compareAndWriteObject(p, cmp, data, deadline, creates));
            }
            return CompletableFuture.<Long>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    /** The object does not exist: it reads as zeroes, and creating it exclusively keeps the step atomic. */
    private CompletableFuture<Long> createAndWrite(ObjectLayout.Piece p, MemorySegment cmp, MemorySegment data,
                                                   long deadline, int creates) {
        if (creates >= MAX_CREATE_RACES) {
            return CompletableFuture.failedFuture(new StorageException(StorageException.Kind.WRITE_ERROR,
                    p.oid() + ": the object keeps appearing and disappearing under COMPARE AND WRITE"));
        }
        WriteOp op = WriteOp.create()
                .create(true)
                .compareExtent(p.objectOffset(), cmp)
                .write(p.objectOffset(), data);
        return op.operateAsync(io, p.oid()).handle((v, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(-1L);
            }
            Throwable cause = unwrap(e);
            if (cause instanceof CompareMismatchException m) {
                return CompletableFuture.completedFuture(m.offset());
            }
            if (cause instanceof CephException c && c.errno() == Errno.EEXIST) {
                return compareAndWriteObject(p, cmp, data, deadline, creates + 1);
            }
            return CompletableFuture.<Long>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    // ---- deallocation follow-up ----------------------------------------------------------------

    /**
     * Removes object {@code objectNo} if all its bytes are zero and nothing changed it since its
     * size was read (version guard) and no atomic operation holds it: librbd gives back only the
     * objects a discard covers whole, so an object zeroed piece by piece (SANITIZE, a file
     * system trimming in chunks) would otherwise stay allocated. Best effort: any failure leaves
     * the object as it is (still reading as zeroes).
     */
    void removeIfZero(long objectNo, MemorySegment zeroes) {
        String oid = layout.objectName(objectNo);
        try {
            IoCtx.SizeVersion seen = io.statVersioned(oid);
            if (seen.size() > zeroes.byteSize()) {
                return;
            }
            WriteOp op = WriteOp.create().assertVersion(seen.version())
                    .compareXattr(LOCK, WriteOp.XattrComparison.EQ, UNLOCKED);
            if (seen.size() > 0) {
                op.compareExtent(0, zeroes.asSlice(0, seen.size()));
            }
            op.remove().operate(io, oid);
        } catch (CephException e) {
            // ENOENT (gone already), a mismatch (data left), ERANGE/ECANCELED (changed or held): keep it
        }
    }

    // ---- locked read-modify-write -------------------------------------------------------------

    /**
     * Atomic read-modify-write of [{@code offset}, {@code offset + buffer.remaining()}) under the
     * objects' locks; runs on the blocking executor (synchronous RADOS calls).
     */
    CompletableFuture<Boolean> update(long offset, ByteBuffer buffer, BlockDevice.RangeUpdate change) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        try {
            blocking.execute(() -> {
                try {
                    result.complete(lockedUpdate(offset, buffer, change));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new StorageException(StorageException.Kind.CLOSED, "device is closed"));
        }
        return result;
    }

    private boolean lockedUpdate(long offset, ByteBuffer buffer, BlockDevice.RangeUpdate change) {
        int length = buffer.remaining();
        List<ObjectLayout.Piece> pieces = layout.split(offset, length);
        byte[] token = (owner + "/" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + " "
                + (System.currentTimeMillis() + LEASE_MILLIS)).getBytes(StandardCharsets.UTF_8);
        List<ObjectLayout.Piece> locked = new ArrayList<>(pieces.size());
        try (Arena arena = Arena.ofConfined()) {
            long deadline = System.currentTimeMillis() + WAIT_MILLIS;
            for (ObjectLayout.Piece p : pieces) {
                lock(p.oid(), token, deadline);
                locked.add(p);
            }
            MemorySegment medium = arena.allocate(length);
            for (ObjectLayout.Piece p : pieces) {
                readPiece(p, medium.asSlice(p.rangeOffset(), p.length()));
            }
            ByteBuffer view = buffer.slice();
            MemorySegment.ofBuffer(view).copyFrom(medium);
            boolean write;
            try {
                write = change.apply(view);
            } catch (RuntimeException e) {
                throw new ChangeFailed(e);
            }
            if (!write) {
                return false;
            }
            MemorySegment changed = arena.allocate(length);
            changed.copyFrom(MemorySegment.ofBuffer(view.rewind()));
            int written = 0;
            for (ObjectLayout.Piece p : pieces) {
                try {
                    WriteOp.create()
                            .compareXattr(LOCK, WriteOp.XattrComparison.EQ, token)
                            .write(p.objectOffset(), changed.asSlice(p.rangeOffset(), p.length()))
                            .removeXattr(LOCK)
                            .operate(io, p.oid());
                } catch (CephException e) {
                    String lost = e.errno() == Errno.ECANCELED || e.errno() == Errno.ENOENT
                            ? " (the lock was broken: it outlived its lease)" : "";
                    throw new StorageException(RbdErrors.kind(e.errno(), StorageException.Kind.WRITE_ERROR),
                            p.oid() + ": atomic write failed after " + written + " of " + pieces.size()
                                    + " objects" + lost + ": " + e.getMessage(), e);
                }
                locked.remove(p);
                written++;
            }
            return true;
        } finally {
            for (ObjectLayout.Piece p : locked) {
                unlock(p.oid(), token);
            }
        }
    }

    private void readPiece(ObjectLayout.Piece p, MemorySegment into) {
        int n;
        try {
            n = io.read(p.oid(), p.objectOffset(), into);
        } catch (CephException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            n = 0;
        }
        if (n < into.byteSize()) {
            into.asSlice(n).fill((byte) 0); // past the object's end: zeroes
        }
    }

    /** Takes the lock attribute of {@code oid}, waiting for (or breaking an expired) other holder. */
    private void lock(String oid, byte[] token, long deadline) {
        int pause = 1;
        while (true) {
            try {
                WriteOp.create().compareXattr(LOCK, WriteOp.XattrComparison.EQ, UNLOCKED).setXattr(LOCK, token)
                        .operate(io, oid);
                return;
            } catch (CephException e) {
                if (e.errno() == Errno.ENOENT) {
                    try {
                        WriteOp.create().create(true).setXattr(LOCK, token).operate(io, oid);
                        return;
                    } catch (CephException c) {
                        if (c.errno() != Errno.EEXIST) {
                            throw c;
                        }
                        continue; // created meanwhile: take it the normal way
                    }
                }
                if (e.errno() != Errno.ECANCELED) {
                    throw e;
                }
            }
            byte[] held = heldBy(oid);
            if (held != null && expired(held)) {
                try {
                    WriteOp.create().compareXattr(LOCK, WriteOp.XattrComparison.EQ, held).removeXattr(LOCK)
                            .operate(io, oid);
                    System.getLogger(AtomicObjects.class.getName()).log(System.Logger.Level.WARNING,
                            oid + ": broke an expired atomic-operation lock held by "
                                    + new String(held, StandardCharsets.UTF_8));
                } catch (CephException e) {
                    if (e.errno() != Errno.ECANCELED && e.errno() != Errno.ENOENT) {
                        throw e;
                    }
                }
                continue;
            }
            if (System.currentTimeMillis() > deadline) {
                throw lockTimeout(oid);
            }
            try {
                Thread.sleep(ThreadLocalRandom.current().nextInt(pause, 2 * pause + 1));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new StorageException(StorageException.Kind.WRITE_ERROR, oid + ": interrupted waiting for a lock");
            }
            pause = Math.min(pause * 2, 16);
        }
    }

    private byte[] heldBy(String oid) {
        try {
            return io.getXattr(oid, LOCK, 256);
        } catch (CephException e) {
            if (e.errno() == Errno.ENODATA || e.errno() == Errno.ENOENT) {
                return null; // released meanwhile
            }
            throw e;
        }
    }

    /** Whether a lock value ("owner/nonce expiry-millis") is past its expiry. */
    static boolean expired(byte[] held) {
        String value = new String(held, StandardCharsets.UTF_8);
        int space = value.lastIndexOf(' ');
        try {
            return space > 0 && System.currentTimeMillis() > Long.parseLong(value.substring(space + 1));
        } catch (NumberFormatException e) {
            return true; // not ours to understand: treat as stale rather than wedge the object
        }
    }

    private void unlock(String oid, byte[] token) {
        try {
            WriteOp.create().compareXattr(LOCK, WriteOp.XattrComparison.EQ, token).removeXattr(LOCK).operate(io, oid);
        } catch (CephException e) {
            System.getLogger(AtomicObjects.class.getName()).log(System.Logger.Level.WARNING,
                    oid + ": releasing the atomic-operation lock: " + e.getMessage());
        }
    }

    /** Carries an exception thrown by a {@link BlockDevice.RangeUpdate} past the error translation, unchanged. */
    static final class ChangeFailed extends RuntimeException {
        ChangeFailed(RuntimeException cause) {
            super(cause);
        }
    }

    private static StorageException lockTimeout(String oid) {
        return new StorageException(StorageException.Kind.UNAVAILABLE,
                oid + ": another atomic operation held the object for more than " + WAIT_MILLIS + " ms");
    }

    private static CompletableFuture<Void> later() {
        return CompletableFuture.runAsync(() -> { },
                CompletableFuture.delayedExecutor(ThreadLocalRandom.current().nextInt(1, 5), TimeUnit.MILLISECONDS));
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
