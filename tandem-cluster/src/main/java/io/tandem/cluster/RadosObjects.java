package io.tandem.cluster;

import io.tandem.ceph.CephException;
import io.tandem.ceph.Errno;
import io.tandem.ceph.IoCtx;
import io.tandem.ceph.WriteOp;

/**
 * Whole-object reads and compare-and-set writes, the two object operations the RADOS coordinator
 * is built on. An object's version is the one the OSD keeps for it (it grows with every write,
 * not necessarily by one); 0 stands for "no such object".
 */
final class RadosObjects {

    /** First read size; a record, the registry and the configuration are usually far smaller. */
    private static final int FIRST_READ = 64 * 1024;
    /** Largest object read (the configuration store holds a few values of at most 512 KiB). */
    private static final int MAX_READ = 64 * 1024 * 1024;

    private RadosObjects() {
    }

    /** An object's bytes and version (0 and no bytes when it does not exist). */
    record Read(byte[] data, long version) {

        boolean exists() {
            return version != 0;
        }
    }

    /** Reads the whole object with its version, in one operation (growing the buffer until it all fits). */
    static Read read(IoCtx io, String oid) {
        int size = FIRST_READ;
        while (true) {
            try {
                IoCtx.Versioned v = io.readVersioned(oid, size);
                if (v.data().length < size) {
                    return new Read(v.data(), v.version());
                }
            } catch (CephException e) {
                if (e.errno() == Errno.ENOENT) {
                    return new Read(new byte[0], 0);
                }
                throw e;
            }
            if (size >= MAX_READ) {
                throw new CoordinatorException("RADOS object " + oid + " is larger than " + MAX_READ + " bytes");
            }
            size *= 4;
        }
    }

    /**
     * Replaces the object's content if its version is still {@code version} (0: if it does not
     * exist yet), in one guarded write operation.
     *
     * @return the object's new version, or -1 when the version had moved (another writer was first)
     */
    static long compareAndSet(IoCtx io, String oid, long version, byte[] data) {
        WriteOp op = WriteOp.create();
        try {
            if (version == 0) {
                op.create(true);
            } else {
                op.assertVersion(version);
            }
            op.writeFull(data);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
        try {
            return op.operateVersioned(io, oid);
        } catch (CephException e) {
            return switch (e.errno()) {
                // newer (ERANGE), older (EOVERFLOW: recreated), created meanwhile (EEXIST), removed (ENOENT)
                case Errno.ERANGE, 75 /* EOVERFLOW */, Errno.EEXIST, Errno.ENOENT -> -1;
                default -> throw e;
            };
        }
    }

    /** Creates the object empty unless it exists. */
    static void ensureExists(IoCtx io, String oid) {
        WriteOp op = WriteOp.create();
        op.create(false);
        op.operate(io, oid);
    }
}
