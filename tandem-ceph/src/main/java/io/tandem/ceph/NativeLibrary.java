package io.tandem.ceph;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * One Ceph client library, opened by its soname (the name the runtime package installs; the bare
 * {@code .so} link exists only with the -dev package) and kept for the life of the JVM.
 */
public final class NativeLibrary {

    public static final String RADOS_SONAME = "librados.so.2";
    public static final String RBD_SONAME = "librbd.so.1";

    private static final Linker LINKER = Linker.nativeLinker();

    private final String soname;
    private final SymbolLookup symbols;

    private NativeLibrary(String soname, SymbolLookup symbols) {
        this.soname = soname;
        this.symbols = symbols;
    }

    /**
     * Opens {@code soname}; when the dynamic loader cannot find it, fails with a message naming
     * {@code debianPackage}, the package that installs it.
     */
    public static NativeLibrary load(String soname, String debianPackage) {
        try {
            return new NativeLibrary(soname, SymbolLookup.libraryLookup(soname, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new CephUnavailableException(soname + " cannot be loaded (" + e.getMessage() + "): the Ceph client"
                    + " library is not installed; on Debian/Ubuntu: apt-get install " + debianPackage
                    + " (the ceph and rbd command-line tools come with ceph-common)", e);
        }
    }

    /** librados, loaded on first use; throws {@link CephUnavailableException} on every call if absent. */
    public static NativeLibrary rados() {
        return RadosHolder.get();
    }

    /** librbd (which needs librados), loaded on first use. */
    public static NativeLibrary rbd() {
        rados();
        return RbdHolder.get();
    }

    /** Whether both librados and librbd can be loaded on this machine. */
    public static boolean available() {
        try {
            rbd();
            return true;
        } catch (CephUnavailableException e) {
            return false;
        }
    }

    public String soname() {
        return soname;
    }

    /** A downcall handle for {@code symbol}; fails if the library does not export it. */
    public MethodHandle function(String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = symbols.find(symbol).orElseThrow(() -> new CephUnavailableException(
                soname + " has no function " + symbol + " (a Ceph release older than Pacific?)", null));
        return LINKER.downcallHandle(address, descriptor);
    }

    /** An upcall stub calling {@code target}, valid for the life of the JVM. */
    static MemorySegment upcall(MethodHandle target, FunctionDescriptor descriptor) {
        return LINKER.upcallStub(target, descriptor, Arena.global());
    }

    /** Loads once; remembers a failure so every later call reports it the same way. */
    private record Loaded(NativeLibrary library, CephUnavailableException failure) {
        static Loaded attempt(String soname, String debianPackage) {
            try {
                return new Loaded(load(soname, debianPackage), null);
            } catch (CephUnavailableException e) {
                return new Loaded(null, e);
            }
        }

        NativeLibrary get() {
            if (failure != null) {
                throw new CephUnavailableException(failure.getMessage(), failure.getCause());
            }
            return library;
        }
    }

    private static final class RadosHolder {
        static final Loaded LOADED = Loaded.attempt(RADOS_SONAME, "librados2");

        static NativeLibrary get() {
            return LOADED.get();
        }
    }

    private static final class RbdHolder {
        static final Loaded LOADED = Loaded.attempt(RBD_SONAME, "librbd1");

        static NativeLibrary get() {
            return LOADED.get();
        }
    }
}
