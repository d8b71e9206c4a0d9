package io.tandem.server;

import io.tandem.scsi.alua.AluaMode;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One exported logical unit.
 *
 * @param file backing file; null means {@code <data dir>/<name>.img}
 * @param initiators LUN masking: the iSCSI names of the initiators that see this LUN; empty means
 *     every initiator that may log in
 * @param physicalBlockSize physical block size reported to initiators; 0 means the block size.
 *     4096 with 512-byte blocks makes a "512e" LU (initiators align I/O to 4 KiB)
 * @param removable a removable medium (INQUIRY RMB=1) that initiators can eject and load with START
 *     STOP UNIT and hold in with PREVENT ALLOW MEDIUM REMOVAL; the medium state is per node
 * @param alua how the cluster's nodes share the LU's paths (null: active/active)
 * @param rbd where an {@code rbd} LUN's image is (null for every other backend); its size is the
 *     image's, {@code sizeBytes} is 0 until the LUN is grown
 */
public record LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize,
                        boolean readOnly, List<String> initiators, int physicalBlockSize, boolean removable,
                        AluaMode alua, Rbd rbd) {

    public enum Backend { FILE, MEMORY, RBD }

    /**
     * A Ceph RBD image and the client that reaches it.
     *
     * @param pool the image's pool
     * @param image the image's name
     * @param cephConf the cluster's ceph.conf; null: librados' default search ({@code /etc/ceph/ceph.conf})
     * @param clientId the N of the Ceph user {@code client.N}; null: {@code admin}
     * @param keyring the user's keyring; null: the one ceph.conf names
     * @param createBytes when positive, the image is created with this size if it does not exist
     */
    public record Rbd(String pool, String image, Path cephConf, String clientId, Path keyring, long createBytes) {
        public Rbd {
            if (pool == null || pool.isBlank()) {
                throw new ConfigException("luns[].pool", "an rbd LUN needs a pool");
            }
            if (image == null || image.isBlank() || image.contains("/") || image.contains("@")) {
                throw new ConfigException("luns[].image", "must be an image name (no / or @), got " + image);
            }
            if (createBytes < 0) {
                throw new ConfigException("luns[].create", "must be a positive size, got " + createBytes);
            }
        }
    }

    public LunConfig {
        if (number < 0 || number > 16383) {
            throw new ConfigException("luns[].number", "must be 0..16383, got " + number);
        }
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new ConfigException("luns[].name", "must be 1-64 characters of A-Z a-z 0-9 . _ -, got " + name);
        }
        if (blockSize != 512 && blockSize != 4096) {
            throw new ConfigException("luns[].block-size", "must be 512 or 4096, got " + blockSize);
        }
        if (sizeBytes < 0 || sizeBytes % blockSize != 0) {
            throw new ConfigException("luns[].size", "must be a multiple of the block size " + blockSize + ", got " + sizeBytes);
        }
        if (physicalBlockSize == 0) {
            physicalBlockSize = blockSize;
        }
        if (physicalBlockSize < blockSize || physicalBlockSize % blockSize != 0
                || Integer.bitCount(physicalBlockSize / blockSize) != 1 || physicalBlockSize > 1 << 20) {
            throw new ConfigException("luns[].physical-block-size", "must be the block size " + blockSize
                    + " times a power of two (e.g. 4096 for 512e), got " + physicalBlockSize);
        }
        if ((backend == Backend.RBD) != (rbd != null)) {
            throw new ConfigException("luns[].backend", backend == Backend.RBD
                    ? "an rbd LUN needs its pool and image" : "pool/image/ceph-conf/client-id/keyring/create are for rbd LUNs");
        }
        if (rbd != null && rbd.createBytes() % blockSize != 0) {
            throw new ConfigException("luns[].create", "must be a multiple of the block size " + blockSize
                    + ", got " + rbd.createBytes());
        }
        initiators = List.copyOf(initiators == null ? List.of() : initiators);
        alua = alua == null ? AluaMode.ACTIVE_ACTIVE : alua;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < initiators.size(); i++) {
            String initiator = initiators.get(i);
            if (!NodeConfig.isIscsiName(initiator)) {
                throw new ConfigException("luns[].initiators[" + i + "]",
                        "not a valid iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui. or naa.): " + initiator);
            }
            if (!seen.add(initiator.toLowerCase(Locale.ROOT))) {
                throw new ConfigException("luns[].initiators[" + i + "]", initiator + " is listed twice");
            }
        }
    }

    /** A LUN of a backend other than rbd. */
    public LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize,
                     boolean readOnly, List<String> initiators, int physicalBlockSize, boolean removable,
                     AluaMode alua) {
        this(number, name, backend, file, sizeBytes, blockSize, readOnly, initiators, physicalBlockSize, removable, alua,
                null);
    }

    /** A LUN active on every path of a cluster. */
    public LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize,
                     boolean readOnly, List<String> initiators, int physicalBlockSize, boolean removable) {
        this(number, name, backend, file, sizeBytes, blockSize, readOnly, initiators, physicalBlockSize, removable, null);
    }

    /** A fixed (non-removable) LUN with an ALUA mode. */
    public LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize,
                     boolean readOnly, List<String> initiators, int physicalBlockSize, AluaMode alua) {
        this(number, name, backend, file, sizeBytes, blockSize, readOnly, initiators, physicalBlockSize, false, alua);
    }

    /** A fixed (non-removable) LUN. */
    public LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize,
                     boolean readOnly, List<String> initiators, int physicalBlockSize) {
        this(number, name, backend, file, sizeBytes, blockSize, readOnly, initiators, physicalBlockSize, false, null);
    }

    /** A fixed LUN every initiator sees. */
    public LunConfig(int number, String name, Backend backend, Path file, long sizeBytes, int blockSize, boolean readOnly) {
        this(number, name, backend, file, sizeBytes, blockSize, readOnly, List.of(), 0, false, null);
    }

    /** The same LUN, seen only by these initiators (empty: by everyone). */
    public LunConfig withInitiators(List<String> names) {
        return new LunConfig(number, name, backend, file, sizeBytes, blockSize, readOnly, names, physicalBlockSize,
                removable, alua, rbd);
    }

    /** The same LUN with another size (a resize). */
    public LunConfig withSize(long bytes) {
        return new LunConfig(number, name, backend, file, bytes, blockSize, readOnly, initiators, physicalBlockSize,
                removable, alua, rbd);
    }

    /** The same LUN with another ALUA mode. */
    public LunConfig withAlua(AluaMode mode) {
        return new LunConfig(number, name, backend, file, sizeBytes, blockSize, readOnly, initiators, physicalBlockSize,
                removable, mode, rbd);
    }

    /** Whether {@code other} differs from this LUN only in settings applied live (who sees it, ALUA mode). */
    boolean sameDeviceAs(LunConfig other) {
        return withInitiators(List.of()).withAlua(null).equals(other.withInitiators(List.of()).withAlua(null));
    }

    public static LunConfig file(int number, long sizeBytes, int blockSize) {
        return new LunConfig(number, "lun" + number, Backend.FILE, null, sizeBytes, blockSize, false);
    }

    /** An rbd LUN on {@code pool/image}, fixed, seen by every initiator. */
    public static LunConfig rbd(int number, Rbd rbd, int blockSize, boolean readOnly) {
        return new LunConfig(number, "lun" + number, Backend.RBD, null, 0, blockSize, readOnly, List.of(), 0, false,
                null, rbd);
    }

    public static LunConfig memory(int number, long sizeBytes, int blockSize) {
        return new LunConfig(number, "lun" + number, Backend.MEMORY, null, sizeBytes, blockSize, false);
    }
}
