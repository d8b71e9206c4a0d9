package io.tandem.iscsi.login;

import java.util.Base64;
import java.util.HexFormat;

/**
 * Value syntaxes of RFC 7143 section 6.1: numbers (decimal or 0x hex), booleans (Yes/No) and
 * binary values (0x hex or 0b base64).
 */
public final class TextValues {
    /** Returned by {@link #parseNumber} for anything that is not a valid number. */
    public static final long INVALID = -1;

    public static final String YES = "Yes";
    public static final String NO = "No";
    /** Answer for a key whose offered value is not acceptable. */
    public static final String REJECT = "Reject";
    /** Answer for a key the responder does not know. */
    public static final String NOT_UNDERSTOOD = "NotUnderstood";
    /** Answer for a key that does not apply to this session (e.g. MaxBurstLength in discovery). */
    public static final String IRRELEVANT = "Irrelevant";

    private TextValues() {
    }

    /**
     * Parses a numerical value: a decimal constant or a hex constant ({@code 0x}/{@code 0X}).
     *
     * @return the value, or {@link #INVALID} if the text is no number or exceeds 2^63-1
     */
    public static long parseNumber(String text) {
        if (text == null || text.isEmpty()) {
            return INVALID;
        }
        int radix = 10;
        int start = 0;
        if (text.length() > 2 && text.charAt(0) == '0' && (text.charAt(1) == 'x' || text.charAt(1) == 'X')) {
            radix = 16;
            start = 2;
        }
        long value = 0;
        for (int i = start; i < text.length(); i++) {
            int digit = Character.digit(text.charAt(i), radix);
            // Character.digit accepts non-ASCII digits; the RFC grammar does not.
            if (digit < 0 || text.charAt(i) > 0x7f) {
                return INVALID;
            }
            if (value > (Long.MAX_VALUE - digit) / radix) {
                return INVALID;
            }
            value = value * radix + digit;
        }
        return value;
    }

    /** Parses Yes/No; anything else gives null. */
    public static Boolean parseBoolean(String text) {
        if (YES.equals(text)) {
            return Boolean.TRUE;
        }
        if (NO.equals(text)) {
            return Boolean.FALSE;
        }
        return null;
    }

    public static String formatBoolean(boolean value) {
        return value ? YES : NO;
    }

    /**
     * Decodes a binary value given as {@code 0x}+hex (an odd digit count means a leading zero
     * nibble) or {@code 0b}+base64.
     *
     * @return the bytes, or null if the text is not a valid binary value
     */
    public static byte[] parseBinary(String text) {
        if (text == null || text.length() < 3 || text.charAt(0) != '0') {
            return null;
        }
        char kind = text.charAt(1);
        String body = text.substring(2);
        try {
            if (kind == 'x' || kind == 'X') {
                if ((body.length() & 1) == 1) {
                    body = "0" + body;
                }
                return HexFormat.of().parseHex(body);
            }
            if (kind == 'b' || kind == 'B') {
                return Base64.getDecoder().decode(body);
            }
        } catch (IllegalArgumentException e) {
            return null;
        }
        return null;
    }

    /** Encodes bytes as {@code 0x} followed by lower-case hex, the form every initiator accepts. */
    public static String formatBinary(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }
}
