package io.tandem.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A block device on a regular file (created sparse if missing) or a block device node, using
 * positional I/O so concurrent commands never share a file position.
 *
 * <p>Operations run on virtual threads: the JDK compensates for blocking file I/O by adding carrier
 * threads, so many commands can be in the kernel at once. FUA writes go through a second channel
 * opened with {@code DSYNC}, so only that write (not the whole file) waits for stable storage.
 *
 * <p>Thin provisioning: a regular file is thin when its file system punches holes. Deallocation is
 * {@code fallocate(PUNCH_HOLE | KEEP_SIZE)} on the whole file system blocks of the range (the
 * partial blocks at its edges are written with zeroes, unless they already lie in a hole), and
 * provisioning status is read with {@code lseek(SEEK_DATA / SEEK_HOLE)}. Both are foreign calls
 * ({@link NativeFiles}) on a raw descriptor this class opens next to its channels. Whether holes
 * work is probed at open by punching past the end of the file, which touches no data; a file
 * system that refuses ({@code EOPNOTSUPP}) makes the device fully provisioned: deallocation then
 * writes zeroes and every block reports mapped. On a block device node deallocation asks the kernel
 * to zero with unmap ({@code fallocate} on a block device guarantees zeroes), falling back to
 * writing zeroes; the device reports itself fully provisioned, since whether the hardware really
 * frees space is not knowable here.
 *
 * <h2>Atomic operations</h2>
 * Every read, write and deallocation holds its byte range shared in a {@link RangeLockTable} that
 * all devices of this process opened on the same file (same device and inode) share. {@link
 * #update} (COMPARE AND WRITE, ORWRITE) and {@link #writeAtomic} hold their range exclusively in
 * that table and, in addition, an exclusive {@code fcntl} record lock on the same bytes of the
 * file, so they are atomic against each other across processes and nodes that share the file (the
 * lock is honoured by NFS and cluster file systems). The JDK takes classic POSIX record locks
 * ({@code F_SETLKW}, not open-file-description locks): they belong to the process, so two threads
 * of one JVM would not exclude each other through them (the JDK throws {@code
 * OverlappingFileLockException} instead), and closing any descriptor of the file drops all of the
 * process' locks on it. The in-process table is what serializes threads of this JVM, and this class
 * closes no descriptor of the file while it is open. Ordinary reads and writes do not take the
 * file lock (a lock round trip per I/O would be too dear on a shared file system): a plain WRITE
 * from another node may interleave with an atomic operation here.
 *
 * <p>{@link #copyTo} another file device offloads the copy to the kernel ({@code
 * FileChannel.transferTo}, which is {@code copy_file_range} on Linux), so the data never passes
 * through this process and the file system may share extents instead of copying them.
 */
public final class FileBlockDevice implements BlockDevice {

