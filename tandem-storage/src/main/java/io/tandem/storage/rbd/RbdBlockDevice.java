package io.tandem.storage.rbd;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import io.tandem.ceph.OsdMap;
import io.tandem.ceph.Rados;
import io.tandem.ceph.RbdFeature;
import io.tandem.ceph.RbdImage;
import io.tandem.storage.BlockDevice;
import io.tandem.storage.ProvisioningExtent;
import io.tandem.storage.StorageException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * A block device on a Ceph RBD image, through librbd and librados (the {@code tandem-ceph} FFM
 * binding), built so that every node of a cluster can open the same image and write it at once.
 *
 * <ul>
 *   <li><b>Active/active</b>: the image must not have the features that serialise writers
 *       (exclusive-lock and what depends on it: object-map, fast-diff, journaling); open refuses
 *       them, naming the {@code rbd feature disable} command. The client must run without the
 *       librbd cache ({@code rbd_cache=false}): the target acknowledges a write only when the
 *       cluster has it, and atomic operations write the data objects directly.</li>
 *   <li><b>I/O</b>: asynchronous librbd reads and writes straight from and into the command's
 *       direct buffers; futures complete from librbd's completion callbacks. FUA passes librados'
 *       FUA flag (without a cache a write is stable when acknowledged anyway).</li>
 *   <li><b>Thin provisioning</b>: deallocation is librbd write-zeroes, which frees whole objects
 *       and zeroes the rest, so deallocated blocks read as zeroes whatever their size (a plain
 *       discard would silently skip ranges below {@code rbd_discard_granularity_bytes}).
 *       Provisioning status comes from librbd's diff iteration: an object that exists counts as
 *       mapped from its start to its end.</li>
 *   <li><b>Atomic operations</b> run on the data objects: see {@link AtomicObjects}.</li>
 *   <li><b>Capacity</b>: an update watch on the image hears resizes made by any client; {@link
 *       #onCapacityChange} listeners get the new block count.</li>
 *   <li><b>Errors</b> map to storage kinds in {@link RbdErrors}: EROFS write protected, ENOSPC
 *       space exhausted, ESHUTDOWN (this client was blocklisted) fenced, ETIMEDOUT unavailable
 *       (bounded by the client's {@code rados_osd_op_timeout}), anything else a read or write
 *       error.</li>
 * </ul>
 */
public final class RbdBlockDevice implements BlockDevice {

    private static final System.Logger LOG = System.getLogger(RbdBlockDevice.class.getName());

    /**
     * The features Tandem creates images with: layering and deep-flatten, nothing that serialises
     * writers (librbd's default adds exclusive-lock, object-map and fast-diff).
     */
    public static final long ACTIVE_ACTIVE_FEATURES = RbdFeature.mask(RbdFeature.LAYERING, RbdFeature.DEEP_FLATTEN);

    /** Features that let only one client write at a time, in the order {@code rbd feature disable} needs them. */
    static final List<RbdFeature> SINGLE_WRITER_FEATURES = List.of(
            RbdFeature.JOURNALING, RbdFeature.FAST_DIFF, RbdFeature.OBJECT_MAP, RbdFeature.EXCLUSIVE_LOCK);
    /** write-zeroes flag: allocate zeroed storage rather than deallocate. */
    private static final int WRITE_ZEROES_THICK = 1;
    /** Unit that librbd gives back storage in by default (rbd_discard_granularity_bytes). */
    private static final int DEALLOCATION_GRANULARITY = 64 * 1024;
    /** Objects one diff iteration of a provisioning status call examines at most. */
    private static final long PROVISIONING_WINDOW_OBJECTS = 64;
    /**
     * Objects one provisioning status call examines at most, so it stays quick on huge sparse
     * images (4 GiB of the default 4 MiB objects).
     */
    static final long PROVISIONING_SCAN_OBJECTS = 1024;

    private final Rados rados;
    private final boolean ownsRados;
    private final IoCtx io;
    private final IoCtx dataIo;
    private final RbdImage image;
    private final String spec;
    private final int blockSize;
    private final boolean readOnly;
    private final ObjectLayout layout;
    private final AtomicObjects atomics;
    private final ThreadPoolExecutor blocking;
    private final List<LongConsumer> capacityListeners = new CopyOnWriteArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final long watch;
    private volatile long blockCount;
    private volatile boolean closed;
    /** Lazily allocated: only devices that deallocate in pieces need it. */
    private volatile MemorySegment zeroObject;

    private RbdBlockDevice(Rados rados, boolean ownsRados, IoCtx io, IoCtx dataIo, RbdImage image, String spec,
                           int blockSize, boolean readOnly, ObjectLayout layout) {
        this.rados = rados;
        this.ownsRados = ownsRados;
        this.io = io;
        this.dataIo = dataIo;
        this.image = image;
        this.spec = spec;
        this.blockSize = blockSize;
        this.readOnly = readOnly;
        this.layout = layout;
        this.blocking = new ThreadPoolExecutor(4, 4, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofPlatform().daemon().name("rbd-sync-", 0).factory());
        blocking.allowCoreThreadTimeOut(true);
        this.atomics = new AtomicObjects(dataIo, layout, "client." + rados.instanceId(), blocking);
        this.blockCount = image.size() / blockSize;
        this.watch = image.watchUpdates(this::imageUpdated);
    }

    /**
     * Opens {@code pool/imageName} through {@code rados} (connected, {@code rbd_cache=false},
     * {@code rbd_disable_zero_copy_writes=true}, as {@link RbdSettings#connect} sets them;
     * it stays the caller's to close after this device).
     */
    public static RbdBlockDevice open(Rados rados, String pool, String imageName, int blockSize, boolean readOnly)
            throws IOException {
        return open(rados, false, pool, imageName, blockSize, readOnly);
    }

    /**
     * Connects a client as {@code settings} describe and opens the image; the device owns the
     * connection and closes it.
     */
    public static RbdBlockDevice open(RbdSettings settings, int blockSize, boolean readOnly) throws IOException {
        Rados rados = settings.connect();
        try {
            return open(rados, true, settings.pool(), settings.image(), blockSize, readOnly);
        } catch (IOException | RuntimeException e) {
            rados.close();
            throw e;
        }
    }

    private static void requireOption(Rados rados, String spec, String option, String required, String why)
            throws IOException {
        String value = rados.get(option);
        if (!required.equals(value)) {
            throw new IOException(spec + ": the RBD client runs with " + option + "=" + value + "; Tandem needs "
                    + option + "=" + required + " (" + why + ")");
        }
    }

    private static RbdBlockDevice open(Rados rados, boolean ownsRados, String pool, String imageName, int blockSize,
                                       boolean readOnly) throws IOException {
        if (blockSize != 512 && blockSize != 4096) {
            throw new IllegalArgumentException("block size must be 512 or 4096, got " + blockSize);
        }
        String spec = pool + "/" + imageName;
        requireOption(rados, spec, RbdSettings.CACHE, "false", "writes acknowledged only when the cluster has them");
        requireOption(rados, spec, RbdSettings.NO_ZERO_COPY_WRITES, "true",
                "a write in flight when the client is fenced could otherwise keep the image from closing");
        IoCtx io = null;
        IoCtx dataIo = null;
        RbdImage image = null;
        try {
            io = rados.ioContext(pool);
            image = RbdImage.open(io, imageName, readOnly);
            long features = image.features();
            if (!readOnly) {
                checkActiveActive(spec, image, features);
            }
            RbdImage.Info info = image.stat();
            if (info.objectSize() % blockSize != 0) {
                throw new IOException(spec + ": object size " + info.objectSize() + " is not a multiple of the block size "
                        + blockSize);
            }
            if (info.size() < blockSize) {
                throw new IOException(spec + " is smaller than one " + blockSize + "-byte block");
            }
            long dataPool = image.dataPoolId();
            dataIo = dataPool == rados.poolId(pool) ? io : rados.ioContext(dataPool);
            ObjectLayout layout = new ObjectLayout(info.blockNamePrefix(), info.objectSize());
            return new RbdBlockDevice(rados, ownsRados, io, dataIo, image, spec, blockSize, readOnly, layout);
        } catch (CephException e) {
            closeQuietly(image, dataIo, io);
            throw new IOException(spec + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(image, dataIo, io);
            throw e;
        }
    }

    /**
     * Creates the image {@code settings} name with {@code sizeBytes} and {@link
     * #ACTIVE_ACTIVE_FEATURES}, unless it exists.
     *
     * @return true if it was created, false if it existed already (whatever its size)
     */
    public static boolean createImage(RbdSettings settings, long sizeBytes) throws IOException {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + sizeBytes);
        }
        try (Rados rados = settings.connect(); IoCtx io = rados.ioContext(settings.pool())) {
            RbdImage.create(io, settings.image(), sizeBytes, ACTIVE_ACTIVE_FEATURES, 0);
            LOG.log(System.Logger.Level.INFO, "created RBD image " + settings.spec() + " (" + sizeBytes + " bytes)");
            return true;
        } catch (CephException e) {
            if (e.errno() == Errno.EEXIST) {
                return false;
            }
            throw new IOException("creating RBD image " + settings.spec() + ": " + e.getMessage(), e);
        }
    }

    /** Refuses an image that cannot be written by several clients at once, saying how to fix it. */
    static void checkActiveActive(String spec, RbdImage image, long features) throws IOException {
        List<String> forbidden = new ArrayList<>();
        for (RbdFeature f : SINGLE_WRITER_FEATURES) {
            if (f.in(features)) {
                forbidden.add(f.cliName());
            }
        }
        if (!forbidden.isEmpty()) {
            throw new IOException("RBD image " + spec + " has feature" + (forbidden.size() > 1 ? "s " : " ")
                    + String.join(", ", forbidden) + ", which let only one client write at a time (every node"
                    + " would take the image's exclusive lock in turn); disable with: rbd feature disable " + spec
                    + " " + String.join(" ", forbidden));
        }
        if (image.stripeCount() != 1) {
            throw new IOException("RBD image " + spec + " uses fancy striping (stripe count " + image.stripeCount()
                    + "): Tandem's atomic operations need the default layout; copy it to an image created without"
                    + " --stripe-unit/--stripe-count");
        }
        if (image.parentOverlap() > 0) {
            throw new IOException("RBD image " + spec + " is a clone that still reads from its parent: Tandem's"
                    + " atomic operations need its own data; run: rbd flatten " + spec);
        }
    }

    public String spec() {
        return spec;
    }

    /**
     * This device's Ceph client address ({@code 127.0.0.1:0/1424560017}): what a survivor passes
     * to {@code Rados.blocklistAdd} to fence this node's I/O on the image.
     */
    public String clientAddress() {
        return rados.addresses();
    }

    /**
     * Fences another Ceph client (a lost node's {@link #clientAddress()}) for {@code seconds}, through
     * this device's client: returns once this client has the OSD map carrying the blocklist entry,
     * so every operation it sends afterwards reaches an OSD only after that OSD refuses the fenced
     * client.
     */
    public void blocklist(String clientAddress, int seconds) {
        rados.blocklistAdd(clientAddress, seconds);
    }

    /**
     * Fetches the latest OSD map into this device's client (after another client of this process
     * blocklisted someone), with the same effect on its later operations as {@link #blocklist}.
     */
    public void awaitLatestOsdMap() {
        OsdMap.awaitLatest(rados);
    }

    /** Whether {@link #close} was called. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return blockCount;
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        int length = dst.remaining();
        StorageException invalid = checkRange(lba, length, false);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        MemorySegment into = dst.isDirect() ? MemorySegment.ofBuffer(dst) : Arena.ofAuto().allocate(Math.max(1, length));
        return track(() -> image.readAsync(lba * blockSize, into.asSlice(0, length), 0), StorageException.Kind.READ_ERROR,
                "read", lba)
                .thenApply(n -> {
                    if (n != length) {
                        throw new StorageException(StorageException.Kind.READ_ERROR,
                                spec + ": short read of " + n + " of " + length + " bytes at block " + lba);
                    }
                    if (!dst.isDirect()) {
                        MemorySegment.ofBuffer(dst).copyFrom(into.asSlice(0, length));
                    }
                    dst.position(dst.limit());
                    return null;
                });
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        int length = src.remaining();
        StorageException invalid = checkRange(lba, length, true);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        MemorySegment from = nativeCopy(src);
        return track(() -> image.writeAsync(lba * blockSize, from, forceUnitAccess ? RbdImage.OP_FLAG_FUA : 0),
                StorageException.Kind.WRITE_ERROR, "write", lba)
                .thenApply(n -> {
                    src.position(src.limit());
                    return null;
                });
    }

    @Override
    public CompletableFuture<Void> flush() {
        if (readOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return track(image::flushAsync, StorageException.Kind.WRITE_ERROR, "flush", 0).thenApply(n -> null);
    }

    @Override
    public CompletableFuture<Long> compareAndWrite(long lba, ByteBuffer expected, ByteBuffer replacement,
                                                   boolean forceUnitAccess) {
        if (expected.remaining() != replacement.remaining()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "compare and write lengths differ: " + expected.remaining() + " vs " + replacement.remaining()));
        }
        StorageException invalid = checkRange(lba, expected.remaining(), true);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        return track(() -> atomics.compareAndWrite(lba * blockSize, expected, replacement),
                StorageException.Kind.WRITE_ERROR, "compare and write", lba);
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        StorageException invalid = checkRange(lba, buffer.remaining(), true);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        return track(() -> atomics.update(lba * blockSize, buffer, change), StorageException.Kind.WRITE_ERROR,
                "atomic update", lba);
    }

    /**
     * Inside one data object a librbd write is one OSD operation, which no reader sees half done;
     * across objects the write takes the objects' locks.
     */
    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        long offset = lba * blockSize;
        if (offset / layout.objectSize() == (offset + Math.max(0, src.remaining() - 1)) / layout.objectSize()) {
            return write(lba, src, forceUnitAccess);
        }
        ByteBuffer scratch = ByteBuffer.allocate(src.remaining());
        return update(lba, scratch, medium -> {
            medium.clear();
            medium.put(src.duplicate());
            medium.flip();
            return true;
        }, forceUnitAccess).thenApply(written -> null);
    }

    @Override
    public boolean thinProvisioned() {
        return true;
    }

    @Override
    public int deallocationGranularity() {
        return Math.max(blockSize, DEALLOCATION_GRANULARITY);
    }

    /**
     * librbd write-zeroes: whole objects are removed, the rest zeroed (a range reaching an
     * object's end truncates it). When the range starts inside an object and reaches its end, that
     * object may now be all zeroes (zeroed piece by piece, front to back); it is then removed too,
     * so deallocating a range in chunks gives back as much as deallocating it at once.
     */
    @Override
    public CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        CompletableFuture<Void> zeroed = zeroes(lba, blocks, 0, forceUnitAccess, "deallocate");
        long start = lba * blockSize;
        long end = (lba + blocks) * blockSize;
        long objectSize = layout.objectSize();
        long firstObject = start / objectSize;
        if (blocks == 0 || start % objectSize == 0 || end < (firstObject + 1) * objectSize) {
            return zeroed;
        }
        return zeroed.thenCompose(v -> track(() -> CompletableFuture.runAsync(
                () -> atomics.removeIfZero(firstObject, zeroes()), blocking),
                StorageException.Kind.WRITE_ERROR, "deallocate", lba));
    }

    /** An object's worth of zeroes, to compare objects against. */
    private MemorySegment zeroes() {
        MemorySegment z = zeroObject;
        if (z == null) {
            synchronized (this) {
                if (zeroObject == null) {
                    zeroObject = Arena.ofAuto().allocate(layout.objectSize());
                }
                z = zeroObject;
            }
        }
        return z;
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean forceUnitAccess) {
        if (mayDeallocate) {
            return deallocate(lba, blocks, forceUnitAccess);
        }
        return zeroes(lba, blocks, WRITE_ZEROES_THICK, forceUnitAccess, "write zeroes");
    }

    private CompletableFuture<Void> zeroes(long lba, long blocks, int zeroFlags, boolean fua, String what) {
        StorageException invalid = checkBlocks(lba, blocks);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        if (blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return track(() -> image.writeZeroesAsync(lba * blockSize, blocks * blockSize, zeroFlags,
                fua ? RbdImage.OP_FLAG_FUA : 0), StorageException.Kind.WRITE_ERROR, what, lba).thenApply(n -> null);
    }

    @Override
    public CompletableFuture<Void> writeSame(long lba, long blocks, ByteBuffer block, boolean mayDeallocate,
                                             boolean forceUnitAccess) {
        if (block.remaining() != blockSize) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("pattern must be exactly one "
                    + blockSize + "-byte block, got " + block.remaining() + " bytes"));
        }
        if (isZero(block)) {
            return writeZeroes(lba, blocks, mayDeallocate, forceUnitAccess);
        }
        StorageException invalid = checkBlocks(lba, blocks);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        if (blocks == 0) {
            return CompletableFuture.completedFuture(null);
        }
        MemorySegment pattern = nativeCopy(block.duplicate());
        return track(() -> image.writeSameAsync(lba * blockSize, blocks * blockSize, pattern,
                forceUnitAccess ? RbdImage.OP_FLAG_FUA : 0), StorageException.Kind.WRITE_ERROR, "write same", lba)
                .thenApply(n -> null);
    }

    /**
     * From librbd's diff iteration, window by window ({@link #PROVISIONING_WINDOW_OBJECTS} objects
     * each) from {@code lba}: what lies in an existing object is mapped (whole blocks, rounding
     * outwards), the rest deallocated. The scan goes on until the answer holds {@code maxExtents}
     * extents, reaches the end of the image, or has examined {@link #PROVISIONING_SCAN_OBJECTS}
     * objects: without an object map librbd asks the OSDs about every object, so a huge, sparse
     * image is answered in parts (the initiator asks again from where the answer stopped), while
     * an image of a few GiB is described to its end in one answer, as hosts (and libiscsi's
     * SANITIZE tests) expect of a short allocation length.
     */
    @Override
    public CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        StorageException invalid = checkBlocks(lba, 1);
        if (invalid != null) {
            return CompletableFuture.failedFuture(invalid);
        }
        long count = blockCount;
        long objectSize = layout.objectSize();
        long imageEnd = count * blockSize;
        return track(() -> CompletableFuture.supplyAsync(() -> {
            List<ProvisioningExtent> extents = new ArrayList<>();
            long[] next = {lba};
            int limit = Math.max(1, maxExtents);
            long windowStart = lba * blockSize;
            long scanned = 0;
            while (extents.size() < limit && windowStart < imageEnd && scanned < PROVISIONING_SCAN_OBJECTS) {
                long windowEnd = Math.min(imageEnd, (windowStart / objectSize + PROVISIONING_WINDOW_OBJECTS) * objectSize);
                image.diffIterate(windowStart, windowEnd - windowStart, false, (offset, length, exists) -> {
                    if (!exists) {
                        return true;
                    }
                    long from = Math.max(next[0], offset / blockSize);
                    long to = Math.min(count, Math.ceilDiv(offset + length, blockSize));
                    if (to <= from) {
                        return true;
                    }
                    if (from > next[0]) {
                        append(extents, new ProvisioningExtent(next[0], from - next[0], ProvisioningExtent.State.DEALLOCATED));
                    }
                    append(extents, new ProvisioningExtent(from, to - from, ProvisioningExtent.State.MAPPED));
                    next[0] = to;
                    return extents.size() < limit;
                });
                if (extents.size() >= limit) {
                    break; // the iteration stopped early: what follows next[0] is unknown
                }
                long windowBlocks = windowEnd / blockSize;
                if (next[0] < windowBlocks) {
                    append(extents, new ProvisioningExtent(next[0], windowBlocks - next[0], ProvisioningExtent.State.DEALLOCATED));
                    next[0] = windowBlocks;
                }
                scanned += Math.ceilDiv(windowEnd, objectSize) - windowStart / objectSize;
                windowStart = Math.max(windowEnd, next[0] * blockSize);
            }
            return extents.size() > limit ? List.copyOf(extents.subList(0, limit)) : List.copyOf(extents);
        }, blocking), StorageException.Kind.READ_ERROR, "provisioning status", lba);
    }

    /** Adds an extent, merged into the last one when it continues it in the same state. */
    private static void append(List<ProvisioningExtent> extents, ProvisioningExtent e) {
        if (!extents.isEmpty()) {
            ProvisioningExtent last = extents.getLast();
            if (last.state() == e.state() && last.end() == e.lba()) {
                extents.set(extents.size() - 1, new ProvisioningExtent(last.lba(), e.end() - last.lba(), e.state()));
                return;
            }
        }
        extents.add(e);
    }

    /**
     * Grows the image (idempotent: an image already that large, grown by another node, only
     * updates this device's view). Shrinking is refused.
     */
    @Override
    public CompletableFuture<Void> resize(long blocks) {
        if (readOnly) {
            return CompletableFuture.failedFuture(new StorageException(StorageException.Kind.WRITE_PROTECTED,
                    spec + " is open read-only"));
        }
        return track(() -> CompletableFuture.supplyAsync(() -> {
            synchronized (this) {
                if (blocks < blockCount) {
                    throw new StorageException(StorageException.Kind.OUT_OF_RANGE,
                            spec + ": cannot shrink from " + blockCount + " to " + blocks + " blocks");
                }
                long bytes = Math.multiplyExact(blocks, (long) blockSize);
                if (image.size() < bytes) {
                    image.resize(bytes);
                }
                setBlockCount(blocks);
                return null;
            }
        }, blocking), StorageException.Kind.WRITE_ERROR, "resize", blocks).thenApply(v -> null);
    }

    @Override
    public void onCapacityChange(LongConsumer listener) {
        capacityListeners.add(listener);
    }

    /** The image's header changed (any client): pick up a new size. */
    private void imageUpdated() {
        if (closed) {
            return;
        }
        try {
            blocking.execute(() -> {
                try {
                    synchronized (this) {
                        if (!closed) {
                            setBlockCount(image.size() / blockSize);
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, spec + ": reading the size after an update: " + e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void setBlockCount(long blocks) {
        if (blocks == blockCount) {
            return;
        }
        LOG.log(System.Logger.Level.INFO, spec + ": capacity " + blockCount + " -> " + blocks + " blocks");
        blockCount = blocks;
        for (LongConsumer listener : capacityListeners) {
            try {
                listener.accept(blocks);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, spec + ": capacity listener failed", e);
            }
        }
    }

    /** Closes the image (after the I/O in flight) and the connection if the device opened it. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        blocking.shutdown();
        try {
            blocking.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            image.unwatchUpdates(watch);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, spec + ": unwatch: " + e.getMessage());
        }
        closeQuietly(image, dataIo, io);
        if (ownsRados) {
            rados.close();
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Start<T> {
        CompletableFuture<T> start();
    }

    /**
     * Runs an asynchronous operation counted as in flight (so {@link #close} waits for it),
     * translating its failure into a {@link StorageException}.
     */
    private <T> CompletableFuture<T> track(Start<T> operation, StorageException.Kind failure, String what, long lba) {
        inFlight.incrementAndGet();
        if (closed) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new StorageException(StorageException.Kind.CLOSED, spec + " is closed"));
        }
        CompletableFuture<T> started;
        try {
            started = operation.start();
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        started.whenComplete((value, error) -> {
            inFlight.decrementAndGet();
            if (error == null) {
                result.complete(value);
            } else {
                result.completeExceptionally(RbdErrors.translate(error, failure, spec + ": " + what + " at block " + lba));
            }
        });
        return result;
    }

    private StorageException checkRange(long lba, long length, boolean writing) {
        if (length % blockSize != 0) {
            throw new IllegalArgumentException("transfer of " + length + " bytes is not whole " + blockSize + "-byte blocks");
        }
        if (writing && readOnly) {
            return new StorageException(StorageException.Kind.WRITE_PROTECTED, spec + " is open read-only");
        }
        return checkBlocks(lba, length / blockSize);
    }

    private StorageException checkBlocks(long lba, long blocks) {
        long count = blockCount;
        if (lba < 0 || blocks < 0 || lba > count || blocks > count - lba) {
            return new StorageException(StorageException.Kind.OUT_OF_RANGE,
                    spec + ": blocks " + lba + "+" + blocks + " past end " + count);
        }
        return null;
    }

    /** The buffer's remaining bytes as native memory: the buffer itself when direct, else a copy. */
    private static MemorySegment nativeCopy(ByteBuffer src) {
        if (src.isDirect()) {
            return MemorySegment.ofBuffer(src);
        }
        MemorySegment copy = Arena.ofAuto().allocate(Math.max(1, src.remaining())).asSlice(0, src.remaining());
        copy.copyFrom(MemorySegment.ofBuffer(src));
        return copy;
    }

    private static boolean isZero(ByteBuffer block) {
        return block.duplicate().mismatch(ByteBuffer.allocate(block.remaining())) < 0;
    }

    private static void closeQuietly(RbdImage image, IoCtx dataIo, IoCtx io) {
        try {
            if (image != null) {
                image.close();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing an RBD image: " + e.getMessage());
        }
        if (dataIo != null && dataIo != io) {
            dataIo.close();
        }
        if (io != null) {
            io.close();
        }
    }
}
