package io.tandem.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NativeLibraryTest {

    @Test
    void aMissingLibraryNamesThePackageToInstall() {
        assertThatThrownBy(() -> NativeLibrary.load("librados-does-not-exist.so.9", "librados2"))
                .isInstanceOf(CephUnavailableException.class)
                .hasMessageContaining("librados-does-not-exist.so.9")
                .hasMessageContaining("apt-get install librados2")
                .hasMessageContaining("ceph-common");
    }

    @Test
    void theInstalledLibrariesLoadBySoname() {
        assertThat(NativeLibrary.rados().soname()).isEqualTo("librados.so.2");
        assertThat(NativeLibrary.rbd().soname()).isEqualTo("librbd.so.1");
        assertThat(NativeLibrary.available()).isTrue();
    }

    @Test
    void errnoNamesAreSymbolic() {
        assertThat(Errno.name(5)).isEqualTo("EIO");
        assertThat(Errno.name(-108)).isEqualTo("ESHUTDOWN");
        assertThat(Errno.name(9999)).isEqualTo("errno 9999");
        assertThat(CephException.of("rados_write_op_operate", -4095 - 17))
                .isInstanceOfSatisfying(CompareMismatchException.class, e -> assertThat(e.offset()).isEqualTo(17));
        assertThat(CephException.of("rbd_write", -28).getMessage()).isEqualTo("rbd_write failed: ENOSPC (28)");
    }
}
