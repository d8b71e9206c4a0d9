package io.tandem.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** What the kernel says a file occupies, read with stat(1) so the check does not depend on the code under test. */
final class FileSystemSpace {

    private FileSystemSpace() {
    }

    /** st_blocks × the unit stat reports them in: the bytes allocated to the file. */
    static long allocatedBytes(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("stat did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (p.exitValue() != 0) {
            throw new IOException("stat failed: " + out);
        }
        String[] parts = out.split("\\s+");
        return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
    }
}
