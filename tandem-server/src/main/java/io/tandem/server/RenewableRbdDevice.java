package io.tandem.server;

import io.tandem.storage.BlockDevice;
import io.tandem.storage.ProvisioningExtent;
import io.tandem.storage.StorageException;
import io.tandem.storage.rbd.RbdBlockDevice;
import io.tandem.storage.rbd.RbdSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * An rbd LUN's device whose Ceph client can be replaced. A node the cluster declared lost had its
 * clients blocklisted by the survivors; when it is back in the cluster (a new coordinator session)
 * its LUNs would answer FENCED for the hour the blocklist entry lasts. {@link #renewIfFenced} finds
 * that out (one read) and opens the image again through a new client (a new address, not
 * blocklisted); the old device is closed once its commands ended (they fail: their client is
 * fenced).
 */
final class RenewableRbdDevice implements BlockDevice {

    private static final System.Logger LOG = System.getLogger(RenewableRbdDevice.class.getName());

    private final RbdSettings settings;
    private final int blockSize;
    private final boolean readOnly;
    private final List<LongConsumer> capacityListeners = new CopyOnWriteArrayList<>();
    private volatile RbdBlockDevice current;

    RenewableRbdDevice(RbdSettings settings, int blockSize, boolean readOnly) throws IOException {
        this.settings = settings;
        this.blockSize = blockSize;
        this.readOnly = readOnly;
        this.current = open();
    }

    private RbdBlockDevice open() throws IOException {
        RbdBlockDevice d = RbdBlockDevice.open(settings, blockSize, readOnly);
        d.onCapacityChange(blocks -> capacityListeners.forEach(l -> l.accept(blocks)));
        return d;
    }

    /** The device of the current client. */
    RbdBlockDevice current() {
        return current;
    }

    /**
     * Probes the image through the current client; if the cluster refuses it as fenced, opens the
     * image through a new client. Blocks (a read, maybe a connection): not for event threads.
     *
     * @return whether the client was renewed
     */
    synchronized boolean renewIfFenced() throws IOException {
        RbdBlockDevice old = current;
        if (old.isClosed()) {
            return false;
        }
        try {
            old.read(0, ByteBuffer.allocateDirect(blockSize)).get(60, TimeUnit.SECONDS);
            return false;
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof StorageException se) || se.kind() != StorageException.Kind.FENCED) {
                return false; // not fenced: whatever it is, a new client would not help
            }
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        RbdBlockDevice renewed = open();
        current = renewed;
        LOG.log(System.Logger.Level.WARNING, "{0}: Ceph client {1} is blocklisted (this node was fenced); reopened the image"
                + " through client {2}", settings.spec(), safeAddress(old), renewed.clientAddress());
        Thread.ofVirtual().start(old::close);
        return true;
    }

    private static String safeAddress(RbdBlockDevice d) {
        try {
            return d.clientAddress();
        } catch (RuntimeException e) {
            return "?";
        }
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long blockCount() {
        return current.blockCount();
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public CompletableFuture<Void> read(long lba, ByteBuffer dst) {
        return current.read(lba, dst);
    }

    @Override
    public CompletableFuture<Void> write(long lba, ByteBuffer src, boolean forceUnitAccess) {
        return current.write(lba, src, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> resize(long blocks) {
        return current.resize(blocks);
    }

    @Override
    public CompletableFuture<Boolean> update(long lba, ByteBuffer buffer, RangeUpdate change, boolean forceUnitAccess) {
        return current.update(lba, buffer, change, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Long> compareAndWrite(long lba, ByteBuffer expected, ByteBuffer replacement, boolean forceUnitAccess) {
        return current.compareAndWrite(lba, expected, replacement, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> writeAtomic(long lba, ByteBuffer src, boolean forceUnitAccess) {
        return current.writeAtomic(lba, src, forceUnitAccess);
    }

    @Override
    public void onCapacityChange(LongConsumer listener) {
        capacityListeners.add(listener);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return current.flush();
    }

    @Override
    public boolean thinProvisioned() {
        return current.thinProvisioned();
    }

    @Override
    public int deallocationGranularity() {
        return current.deallocationGranularity();
    }

    @Override
    public CompletableFuture<Void> deallocate(long lba, long blocks, boolean forceUnitAccess) {
        return current.deallocate(lba, blocks, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long lba, long blocks, boolean mayDeallocate, boolean forceUnitAccess) {
        return current.writeZeroes(lba, blocks, mayDeallocate, forceUnitAccess);
    }

    @Override
    public CompletableFuture<Void> writeSame(long lba, long blocks, ByteBuffer block, boolean mayDeallocate, boolean forceUnitAccess) {
        return current.writeSame(lba, blocks, block, mayDeallocate, forceUnitAccess);
    }

    @Override
    public CompletableFuture<List<ProvisioningExtent>> provisioningStatus(long lba, int maxExtents) {
        return current.provisioningStatus(lba, maxExtents);
    }

    @Override
    public synchronized void close() {
        current.close();
    }
}
