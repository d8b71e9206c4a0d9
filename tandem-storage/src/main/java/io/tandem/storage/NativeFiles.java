package io.tandem.storage;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The Linux file calls Java has no API for, bound with the foreign function &amp; memory API (no JNI):
 * {@code open(2)} for a raw descriptor, {@code fallocate(2)} to punch holes, and {@code lseek(2)}
 * with {@code SEEK_DATA}/{@code SEEK_HOLE} to find them. Each call captures {@code errno}
 * ({@link Linker.Option#captureCallState}), so a failure is reported with the code the kernel gave.
 *
 * <p>The constants below are the Linux values shared by x86-64 and AArch64; on any other platform
 * {@link #available()} is false and callers fall back to plain writes.
 */
final class NativeFiles {

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;

    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;

    /** A failed call, with its errno. */
    static final class NativeException extends java.io.IOException {
        private final int errno;

        NativeException(String call, int errno) {
            super(call + " failed: " + errnoName(errno));
            this.errno = errno;
        }

        int errno() {
            return errno;
        }

        /** The file system (or device) does not implement the operation at all. */
        boolean unsupported() {
            return errno == EOPNOTSUPP || errno == ENOSYS || errno == ENODEV;
        }
    }

    private static final NativeFiles INSTANCE = load();

    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle fallocate;
    private final MethodHandle lseek;
    private final StructLayout captureLayout;
    private final VarHandle errno;

    private NativeFiles(MethodHandle open, MethodHandle close, MethodHandle fallocate, MethodHandle lseek,
                        StructLayout captureLayout, VarHandle errno) {
        this.open = open;
        this.close = close;
        this.fallocate = fallocate;
        this.lseek = lseek;
        this.captureLayout = captureLayout;
        this.errno = errno;
    }

    /** Whether the calls are bound (Linux on a 64-bit platform whose constants are the ones above). */
    static boolean available() {
        return INSTANCE != null;
    }

    /** The bindings; only call after {@link #available()} returned true. */
    static NativeFiles get() {
        if (INSTANCE == null) {
            throw new UnsupportedOperationException("native file calls are not available on this platform");
        }
        return INSTANCE;
    }

    private static NativeFiles load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.equals("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            StructLayout layout = Linker.Option.captureStateLayout();
            VarHandle errnoHandle = layout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
            // open(2) is variadic: the mode is the first variadic argument.
            MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                    errno, Linker.Option.firstVariadicArg(2));
            MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
            MethodHandle fallocate = linker.downcallHandle(libc.find("fallocate").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
            MethodHandle lseek = linker.downcallHandle(libc.find("lseek").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), errno);
            return new NativeFiles(open, close, fallocate, lseek, layout, errnoHandle);
        } catch (Throwable e) {
            // e.g. native access denied (--illegal-native-access=deny): run without holes.
            System.getLogger(NativeFiles.class.getName()).log(System.Logger.Level.WARNING,
                    "native file calls unavailable, thin provisioning disabled: " + e);
            return null;
        }
    }

    /** Opens {@code path} and returns the raw descriptor (close-on-exec). */
    int open(Path path, boolean writable) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(captureLayout);
            MemorySegment name = arena.allocateFrom(path.toString());
            int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
            while (true) {
                int fd = (int) open.invokeExact(state, name, flags, 0);
                if (fd >= 0) {
                    return fd;
                }
                int e = errno(state);
                if (e != EINTR) {
                    throw new NativeException("open(" + path + ")", e);
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("open downcall", e);
        }
    }

    void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            // Not retried on EINTR: on Linux the descriptor is released regardless.
            int ignored = (int) close.invokeExact(arena.allocate(captureLayout), fd);
        } catch (Throwable e) {
            throw new IllegalStateException("close downcall", e);
        }
    }

    /** {@code fallocate(fd, mode, offset, length)}, retried on EINTR. */
    void fallocate(int fd, int mode, long offset, long length) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(captureLayout);
            while (true) {
                int r = (int) fallocate.invokeExact(state, fd, mode, offset, length);
                if (r == 0) {
                    return;
                }
                int e = errno(state);
                if (e != EINTR) {
                    throw new NativeException("fallocate(mode=" + mode + ", " + offset + ", " + length + ")", e);
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("fallocate downcall", e);
        }
    }

    /**
     * {@code lseek(fd, offset, whence)}. For {@code SEEK_DATA} past the last data (errno ENXIO)
     * this returns -1 instead of throwing, since "no more data" is an answer, not a failure.
     */
    long lseek(int fd, long offset, int whence) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(captureLayout);
            long r = (long) lseek.invokeExact(state, fd, offset, whence);
            if (r >= 0) {
                return r;
            }
            int e = errno(state);
            if (e == ENXIO) {
                return -1;
            }
            throw new NativeException("lseek(" + offset + ", " + whenceName(whence) + ")", e);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("lseek downcall", e);
        }
    }

    private int errno(MemorySegment state) {
        return (int) errno.get(state, 0L);
    }

    private static String whenceName(int whence) {
        return switch (whence) {
            case SEEK_DATA -> "SEEK_DATA";
            case SEEK_HOLE -> "SEEK_HOLE";
            default -> String.valueOf(whence);
        };
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case EINTR -> "EINTR";
            case ENXIO -> "ENXIO";
            case 9 -> "EBADF";
            case 13 -> "EACCES";
            case ENODEV -> "ENODEV";
            case EINVAL -> "EINVAL";
            case 27 -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case 30 -> "EROFS";
            case ENOSYS -> "ENOSYS";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case 5 -> "EIO";
            case 2 -> "ENOENT";
            default -> "errno " + errno;
        };
    }
}
