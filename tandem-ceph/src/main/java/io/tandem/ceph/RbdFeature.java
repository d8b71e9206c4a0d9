package io.tandem.ceph;

import java.util.ArrayList;
import java.util.List;

/** RBD image features (rbd/features.h): the bit and the name the {@code rbd} tool uses. */
public enum RbdFeature {
    LAYERING(1L, "layering"),
    STRIPINGV2(1L << 1, "striping"),
    EXCLUSIVE_LOCK(1L << 2, "exclusive-lock"),
    OBJECT_MAP(1L << 3, "object-map"),
    FAST_DIFF(1L << 4, "fast-diff"),
    DEEP_FLATTEN(1L << 5, "deep-flatten"),
    JOURNALING(1L << 6, "journaling"),
    DATA_POOL(1L << 7, "data-pool"),
    OPERATIONS(1L << 8, "operations"),
    MIGRATING(1L << 9, "migrating"),
    NON_PRIMARY(1L << 10, "non-primary"),
    DIRTY_CACHE(1L << 11, "dirty-cache");

    private final long bit;
    private final String cliName;

    RbdFeature(long bit, String cliName) {
        this.bit = bit;
        this.cliName = cliName;
    }

    public long bit() {
        return bit;
    }

    /** The name {@code rbd feature enable/disable} takes. */
    public String cliName() {
        return cliName;
    }

    public boolean in(long features) {
        return (features & bit) != 0;
    }

    /** The features set in {@code features}, in bit order. */
    public static List<RbdFeature> of(long features) {
        List<RbdFeature> set = new ArrayList<>();
        for (RbdFeature f : values()) {
            if (f.in(features)) {
                set.add(f);
            }
        }
        return set;
    }

    /** The bit mask of {@code features}. */
    public static long mask(RbdFeature... features) {
        long mask = 0;
        for (RbdFeature f : features) {
            mask |= f.bit;
        }
        return mask;
    }
}
