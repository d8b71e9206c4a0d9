package io.tandem.ceph;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** Small helpers shared by the bindings. */
final class Native {

    private Native() {
    }

    /** Rethrows what a method handle invocation threw, unchecked. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("native call failed", t);
    }

    /** A NUL-terminated copy of {@code s} in {@code arena}, or NULL for a null string. */
    static MemorySegment cString(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s, StandardCharsets.UTF_8);
    }

    /** Reads the NUL-terminated string at {@code address}. */
    static String string(MemorySegment address) {
        return address.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    /** A native copy of {@code bytes} in {@code arena}. */
    static MemorySegment copy(Arena arena, byte[] bytes) {
        if (bytes.length == 0) {
            return arena.allocate(1);
        }
        return arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
    }

    /** One pointer-sized out parameter. */
    static MemorySegment pointerOut(Arena arena) {
        return arena.allocate(ADDRESS);
    }
}
