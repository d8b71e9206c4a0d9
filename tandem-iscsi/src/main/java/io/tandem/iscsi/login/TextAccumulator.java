package io.tandem.iscsi.login;

import java.io.ByteArrayOutputStream;

/**
 * Joins the data segments of a Login or Text request sequence whose Continue (C) bit is set
 * (RFC 7143 sections 11.10.2 and 11.12.2): a key=value pair may be split anywhere, even inside a
 * UTF-8 character, so bytes are joined before anything is decoded.
 */
public final class TextAccumulator {
    /** Default bound on one joined text, far above anything a real initiator sends. */
    public static final int DEFAULT_MAX_TOTAL = 64 * 1024;

    private final int maxTotal;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean open;

    public TextAccumulator() {
        this(DEFAULT_MAX_TOTAL);
    }

    public TextAccumulator(int maxTotal) {
        if (maxTotal <= 0) {
            throw new IllegalArgumentException("maxTotal must be positive");
        }
        this.maxTotal = maxTotal;
    }

    /**
     * Adds one PDU's data segment.
     *
     * @param continued the PDU's C bit
     * @return null while more segments are to come; otherwise the whole text (the joined
     *     segments, or {@code segment} itself when nothing was pending)
     * @throws TextFormatException if the joined text would exceed the bound
     */
    public byte[] append(byte[] segment, boolean continued) {
        if (pending.size() + segment.length > maxTotal) {
            reset();
            throw new TextFormatException("continued text longer than " + maxTotal + " bytes");
        }
        if (!continued && !open) {
            return segment;
        }
        pending.writeBytes(segment);
        if (continued) {
            open = true;
            return null;
        }
        byte[] whole = pending.toByteArray();
        reset();
        return whole;
    }

    /** True while a continued sequence is open. */
    public boolean inProgress() {
        return open;
    }

    public void reset() {
        pending.reset();
        open = false;
    }
}
