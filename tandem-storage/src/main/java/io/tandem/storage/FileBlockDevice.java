package io.tandem.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
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
 */
public final class FileBlockDevice implements BlockDevice {

    private final Path path;
    private final int blockSize;
    private final long blockCount;
    private final boolean readOnly;
    private final FileChannel channel;
    private final FileChannel syncChannel;
    private final ExecutorService io = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("file-io-", 0).factory());
    private volatile boolean closed;

    private FileBlockDevice(Path path, int blockSize, long blockCount, boolean readOnly,
                            FileChannel channel, FileChannel syncChannel) {
        this.path = path;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.readOnly = readOnly;
        this.channel = channel;
        this.syncChannel = syncChannel;
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
        long bytes = channel.size();
        if (bytes == 0 && !Files.isRegularFile(path)) {
            // Block device nodes report size 0 through FileChannel.size(); seek to the end instead.
            bytes = deviceSize(path);
        }
        if (exists && sizeBytes > 0 && bytes != sizeBytes && Files.isRegularFile(path)) {
            channel.close();
            if (syncChannel != null) {
                syncChannel.close();
            }
            throw new IllegalArgumentException("existing file " + path + " has " + bytes
                    + " bytes, configured size is " + sizeBytes);
        }
        long blocks = bytes / blockSize;
        if (blocks == 0) {
            channel.close();
            if (syncChannel != null) {
                syncChannel.close();
            }
            throw new IllegalArgumentException(path + " is smaller than one " + blockSize + "-byte block");
        }
        return new FileBlockDevice(path, blockSize, blocks, readOnly, channel, syncChannel);
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
        }, StorageException.Kind.READ_ERROR);
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        if (readOnly) {
            return CompletableFuture.failedFuture(
                    new StorageException(StorageException.Kind.WRITE_PROTECTED, path + " is read-only"));
        }
        return submit(() -> {
            BlockSizes.checkRange(lba, src.remaining(), blockSize, blockCount);
            FileChannel target = forceUnitAccess ? syncChannel : channel;
            long position = lba * blockSize;
            while (src.hasRemaining()) {
                position += target.write(src, position);
            }
        }, StorageException.Kind.WRITE_ERROR);
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
            channel.close();
            if (syncChannel != null) {
                syncChannel.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("closing " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private CompletableFuture<Void> submit(IoAction action, StorageException.Kind failureKind) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new StorageException(StorageException.Kind.CLOSED, path + " is closed"));
            return result;
        }
        try {
            io.execute(() -> {
                try {
                    action.run();
                    result.complete(null);
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
}
