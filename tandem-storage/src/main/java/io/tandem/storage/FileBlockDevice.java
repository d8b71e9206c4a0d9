package io.tandem.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A block device on a regular file (created sparse if missing) or a block device node, using
 * positional I/O so concurrent commands never share a file position.
 *
 * <p>Operations run on virtual threads: the JDK compensates for blocking file I/O by adding carrier
 * threads, so many commands can be in the kernel at once. FUA writes go through a second channel
 * opened with {@code DSYNC}, so only that write (not the whole file) waits for stable storage.
 *
 * <h2>Atomic operations</h2>
 * Every read and write holds its byte range shared in a {@link RangeLockTable} that all devices
 * of this process opened on the same file (same device and inode) share. {@link #update} (COMPARE
 * AND WRITE, ORWRITE) and {@link #writeAtomic} hold their range exclusively in that table and, in
 * addition, an exclusive {@code fcntl} record lock on the same bytes of the file, so they are
 * atomic against each other across processes and nodes that share the file (the lock is honoured
 * by NFS and cluster filesystems). The JDK takes classic POSIX record locks
 * ({@code F_SETLKW}, not open-file-description locks): they belong to the process, so two threads
 * of one JVM would not exclude each other through them (the JDK throws
 * {@code OverlappingFileLockException} instead), and closing any descriptor of the file drops all
 * of the process' locks on it. The in-process table is what serializes threads of this JVM, and
 * this class never closes a descriptor of the file while it is open. Ordinary reads and writes do
 * not take the file lock (a lock round trip per I/O would be too dear on a shared filesystem): a
 * plain WRITE from another node may interleave with an atomic operation here.
 *
 * <p>{@link #copyTo} another file device offloads the copy to the kernel
 * ({@code FileChannel.transferTo}, which is {@code copy_file_range} on Linux), so the data never
 * passes through this process and the filesystem may share extents instead of copying them.
 */
public final class FileBlockDevice implements BlockDevice {

    private final Path path;
    private final int blockSize;
    private final long blockCount;
    private final boolean readOnly;
    private final FileChannel channel;
    private final FileChannel syncChannel;
    /** Destination channel of offloaded copies (they write at its position); null when read-only. */
    private final FileChannel copyChannel;
    private final Object copyChannelLock = new Object();
    private final Object fileKey;
    private final RangeLockTable ranges;
    private final ExecutorService io = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("file-io-", 0).factory());
    private volatile boolean closed;

    private FileBlockDevice(Path path, int blockSize, long blockCount, boolean readOnly,
                            FileChannel channel, FileChannel syncChannel, FileChannel copyChannel, Object fileKey) {
        this.path = path;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.readOnly = readOnly;
        this.channel = channel;
        this.syncChannel = syncChannel;
        this.copyChannel = copyChannel;
        this.fileKey = fileKey;
        this.ranges = SharedRanges.acquire(fileKey);
    }

    /**
     * Opens {@code path}, creating a sparse file of {@code sizeBytes} if it does not exist. An
     * existing file keeps its size (a size given for it must match or is ignored when zero).
     */
    public static FileBlockDevice open(Path path, long sizeBytes, int blockSize, boolean readOnly) throws IOException {
        BlockSizes.check(blockSize);
        boolean exists = Files.exists(path);
        if (!exists) {
            if (readOnly) {
                throw new IOException("read-only LUN file " + path + " does not exist");
            }
            if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
                throw new IllegalArgumentException("size " + sizeBytes + " must be a positive multiple of the block size " + blockSize);
            }
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            try (FileChannel create = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.SPARSE)) {
                // Writing the last byte gives the file its length without allocating blocks.
                create.write(ByteBuffer.wrap(new byte[1]), sizeBytes - 1);
            }
        }
        Set<StandardOpenOption> options = readOnly ? EnumSet.of(StandardOpenOption.READ)
                : EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel channel = FileChannel.open(path, options);
        FileChannel syncChannel = readOnly ? null
                : FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.DSYNC);
        FileChannel copyChannel = readOnly ? null : FileChannel.open(path, StandardOpenOption.WRITE);
        long bytes = channel.size();
        if (bytes == 0 && !Files.isRegularFile(path)) {
            // Block device nodes report size 0 through FileChannel.size(); seek to the end instead.
            bytes = deviceSize(path);
        }
        if (exists && sizeBytes > 0 && bytes != sizeBytes && Files.isRegularFile(path)) {
            closeAll(channel, syncChannel, copyChannel);
            throw new IllegalArgumentException("existing file " + path + " has " + bytes
                    + " bytes, configured size is " + sizeBytes);
        }
        long blocks = bytes / blockSize;
        if (blocks == 0) {
            closeAll(channel, syncChannel, copyChannel);
            throw new IllegalArgumentException(path + " is smaller than one " + blockSize + "-byte block");
        }
        return new FileBlockDevice(path, blockSize, blocks, readOnly, channel, syncChannel, copyChannel, fileKey(path));
    }

    private static void closeAll(FileChannel... channels) throws IOException {
        for (FileChannel c : channels) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** Identity of the underlying file (device and inode), so two paths to one file share one lock table. */
    private static Object fileKey(Path path) throws IOException {
        Object key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        return key != null ? key : path.toRealPath();
    }

    private static long deviceSize(Path path) throws IOException {
        try (var raf = new java.io.RandomAccessFile(path.toFile(), "r")) {
            return raf.length();
        }
    }

    public Path path() { return path; }
    @Override public int blockSize() { return blockSize; }
    @Override public long blockCount() { return blockCount; }
    @Override public boolean readOnly() { return readOnly; }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        return submit(() -> {
            BlockSizes.checkRange(lba, dst.remaining(), blockSize, blockCount);
            try (var range = ranges.shared(lba * blockSize, dst.remaining())) {
                readFully(lba, dst);
            }
        }, StorageException.Kind.READ_ERROR);
    }

    private void readFully(long lba, ByteBuffer dst) throws IOException {
        long position = lba * blockSize;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                // A file shorter than its block count (truncated underneath us) reads as zeroes.
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                break;
            }
            position += n;
        }
    }

    private void writeFully(long lba, ByteBuffer src, boolean forceUnitAccess) throws IOException {
        FileChannel target = forceUnitAccess ? syncChannel : channel;
        long position = lba * blockSize;
        while (src.hasRemaining()) {
            position += target.write(src, position);
        }
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        if (readOnly) {
            return writeProtected();
        }
        return submit(() -> {
            BlockSizes.checkRange(lba, src.remaining(), blockSize, blockCount);
            try (var range = ranges.shared(lba * blockSize, src.remaining())) {
                writeFully(lba, src, forceUnitAccess);
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        if (readOnly) {
            return writeProtected();
        }
        return call(() -> {
            BlockSizes.checkRange(lba, buffer.remaining(), blockSize, blockCount);
            long position = lba * blockSize;
            long length = buffer.remaining();
            try (var range = ranges.exclusive(position, length);
                 FileLock fileLock = channel.lock(position, length, false)) {
                ByteBuffer medium = buffer.slice();
                readFully(lba, medium);
                medium.flip();
                boolean write;
                try {
                    write = change.apply(medium);
                } catch (RuntimeException e) {
                    throw new ChangeFailed(e);
                }
                if (write) {
                    writeFully(lba, medium.rewind(), forceUnitAccess);
                }
                return write;
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        if (readOnly) {
            return writeProtected();
        }
        return submit(() -> {
            BlockSizes.checkRange(lba, src.remaining(), blockSize, blockCount);
            long position = lba * blockSize;
            long length = src.remaining();
            try (var range = ranges.exclusive(position, length);
                 FileLock fileLock = channel.lock(position, length, false)) {
                writeFully(lba, src, forceUnitAccess);
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public CompletableFuture<Void> copyTo(BlockDevice target, long srcLba, long dstLba, long blocks) {
        if (!(target instanceof FileBlockDevice dst) || dst.blockSize != blockSize) {
            return BlockDevice.super.copyTo(target, srcLba, dstLba, blocks);
        }
        if (dst.readOnly) {
            return writeProtected();
        }
        return submit(() -> {
            long length = blocks * blockSize;
            BlockSizes.checkRange(srcLba, length, blockSize, blockCount);
            BlockSizes.checkRange(dstLba, length, blockSize, dst.blockCount);
            long from = srcLba * blockSize;
            long to = dstLba * blockSize;
            for (long done = 0; done < length; ) {
                long n = Math.min(length - done, COPY_CHUNK_BYTES);
                try (var held = holdCopyRanges(dst, from + done, to + done, n)) {
                    dst.transferFrom(channel, from + done, to + done, n);
                }
                done += n;
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    /** Source and destination ranges of a copy piece, taken without risking a lock-order deadlock. */
    private Hold holdCopyRanges(FileBlockDevice dst, long from, long to, long length) {
        if (dst.ranges == ranges) {
            return ranges.shared(from, length, to, length)::close;
        }
        boolean sourceFirst = ranges.order() < dst.ranges.order();
        RangeLockTable.Held first = sourceFirst ? ranges.shared(from, length) : dst.ranges.shared(to, length);
        RangeLockTable.Held second = sourceFirst ? dst.ranges.shared(to, length) : ranges.shared(from, length);
        return () -> {
            second.close();
            first.close();
        };
    }

    /** Copies {@code length} bytes of {@code source} at {@code from} to this file at {@code to}, in the kernel. */
    private void transferFrom(FileChannel source, long from, long to, long length) throws IOException {
        synchronized (copyChannelLock) {
            copyChannel.position(to);
            long done = 0;
            while (done < length) {
                long n = source.transferTo(from + done, length - done, copyChannel);
                if (n <= 0) {
                    throw new IOException("copy stalled at byte " + (from + done) + " of the source");
                }
                done += n;
            }
        }
    }

    private <T> CompletableFuture<T> writeProtected() {
        return CompletableFuture.failedFuture(
                new StorageException(StorageException.Kind.WRITE_PROTECTED, path + " is read-only"));
    }

    @Override
    public CompletableFuture<Void> flush() {
        if (readOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return submit(() -> channel.force(false), StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        io.shutdown();
        try {
            io.awaitTermination(30, TimeUnit.SECONDS);
            if (!readOnly) {
                channel.force(true);
            }
            closeAll(channel, syncChannel, copyChannel);
        } catch (IOException e) {
            throw new UncheckedIOException("closing " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            SharedRanges.release(fileKey);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    private interface IoCall<T> {
        T call() throws IOException;
    }

    /** Carries an exception thrown by an {@link RangeUpdate} past the I/O error classification. */
    private static final class ChangeFailed extends RuntimeException {
        ChangeFailed(RuntimeException cause) {
            super(cause);
        }
    }

    private CompletableFuture<Void> submit(IoAction action, StorageException.Kind failureKind) {
        return call(() -> {
            action.run();
            return null;
        }, failureKind);
    }

    private <T> CompletableFuture<T> call(IoCall<T> action, StorageException.Kind failureKind) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new StorageException(StorageException.Kind.CLOSED, path + " is closed"));
            return result;
        }
        try {
            io.execute(() -> {
                try {
                    result.complete(action.call());
                } catch (ChangeFailed e) {
                    result.completeExceptionally(e.getCause());
                } catch (StorageException e) {
                    result.completeExceptionally(e);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(new StorageException(failureKind, path + ": " + e.getMessage(), e));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new StorageException(StorageException.Kind.CLOSED, path + " is closed"));
        }
        return result;
    }

    /** Largest piece of an offloaded copy done under one pair of range locks. */
    private static final long COPY_CHUNK_BYTES = 8L << 20;

    /**
     * The range lock tables of this process, one per open file, shared by every device opened on it
     * (two LUNs on one file, or two nodes of a test cluster in one JVM).
     */
    private static final class SharedRanges {
        private record Entry(RangeLockTable table, int users) {
        }

        private static final Map<Object, Entry> TABLES = new HashMap<>();

        static synchronized RangeLockTable acquire(Object fileKey) {
            Entry e = TABLES.get(fileKey);
            Entry next = e == null ? new Entry(new RangeLockTable(), 1) : new Entry(e.table(), e.users() + 1);
            TABLES.put(fileKey, next);
            return next.table();
        }

        static synchronized void release(Object fileKey) {
            Entry e = TABLES.get(fileKey);
            if (e == null) {
                return;
            }
            if (e.users() == 1) {
                TABLES.remove(fileKey);
            } else {
                TABLES.put(fileKey, new Entry(e.table(), e.users() - 1));
            }
        }
    }
}