    private static final System.Logger LOG = System.getLogger(FileBlockDevice.class.getName());
    private static final int PUNCH = NativeFiles.FALLOC_FL_PUNCH_HOLE | NativeFiles.FALLOC_FL_KEEP_SIZE;
    /** Shared source of zeroes for writes; read-only so no one can dirty it. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(BlockFill.CHUNK_BYTES).asReadOnlyBuffer();

    private final Path path;
    private final int blockSize;
    /** Grows with {@link #resize}; read on every range check. */
    private volatile long blockCount;
    private final boolean readOnly;
    private final FileChannel channel;
    private final FileChannel syncChannel;
    /** Destination channel of offloaded copies (they write at its position); null when read-only. */
    private final FileChannel copyChannel;
    private final Object copyChannelLock = new Object();
    private final Object fileKey;
    private final RangeLockTable ranges;
    /** Raw descriptor for fallocate and lseek, or -1 without native calls. */
    private final int fd;
    private final boolean thin;
    /** Whether to try fallocate at all; cleared when the file system turns out to refuse it. */
    private volatile boolean punch;
    /** Bytes per file system block: the unit holes are punched in. A multiple of the block size. */
    private final int granularity;
    private final ExecutorService io = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("file-io-", 0).factory());
    /**
     * Foreign calls pin a virtual thread's carrier for their whole duration (and a large punch can
     * take a while), so fallocate and lseek run on a couple of platform threads instead, which
     * exist only while there is such work.
     */
    private final ThreadPoolExecutor spaceIo;
    private volatile boolean closed;

    private FileBlockDevice(Path path, int blockSize, long blockCount, boolean readOnly,
                            FileChannel channel, FileChannel syncChannel, FileChannel copyChannel, Object fileKey,
                            int fd, boolean thin, boolean punch, int granularity) {
        this.path = path;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.readOnly = readOnly;
        this.channel = channel;
        this.syncChannel = syncChannel;
        this.copyChannel = copyChannel;
        this.fileKey = fileKey;
        this.ranges = SharedRanges.acquire(fileKey);
        this.fd = fd;
        this.thin = thin;
        this.punch = punch;
        this.granularity = granularity;
        this.spaceIo = new ThreadPoolExecutor(2, 2, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofPlatform().daemon().name("file-space-", 0).factory());
        spaceIo.allowCoreThreadTimeOut(true);
    }

    /**
     * Opens {@code path}, creating a sparse file of {@code sizeBytes} if it does not exist. An
     * existing file keeps its size (a size given for it must match or is ignored when zero).
     */
    public static FileBlockDevice open(Path path, long sizeBytes, int blockSize, boolean readOnly) throws IOException {
        return open(path, sizeBytes, blockSize, readOnly, true);
    }

    /**
     * Creates a missing LU file at its full length, so that nobody ever opens it shorter: the file is
     * made and sized (sparse: extending the length allocates nothing, a new LU is one hole) under a
     * private temporary name beside it, then hard-linked to its name, which fails if the name exists.
     * Nodes of a cluster that apply one new LUN at the same time race to create its shared file this
     * way: one of them creates it and the others find it, whole. Where the file system has no hard
     * links the file is renamed into place instead, refusing an existing name.
     */
    private static void createSized(Path path, long sizeBytes) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + path.getFileName() + "." + java.util.UUID.randomUUID() + ".new");
        try {
            try (FileChannel create = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
                 var length = new java.io.RandomAccessFile(temp.toFile(), "rw")) {
                length.setLength(sizeBytes);
            }
            try {
                Files.createLink(path, temp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another node (or process) created it first: use theirs
            } catch (UnsupportedOperationException | IOException noLinks) {
                try {
                    Files.move(temp, path);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // created meanwhile by someone else
                }
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * As {@link #open(Path, long, int, boolean)}; with {@code holes} false the device never calls
     * fallocate or lseek, exactly as on a file system without hole support (tests use this to run
     * the fallback path on any file system).
     */
    static FileBlockDevice open(Path path, long sizeBytes, int blockSize, boolean readOnly, boolean holes)
            throws IOException {
        BlockSizes.check(blockSize);
        boolean exists = Files.exists(path);
        if (!exists) {
            if (readOnly) {
                throw new IOException("read-only LUN file " + path + " does not exist");
            }
            if (sizeBytes <= 0 || sizeBytes % blockSize != 0) {
                throw new IllegalArgumentException("size " + sizeBytes + " must be a positive multiple of the block size " + blockSize);
            }
            createSized(path, sizeBytes);
            // Whoever created it, it exists now at its full length; a size mismatch is still refused.
            exists = true;
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
        boolean regular = Files.isRegularFile(path);
        int granularity = Math.max(blockSize, fileSystemBlockSize(path));
        int fd = -1;
        if (holes && NativeFiles.available()) {
            try {
                fd = NativeFiles.get().open(path, !readOnly);
            } catch (NativeFiles.NativeException e) {
                LOG.log(System.Logger.Level.WARNING, path + ": no raw descriptor, thin provisioning off: " + e.getMessage());
            }
        }
        boolean thin = fd >= 0 && regular && !readOnly && punchesHoles(fd, path, bytes, granularity);
        boolean punch = thin || (fd >= 0 && !regular && !readOnly);
        return new FileBlockDevice(path, blockSize, blocks, readOnly, channel, syncChannel, copyChannel, fileKey(path),
                fd, thin, punch, granularity);
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

    /** The file system's block size (statvfs f_bsize), if it is a sane power of two; else 4096. */
    private static int fileSystemBlockSize(Path path) {
        try {
            long size = Files.getFileStore(path).getBlockSize();
            if (size >= 512 && size <= (1 << 20) && Long.bitCount(size) == 1) {
                return (int) size;
            }
        } catch (IOException | UnsupportedOperationException e) {
            // fall through: a page is the usual unit
        }
        return 4096;
    }

    /**
     * Probes hole punching without touching data: a punch entirely past the end of the file (with
     * KEEP_SIZE) succeeds as a no-op where holes are supported, and fails with EOPNOTSUPP where not.
     */
    private static boolean punchesHoles(int fd, Path path, long fileBytes, int granularity) {
        long beyondEnd = Math.ceilDiv(fileBytes, granularity) * granularity;
        try {
            NativeFiles.get().fallocate(fd, PUNCH, beyondEnd, granularity);
            return true;
        } catch (NativeFiles.NativeException e) {
            LOG.log(System.Logger.Level.INFO, path + ": the file system does not punch holes ("
                    + NativeFiles.errnoName(e.errno()) + "); the LU is fully provisioned");
            return false;
        }
    }

    private static long deviceSize(Path path) throws IOException {
        try (var raf = new java.io.RandomAccessFile(path.toFile(), "r")) {
            return raf.length();
        }
    }

    public Path path() { return path; }
    @Override public int blockSize() { return blockSize; }
    @Override public long blockCount() { return blockCount; }

    /**
     * Grows a regular file with {@code ftruncate} (sparse: no data is allocated) unless it is
     * already that long (another node sharing the file grew it); a block device node must already
     * be that large. Serialised with other resizes; shrinking is refused.
     */
    @Override
    public CompletableFuture<Void> resize(long blocks) {
        return submit(() -> {
            synchronized (copyChannelLock) {
                if (blocks < blockCount) {
                    throw new StorageException(StorageException.Kind.OUT_OF_RANGE,
                            path + ": cannot shrink from " + blockCount + " to " + blocks + " blocks");
                }
                if (readOnly) {
                    throw new StorageException(StorageException.Kind.WRITE_PROTECTED, path + " is read-only");
                }
                long bytes = Math.multiplyExact(blocks, (long) blockSize);
                if (Files.isRegularFile(path)) {
                    if (channel.size() < bytes) {
                        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                            if (file.length() < bytes) {
                                file.setLength(bytes);
                            }
                        }
                    }
                } else if (deviceSize(path) < bytes) {
                    throw new StorageException(StorageException.Kind.OUT_OF_RANGE,
                            path + " has fewer than " + blocks + " blocks");
                }
                blockCount = blocks;
            }
        }, StorageException.Kind.WRITE_ERROR);
    }
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
        return call(io, () -> {
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

    @Override
    public CompletableFuture<Void> flush() {
        if (readOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return submit(() -> channel.force(false), StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public boolean thinProvisioned() {
        return thin;
    }

    @Override
    public int deallocationGranularity() {
        return thin ? granularity : blockSize;
    }

    @Override
    public CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        if (readOnly) {
            return writeProtected();
        }
        boolean punching = punch;
        return submit(punching ? spaceIo : io, () -> {
            BlockSizes.checkBlocks(lba, blocks, blockCount);
            try (var range = ranges.shared(lba * blockSize, blocks * blockSize)) {
                deallocateHeld(lba, blocks, punching, forceUnitAccess);
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    /** Deallocates [lba, lba + blocks); the caller holds the range. */
    private void deallocateHeld(long lba, long blocks, boolean punching, boolean forceUnitAccess) throws IOException {
        long from = lba * blockSize;
        long to = from + blocks * blockSize;
        if (!punching) {
            fillZeroes(from, to, forceUnitAccess);
            return;
        }
        // Only whole file system blocks can become holes; the edges are zeroed in place.
        long alignedFrom = Math.min(to, Math.ceilDiv(from, granularity) * granularity);
        long alignedTo = Math.max(alignedFrom, Math.floorDiv(to, granularity) * granularity);
        zeroUnlessHole(from, alignedFrom, forceUnitAccess);
        if (alignedFrom < alignedTo) {
            punchHole(alignedFrom, alignedTo, forceUnitAccess);
        }
        zeroUnlessHole(alignedTo, to, forceUnitAccess);
        if (forceUnitAccess) {
            channel.force(false); // a punched hole is metadata: make it durable too
        }
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean forceUnitAccess) {
        if (mayDeallocate && thin) {
            return deallocate(lba, blocks, forceUnitAccess);
        }
        if (readOnly) {
            return writeProtected();
        }
        return submit(() -> {
            BlockSizes.checkBlocks(lba, blocks, blockCount);
            try (var range = ranges.shared(lba * blockSize, blocks * blockSize)) {
                fillZeroes(lba * blockSize, (lba + blocks) * blockSize, forceUnitAccess);
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public CompletableFuture<Void> writeSame(long lba, long blocks, ByteBuffer block, boolean mayDeallocate,
                                             boolean forceUnitAccess) {
        if (block.remaining() == blockSize && BlockFill.isZero(block)) {
            return writeZeroes(lba, blocks, mayDeallocate, forceUnitAccess);
        }
        if (readOnly) {
            return writeProtected();
        }
        ByteBuffer pattern = block.duplicate();
        return submit(() -> {
            BlockFill.checkBlock(pattern, blockSize);
            BlockSizes.checkBlocks(lba, blocks, blockCount);
            if (blocks == 0) {
                return;
            }
            try (var range = ranges.shared(lba * blockSize, blocks * blockSize);
                 Arena arena = Arena.ofConfined()) {
                int chunkBytes = BlockFill.chunkBytes(blocks, blockSize);
                ByteBuffer chunk = arena.allocate(chunkBytes, 4096).asByteBuffer();
                BlockFill.repeat(pattern, chunk);
                FileChannel target = forceUnitAccess ? syncChannel : channel;
                long position = lba * blockSize;
                long end = (lba + blocks) * blockSize;
                while (position < end) {
                    ByteBuffer piece = chunk.clear().limit((int) Math.min(chunkBytes, end - position));
                    while (piece.hasRemaining()) {
                        position += target.write(piece, position);
                    }
                }
            }
        }, StorageException.Kind.WRITE_ERROR);
    }

    @Override
    public CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        if (!thin) {
            // Fully provisioned: every block reports mapped, holes or not.
            return BlockDevice.super.provisioningStatus(lba, maxExtents);
        }
        CompletableFuture<List<ProvisioningExtent>> result = new CompletableFuture<>();
        CompletableFuture<Void> run = submit(spaceIo, () -> {
            BlockSizes.checkBlocks(lba, 1, blockCount);
            result.complete(scanProvisioning(lba, Math.max(1, maxExtents)));
        }, StorageException.Kind.READ_ERROR);
        run.whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Walks the file's data and holes from {@code lba} with SEEK_DATA / SEEK_HOLE. A block is
     * deallocated only if it lies wholly in a hole; a block with any data in it is mapped.
     */
    private List<ProvisioningExtent> scanProvisioning(long lba, int maxExtents) throws IOException {
        NativeFiles nf = NativeFiles.get();
        List<ProvisioningExtent> extents = new ArrayList<>();
        long current = lba;
        while (current < blockCount && extents.size() < maxExtents) {
            long nextDataBlock = dataBlockAtOrAfter(nf, current);
            if (nextDataBlock > current) {
                extents.add(new ProvisioningExtent(current, nextDataBlock - current, ProvisioningExtent.State.DEALLOCATED));
                current = nextDataBlock;
                continue;
            }
            // Block `current` holds data; the mapped run ends where a hole covers a whole block.
            long scan = current * blockSize;
            long mappedEnd;
            while (true) {
                long hole = nf.lseek(fd, scan, NativeFiles.SEEK_HOLE);
                long holeBlock = hole < 0 ? blockCount : Math.min(blockCount, Math.ceilDiv(hole, blockSize));
                if (holeBlock >= blockCount) {
                    mappedEnd = blockCount;
                    break;
                }
                long dataAfter = nf.lseek(fd, holeBlock * blockSize, NativeFiles.SEEK_DATA);
                if (dataAfter < 0 || dataAfter / blockSize > holeBlock) {
                    mappedEnd = holeBlock; // [holeBlock, next data) is wholly free
                    break;
                }
                // Data again inside block holeBlock, which is therefore mapped: keep going from there.
                scan = dataAfter;
            }
            extents.add(new ProvisioningExtent(current, mappedEnd - current, ProvisioningExtent.State.MAPPED));
            current = mappedEnd;
        }
        return extents;
    }

    /** The first block at or after {@code block} that holds any data, or {@code blockCount}. */
    private long dataBlockAtOrAfter(NativeFiles nf, long block) throws IOException {
        long data = nf.lseek(fd, block * blockSize, NativeFiles.SEEK_DATA);
        return data < 0 ? blockCount : Math.min(blockCount, data / blockSize);
    }

    private void punchHole(long from, long to, boolean forceUnitAccess) throws IOException {
        try {
            NativeFiles.get().fallocate(fd, PUNCH, from, to - from);
        } catch (NativeFiles.NativeException e) {
            if (e.errno() == NativeFiles.ENOSPC) {
                throw new StorageException(StorageException.Kind.SPACE_EXHAUSTED, path + ": " + e.getMessage(), e);
            }
            if (!e.unsupported() && !(e.errno() == NativeFiles.EINVAL && !thin)) {
                throw e;
            }
            // The file system (or device) cannot do it after all: zeroes keep the promise.
            punch = false;
            LOG.log(System.Logger.Level.WARNING, path + ": " + e.getMessage() + "; writing zeroes instead");
            fillZeroes(from, to, forceUnitAccess);
        }
    }

    /** Writes zeroes to [from, to) unless that range already lies wholly in a hole. */
    private void zeroUnlessHole(long from, long to, boolean forceUnitAccess) throws IOException {
        if (from >= to) {
            return;
        }
        if (thin) {
            long data = NativeFiles.get().lseek(fd, from, NativeFiles.SEEK_DATA);
            if (data < 0 || data >= to) {
                return; // already reads as zeroes, and stays unallocated
            }
        }
        fillZeroes(from, to, forceUnitAccess);
    }

    private void fillZeroes(long from, long to, boolean forceUnitAccess) throws IOException {
        FileChannel target = forceUnitAccess ? syncChannel : channel;
        long position = from;
        while (position < to) {
            ByteBuffer zeroes = ZEROES.duplicate().limit((int) Math.min(ZEROES.capacity(), to - position));
            while (zeroes.hasRemaining()) {
                position += target.write(zeroes, position);
            }
        }
    }

    private <T> CompletableFuture<T> writeProtected() {
        return CompletableFuture.failedFuture(
                new StorageException(StorageException.Kind.WRITE_PROTECTED, path + " is read-only"));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        io.shutdown();
        spaceIo.shutdown();
        try {
            io.awaitTermination(30, TimeUnit.SECONDS);
            spaceIo.awaitTermination(30, TimeUnit.SECONDS);
            if (fd >= 0) {
                NativeFiles.get().close(fd);
            }
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

    private interface IoCall<T> {
        T call() throws IOException;
    }

    private interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    /** Carries an exception thrown by an {@link RangeUpdate} past the I/O error classification. */
    private static final class ChangeFailed extends RuntimeException {
        ChangeFailed(RuntimeException cause) {
            super(cause);
        }
    }

    private CompletableFuture<Void> submit(IoAction action, StorageException.Kind failureKind) {
        return submit(io, action, failureKind);
    }

    private CompletableFuture<Void> submit(Executor executor, IoAction action, StorageException.Kind failureKind) {
        return call(executor, () -> {
            action.run();
            return null;
        }, failureKind);
    }

    private <T> CompletableFuture<T> call(Executor executor, IoCall<T> action, StorageException.Kind failureKind) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new StorageException(StorageException.Kind.CLOSED, path + " is closed"));
            return result;
        }
        try {
            executor.execute(() -> {
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
