package io.tandem.cluster;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The on-disk form of an LU's durable state ({@link LuState#durable()}): one UTF-8 text file per
 * LU, {@code <dir>/<luId>.state}, replaced atomically (write a temporary file, fsync, rename over
 * the old one, fsync the directory) so a crash at any point leaves either the old or the new file.
 *
 * <pre>
 * tandem-lu-state 1
 * lu 6001405...
 * version 12
 * generation 7
 * aptpl true
 * registration 00000000000000ab 0 iqn.1994-05.com.example%3Ahost%2Ci%2C0x23d000000001
 * reservation WRITE_EXCLUSIVE_REGISTRANTS_ONLY 1 iqn...
 * crc32c 1a2b3c4d
 * </pre>
 *
 * Registration lines are in registration order; the relative target port id 0 means all target
 * ports. Initiator ports are URL-encoded. The last line checksums every byte before it; a file
 * that fails it is refused rather than silently dropping reservations.
 */
final class StateFile {

    static final String MAGIC = "tandem-lu-state 1";
    private static final String SUFFIX = ".state";

    private StateFile() {
    }

    static Path path(Path dir, String luId) {
        return dir.resolve(URLEncoder.encode(luId, StandardCharsets.UTF_8) + SUFFIX);
    }

    static String render(LuState s) {
        StringBuilder b = new StringBuilder();
        b.append(MAGIC).append('\n');
        b.append("lu ").append(enc(s.luId())).append('\n');
        b.append("version ").append(s.version()).append('\n');
        b.append("generation ").append(s.prGeneration()).append('\n');
        b.append("aptpl ").append(s.aptpl()).append('\n');
        for (Registration r : s.registrations()) {
            b.append("registration ").append(HexFormat.of().toHexDigits(r.key())).append(' ')
                    .append(r.nexus().relativeTargetPortId()).append(' ').append(enc(r.nexus().initiatorPort())).append('\n');
        }
        PersistentReservation res = s.reservation();
        if (res != null) {
            b.append("reservation ").append(res.type().name()).append(' ')
                    .append(res.holder().relativeTargetPortId()).append(' ').append(enc(res.holder().initiatorPort())).append('\n');
        }
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        b.append("crc32c ").append(HexFormat.of().toHexDigits((int) crc(body, body.length))).append('\n');
        return b.toString();
    }

    static LuState parse(String luId, byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int lastLine = text.lastIndexOf("crc32c ");
        if (!text.startsWith(MAGIC + "\n") || lastLine < 0 || !text.endsWith("\n")) {
            throw corrupt(luId, "not a state file or truncated");
        }
        String crcText = text.substring(lastLine + 7, text.length() - 1);
        int bodyLength = text.substring(0, lastLine).getBytes(StandardCharsets.UTF_8).length;
        if (!crcText.equals(HexFormat.of().toHexDigits((int) crc(bytes, bodyLength)))) {
            throw corrupt(luId, "checksum mismatch");
        }
        long version = -1;
        long generation = -1;
        Boolean aptpl = null;
        String storedLu = null;
        List<Registration> registrations = new ArrayList<>();
        PersistentReservation reservation = null;
        String[] lines = text.substring(MAGIC.length() + 1, lastLine).split("\n");
        try {
            for (String line : lines) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "lu" -> storedLu = dec(f[1]);
                    case "version" -> version = Long.parseLong(f[1]);
                    case "generation" -> generation = Long.parseLong(f[1]);
                    case "aptpl" -> aptpl = Boolean.parseBoolean(f[1]);
                    case "registration" -> registrations.add(new Registration(
                            new NexusId(dec(f[3]), Integer.parseInt(f[2])), HexFormat.fromHexDigitsToLong(f[1])));
                    case "reservation" -> reservation = new PersistentReservation(
                            new NexusId(dec(f[3]), Integer.parseInt(f[2])), ReservationType.valueOf(f[1]));
                    default -> throw corrupt(luId, "unknown line '" + line + "'");
                }
            }
        } catch (RuntimeException e) {
            if (e instanceof CoordinatorException) {
                throw e;
            }
            throw new CoordinatorException("state of LU " + luId + " is corrupt: " + e.getMessage(), e);
        }
        if (!luId.equals(storedLu) || version < 0 || generation < 0 || aptpl == null) {
            throw corrupt(luId, "missing or mismatched header fields");
        }
        return new LuState(luId, version, generation, aptpl, registrations, reservation, null, 0, Map.of(), Map.of(), 0, 0,
                0, MediumState.INITIAL, Transition.NONE);
    }

    /** Reads the LU's file, or null when there is none. A leftover temporary file is discarded. */
    static LuState read(Path dir, String luId) {
        Path file = path(dir, luId);
        try {
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".tmp"));
            return parse(luId, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new CoordinatorException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Replaces the LU's file atomically and durably. */
    static void write(Path dir, LuState durable) {
        Path file = path(dir, durable.luId());
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] bytes = render(durable).getBytes(StandardCharsets.UTF_8);
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new CoordinatorException("the state directory " + dir + " does not support atomic rename", e);
            }
            syncDirectory(dir);
        } catch (IOException e) {
            throw new CoordinatorException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Makes the rename itself durable (POSIX: a directory entry change needs an fsync of the directory). */
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for fsync; the rename is still atomic there.
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
                throw e;
            }
        }
    }

    private static long crc(byte[] bytes, int length) {
        CRC32C c = new CRC32C();
        c.update(bytes, 0, length);
        return c.getValue();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static CoordinatorException corrupt(String luId, String why) {
        return new CoordinatorException("state of LU " + luId + " is corrupt: " + why);
    }
}
