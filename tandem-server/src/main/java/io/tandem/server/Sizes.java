package io.tandem.server;

import java.util.Locale;

/** Parses sizes such as {@code 1G}, {@code 256M}, {@code 4096}, {@code 10GiB}. */
final class Sizes {
    private Sizes() {
    }

    static long parse(String field, String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigException(field, "size is empty");
        }
        String s = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long unit = 1;
        char last = s.charAt(s.length() - 1);
        switch (last) {
            case 'K' -> unit = 1L << 10;
            case 'M' -> unit = 1L << 20;
            case 'G' -> unit = 1L << 30;
            case 'T' -> unit = 1L << 40;
            default -> { }
        }
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        try {
            long value = Long.parseLong(digits.trim());
            if (value <= 0 || value > Long.MAX_VALUE / unit) {
                throw new ConfigException(field, "size out of range: " + text);
            }
            return value * unit;
        } catch (NumberFormatException e) {
            throw new ConfigException(field, "not a size (e.g. 1G, 512M, 1048576): " + text);
        }
    }
}
