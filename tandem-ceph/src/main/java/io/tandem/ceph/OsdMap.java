package io.tandem.ceph;

/**
 * The OSD map as a client sees it. Every operation a client sends carries the epoch of the map it
 * has; an OSD that is behind fetches that epoch before it executes the operation. So a client that
 * has the map carrying a blocklist entry orders all its later operations after the OSDs refuse the
 * blocklisted client.
 */
public final class OsdMap {

    private OsdMap() {
    }

    /**
     * Waits until {@code rados} has the latest OSD map the monitors have
     * ({@code rados_wait_for_latest_osdmap}). {@link Rados#blocklistAdd} already does this for the
     * client that blocklists; another client learning of the blocklist calls it itself.
     */
    public static void awaitLatest(Rados rados) {
        rados.lifetime().enter();
        try {
            int r = (int) LibRadosWatch.waitForLatestOsdmap.invokeExact(rados.handle());
            CephException.check("rados_wait_for_latest_osdmap", r);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            rados.lifetime().exit();
        }
    }
}
