package io.tandem.it.initiator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Text-format key=value pairs (RFC 7143 section 6): UTF-8, each pair NUL-terminated. Order and
 * repeated keys are kept because SendTargets answers repeat TargetName/TargetAddress.
 */
public final class TextParameters {
    private final List<Map.Entry<String, String>> pairs = new ArrayList<>();

    public TextParameters add(String key, String value) {
        pairs.add(Map.entry(key, value));
        return this;
    }

    public TextParameters addAll(Map<String, String> map) {
        map.forEach(this::add);
        return this;
    }

    public List<Map.Entry<String, String>> pairs() {
        return List.copyOf(pairs);
    }

    public boolean isEmpty() {
        return pairs.isEmpty();
    }

    /** Last value for a key, or null. */
    public String get(String key) {
        String v = null;
        for (Map.Entry<String, String> e : pairs) {
            if (e.getKey().equals(key)) {
                v = e.getValue();
            }
        }
        return v;
    }

    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        pairs.forEach(e -> map.put(e.getKey(), e.getValue()));
        return map;
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : pairs) {
            out.writeBytes((e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /**
     * Decodes a complete text segment. A pair without '=' is a protocol violation by the sender.
     */
    public static TextParameters decode(byte[] data) {
        TextParameters params = new TextParameters();
        int start = 0;
        for (int i = 0; i <= data.length; i++) {
            if (i == data.length || data[i] == 0) {
                if (i > start) {
                    String pair = new String(data, start, i - start, StandardCharsets.UTF_8);
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new ProtocolViolationException("malformed text pair: '" + pair + "'");
                    }
                    params.add(pair.substring(0, eq), pair.substring(eq + 1));
                }
                start = i + 1;
            }
        }
        return params;
    }

    @Override
    public String toString() {
        return pairs.toString();
    }
}
