package io.tandem.server;

import io.tandem.storage.rbd.RbdBlockDevice;
import io.tandem.storage.rbd.RbdSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tandem rbd-create}: creates an RBD image fit for an active/active LUN (layering and
 * deep-flatten only: no exclusive lock, so every node can write it at once).
 */
@Command(name = "rbd-create", mixinStandardHelpOptions = true,
        description = "Create a Ceph RBD image for an rbd LUN (features layering, deep-flatten: no exclusive lock).")
final class RbdCreateCommand implements Callable<Integer> {

    @Option(names = "--pool", defaultValue = "rbd", description = "pool (default: ${DEFAULT-VALUE})")
    String pool;

    @Option(names = "--image", required = true, description = "image name")
    String image;

    @Option(names = "--size", required = true, description = "size, e.g. 100G, 256M")
    String size;

    @Option(names = "--ceph-conf", description = "ceph.conf (default: librados' search, e.g. /etc/ceph/ceph.conf)")
    Path cephConf;

    @Option(names = "--client-id", description = "Ceph user client.ID (default: admin)")
    String clientId;

    @Option(names = "--keyring", description = "the user's keyring (default: the one ceph.conf names)")
    Path keyring;

    @Override
    public Integer call() throws Exception {
        long bytes = Sizes.parse("--size", size);
        if (bytes % 4096 != 0) {
            throw new ConfigException("--size", "must be a multiple of 4096, got " + size);
        }
        String id = clientId != null && clientId.startsWith("client.") ? clientId.substring("client.".length()) : clientId;
        RbdSettings settings = new RbdSettings(pool, image, cephConf, id, keyring);
        if (RbdBlockDevice.createImage(settings, bytes)) {
            System.out.println("created " + settings.spec() + " (" + bytes + " bytes, features layering, deep-flatten)");
            return 0;
        }
        System.err.println("tandem: " + settings.spec() + " already exists; left as it is");
        return 1;
    }
}
