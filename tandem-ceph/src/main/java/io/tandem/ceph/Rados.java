package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A RADOS cluster handle ({@code rados_t}): configure, {@link #connect()}, open {@link IoCtx}s,
 * and fence other clients with {@link #blocklistAdd}. Thread-safe once connected; {@link #close()}
 * waits for calls in progress and must come after every I/O context and image opened through it
 * is closed.
 *
 * <p>Typical client settings: {@code rbd_cache=false} (the target acknowledges writes only when
 * the cluster has them), {@code client_mount_timeout} and {@code rados_osd_op_timeout} (so a
 * cluster that stops answering fails calls with ETIMEDOUT instead of blocking them forever).
 */
public final class Rados implements AutoCloseable {

    private final MemorySegment cluster;
    private final Lifetime lifetime = new Lifetime("RADOS cluster handle");
    private volatile boolean connected;

    private Rados(MemorySegment cluster) {
        this.cluster = cluster;
    }

    /**
     * A handle for the client {@code client.<clientId>} ({@code null}: {@code client.admin}) of
     * the cluster named "ceph", with no configuration read yet.
     */
    public static Rados create(String clientId) {
        NativeLibrary.rados();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            int r = (int) LibRados.create.invokeExact(out, Native.cString(arena, clientId));
            CephException.check("rados_create", r);
            return new Rados(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A handle for the entity {@code entityName} (e.g. "client.iscsi") of cluster {@code clusterName}. */
    public static Rados create(String clusterName, String entityName) {
        NativeLibrary.rados();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            int r = (int) LibRados.create2.invokeExact(out, Native.cString(arena, clusterName),
                    Native.cString(arena, entityName), 0L);
            CephException.check("rados_create2", r);
            return new Rados(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Reads a ceph.conf (before {@link #connect()}). */
    public Rados readConfig(Path confFile) {
        call("rados_conf_read_file", arena -> (int) LibRados.confReadFile.invokeExact(cluster,
                Native.cString(arena, confFile.toString())));
        return this;
    }

    /**
     * Reads the first ceph.conf of librados' default search ({@code $CEPH_CONF},
     * {@code /etc/ceph/ceph.conf}, {@code ~/.ceph/config}, {@code ./ceph.conf}).
     */
    public Rados readDefaultConfig() {
        call("rados_conf_read_file(default)", arena -> (int) LibRados.confReadFile.invokeExact(cluster, MemorySegment.NULL));
        return this;
    }

    /** Sets one configuration option, e.g. {@code set("rbd_cache", "false")} or {@code set("keyring", path)}. */
    public Rados set(String option, String value) {
        call("rados_conf_set(" + option + ")", arena -> (int) LibRados.confSet.invokeExact(cluster,
                Native.cString(arena, option), Native.cString(arena, value)));
        return this;
    }

    /** The current value of a configuration option. */
    public String get(String option) {
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            int r = (int) LibRados.confGet.invokeExact(cluster, Native.cString(arena, option), buf, buf.byteSize());
            CephException.check("rados_conf_get(" + option + ")", r);
            return buf.getString(0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /** Connects to the monitors; blocks up to {@code client_mount_timeout}. */
    public Rados connect() {
        call("rados_connect", arena -> (int) LibRados.connect.invokeExact(cluster));
        connected = true;
        return this;
    }

    /** This client's global id (the N of {@code client.N} that the cluster assigned at connect). */
    public long instanceId() {
        requireConnected();
        lifetime.enter();
        try {
            return (long) LibRados.getInstanceId.invokeExact(cluster);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /**
     * This client's addresses as the cluster sees them, e.g. {@code 127.0.0.1:0/1424560017}: what
     * another client passes to {@link #blocklistAdd} to fence this one.
     */
    public String addresses() {
        requireConnected();
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            int r = (int) LibRados.getaddrs.invokeExact(cluster, out);
            CephException.check("rados_getaddrs", r);
            MemorySegment text = out.get(ADDRESS, 0);
            try {
                return Native.string(text);
            } finally {
                LibRados.bufferFree.invokeExact(text);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /**
     * Blocklists (fences) the client at {@code clientAddress} for {@code expireSeconds} (0: the
     * cluster's default, an hour): the OSDs refuse its operations from then on, including ones
     * already in flight, and the client sees ESHUTDOWN.
     */
    public void blocklistAdd(String clientAddress, int expireSeconds) {
        requireConnected();
        call("rados_blocklist_add", arena -> (int) LibRados.blocklistAdd.invokeExact(cluster,
                Native.cString(arena, clientAddress), expireSeconds));
    }

    /** The id of pool {@code pool}; ENOENT when there is none. */
    public long poolId(String pool) {
        requireConnected();
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            long id = (long) LibRados.poolLookup.invokeExact(cluster, Native.cString(arena, pool));
            CephException.check("rados_pool_lookup(" + pool + ")", id);
            return id;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /** An I/O context on pool {@code pool}. */
    public IoCtx ioContext(String pool) {
        requireConnected();
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            int r = (int) LibRados.ioctxCreate.invokeExact(cluster, Native.cString(arena, pool), out);
            CephException.check("rados_ioctx_create(" + pool + ")", r);
            return new IoCtx(this, pool, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /** An I/O context on the pool with id {@code poolId}. */
    public IoCtx ioContext(long poolId) {
        requireConnected();
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = Native.pointerOut(arena);
            int r = (int) LibRados.ioctxCreate2.invokeExact(cluster, poolId, out);
            CephException.check("rados_ioctx_create2(" + poolId + ")", r);
            return new IoCtx(this, "#" + poolId, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }

    /** The native {@code rados_t}, for bindings in this package. Use between enter/exit of {@link #lifetime()}. */
    MemorySegment handle() {
        return cluster;
    }

    Lifetime lifetime() {
        return lifetime;
    }

    /** Disconnects and frees the handle; idempotent. */
    @Override
    public void close() {
        if (!lifetime.close()) {
            return;
        }
        try {
            LibRados.shutdown.invokeExact(cluster);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private void requireConnected() {
        if (!connected) {
            throw new IllegalStateException("RADOS cluster handle is not connected");
        }
    }

    @FunctionalInterface
    private interface Call {
        int invoke(Arena arena) throws Throwable;
    }

    private void call(String name, Call call) {
        lifetime.enter();
        try (Arena arena = Arena.ofConfined()) {
            CephException.check(name, call.invoke(arena));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lifetime.exit();
        }
    }
}
