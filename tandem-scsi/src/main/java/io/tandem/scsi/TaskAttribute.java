package io.tandem.scsi;

/** SAM task attributes, numbered as iSCSI's ATTR field carries them. */
public enum TaskAttribute {
    UNTAGGED, SIMPLE, ORDERED, HEAD_OF_QUEUE, ACA;

    public static TaskAttribute fromIscsiCode(int code) {
        return switch (code & 0x7) {
            case 0 -> UNTAGGED;
            case 1 -> SIMPLE;
            case 2 -> ORDERED;
            case 3 -> HEAD_OF_QUEUE;
            case 4 -> ACA;
            default -> SIMPLE; // RFC 7143 reserves 5-7; treat as SIMPLE rather than refuse
        };
    }
}
