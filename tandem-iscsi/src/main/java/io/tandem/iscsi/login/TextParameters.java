package io.tandem.iscsi.login;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * An ordered list of key=value pairs as carried in the data segment of Login and Text PDUs
 * (RFC 7143 section 6.1): UTF-8 text, each pair terminated by a NUL byte.
 *
 * <p>Decoding accepts a last pair without its NUL and skips empty entries (runs of NULs), since
 * initiators differ there; it rejects a pair without '=', an empty or over-long key, a key with
 * characters outside the RFC's key alphabet, an over-long value, invalid UTF-8 and a key that
 * appears twice. Padding bytes are the caller's business: pass only DataSegmentLength bytes.
 */
public final class TextParameters {
    /** RFC 7143 section 6.1: a key name is at most 63 bytes. */
    public static final int MAX_KEY_LENGTH = 63;
    /** RFC 7143 section 6.1: unless a key says otherwise a value is at most 255 bytes. */
    public static final int MAX_VALUE_LENGTH = 255;
    /** The longest value any key may carry (large binary values such as a 1024-byte CHAP_C in hex). */
    public static final int MAX_LARGE_VALUE_LENGTH = 8192;

    private static final TextParameters EMPTY = new TextParameters(List.of());

    /** One key=value pair. */
    public record KeyValue(String key, String value) {
        public KeyValue {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return key + "=" + value;
        }
    }

    private final List<KeyValue> entries;

    private TextParameters(List<KeyValue> entries) {
        this.entries = entries;
    }

    public static TextParameters empty() {
        return EMPTY;
    }

    public static TextParameters of(List<KeyValue> entries) {
        return new TextParameters(List.copyOf(entries));
    }

    /** Decodes with the per-key value limits of {@link LoginKeys}. */
    public static TextParameters decode(byte[] data) {
        return decode(data, 0, data.length, LoginKeys::maxValueLength);
    }

    /** Decodes with the per-key value limits of {@link LoginKeys}. */
    public static TextParameters decode(byte[] data, int offset, int length) {
        return decode(data, offset, length, LoginKeys::maxValueLength);
    }

    /**
     * Decodes {@code length} bytes at {@code offset}.
     *
     * @param maxValueLength the longest value (in bytes) allowed for a key
     * @throws TextFormatException if the text is malformed
     */
    public static TextParameters decode(byte[] data, int offset, int length,
                                        ToIntFunction<String> maxValueLength) {
        Objects.checkFromIndexSize(offset, length, data.length);
        List<KeyValue> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int end = offset + length;
        int start = offset;
        while (start < end) {
            int nul = start;
            while (nul < end && data[nul] != 0) {
                nul++;
            }
            if (nul > start) {
                KeyValue kv = parsePair(data, start, nul, maxValueLength);
                if (!seen.add(kv.key())) {
                    throw new TextFormatException("key " + kv.key() + " appears twice");
                }
                out.add(kv);
            }
            start = nul + 1;
        }
        return out.isEmpty() ? EMPTY : new TextParameters(Collections.unmodifiableList(out));
    }

    private static KeyValue parsePair(byte[] data, int from, int to, ToIntFunction<String> maxValueLength) {
        int eq = from;
        while (eq < to && data[eq] != '=') {
            eq++;
        }
        if (eq == to) {
            throw new TextFormatException("no '=' in \"" + printable(data, from, to) + "\"");
        }
        int keyLength = eq - from;
        if (keyLength == 0) {
            throw new TextFormatException("empty key");
        }
        if (keyLength > MAX_KEY_LENGTH) {
            throw new TextFormatException("key longer than " + MAX_KEY_LENGTH + " bytes");
        }
        for (int i = from; i < eq; i++) {
            if (!isKeyCharacter(data[i])) {
                throw new TextFormatException("invalid character in key \"" + printable(data, from, eq) + "\"");
            }
        }
        // The key alphabet is ASCII, so this decode cannot fail.
        String key = new String(data, from, keyLength, StandardCharsets.US_ASCII);
        int valueLength = to - eq - 1;
        int limit = maxValueLength.applyAsInt(key);
        if (valueLength > limit) {
            throw new TextFormatException("value of " + key + " longer than " + limit + " bytes");
        }
        return new KeyValue(key, utf8(data, eq + 1, valueLength, key));
    }

    private static boolean isKeyCharacter(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || b == '.' || b == '-' || b == '+' || b == '@' || b == '_' || b == '#';
    }

    private static String utf8(byte[] data, int offset, int length, String key) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, offset, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new TextFormatException("value of " + key + " is not valid UTF-8");
        }
    }

    private static String printable(byte[] data, int from, int to) {
        int n = Math.min(to - from, 40);
        StringBuilder sb = new StringBuilder(n);
        for (int i = from; i < from + n; i++) {
            int c = data[i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        return sb.toString();
    }

    public List<KeyValue> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public boolean contains(String key) {
        return get(key) != null;
    }

    /** The value of {@code key}, or null if absent. */
    public String get(String key) {
        for (KeyValue kv : entries) {
            if (kv.key().equals(key)) {
                return kv.value();
            }
        }
        return null;
    }

    /** Every pair as "key=value" followed by NUL, the form both Login and Text PDUs carry. */
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(entries.size() * 24);
        for (KeyValue kv : entries) {
            out.writeBytes(kv.key().getBytes(StandardCharsets.US_ASCII));
            out.write('=');
            out.writeBytes(kv.value().getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TextParameters other && entries.equals(other.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        return entries.toString();
    }

    /** Collects pairs in order; a key added twice replaces the earlier value in place. */
    public static final class Builder {
        private final List<KeyValue> entries = new ArrayList<>();

        public Builder add(String key, String value) {
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).key().equals(key)) {
                    entries.set(i, new KeyValue(key, value));
                    return this;
                }
            }
            entries.add(new KeyValue(key, value));
            return this;
        }

        public Builder addAll(TextParameters parameters) {
            for (KeyValue kv : parameters.entries()) {
                add(kv.key(), kv.value());
            }
            return this;
        }

        public boolean contains(String key) {
            for (KeyValue kv : entries) {
                if (kv.key().equals(key)) {
                    return true;
                }
            }
            return false;
        }

        public boolean isEmpty() {
            return entries.isEmpty();
        }

        public TextParameters build() {
            return entries.isEmpty() ? EMPTY : new TextParameters(List.copyOf(entries));
        }
    }
}
