package io.tandem.storage.rbd;

import java.util.ArrayList;
import java.util.List;

/**
 * Where an RBD image's bytes live: image offset {@code o} is byte {@code o % objectSize} of data
 * object number {@code o / objectSize}, named {@code <block name prefix>.<number>} (16 hex digits
 * for format 2 images, 12 for the old format 1). Valid for images without fancy striping (stripe
 * count 1), which the device checks at open.
 */
record ObjectLayout(String prefix, long objectSize) {

    /** One object's share of an image range. */
    record Piece(long objectNo, String oid, long objectOffset, int length, int rangeOffset) {
    }

    String objectName(long objectNo) {
        return prefix.startsWith("rbd_data.")
                ? String.format("%s.%016x", prefix, objectNo)
                : String.format("%s.%012x", prefix, objectNo);
    }

    /** The pieces of [{@code offset}, {@code offset + length}), in object order. */
    List<Piece> split(long offset, int length) {
        List<Piece> pieces = new ArrayList<>(2);
        int done = 0;
        while (done < length) {
            long at = offset + done;
            long objectNo = at / objectSize;
            long objectOffset = at % objectSize;
            int n = (int) Math.min(length - done, objectSize - objectOffset);
            pieces.add(new Piece(objectNo, objectName(objectNo), objectOffset, n, done));
            done += n;
        }
        return pieces;
    }
}
