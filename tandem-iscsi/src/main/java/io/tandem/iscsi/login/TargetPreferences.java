package io.tandem.iscsi.login;

import java.util.List;
import java.util.Objects;

/**
 * The values this target prefers for the operational keys. Negotiation combines them with the
 * initiator's offers through each key's result function (see {@link LoginKeys}).
 *
 * <p>Defaults favour throughput: 256 KiB data segments, 1 MiB bursts, 64 KiB of unsolicited
 * data with ImmediateData=Yes and InitialR2T=No, 16 outstanding R2Ts. ErrorRecoveryLevel and
 * MaxConnections are fixed at 0 and 1, the only levels this target implements.
 *
 * @param maxRecvDataSegmentLength the largest data segment the target accepts (declared)
 * @param maxBurstLength largest solicited or unsolicited burst the target wants
 * @param firstBurstLength largest unsolicited burst the target wants; at most maxBurstLength
 * @param maxOutstandingR2T R2Ts the target may have outstanding per task
 * @param initialR2T whether the target wants to solicit all data (OR: Yes wins)
 * @param immediateData whether the target accepts immediate data (AND: No wins)
 * @param dataPDUInOrder whether the target wants Data-Out PDUs in order (OR: Yes wins)
 * @param dataSequenceInOrder whether the target wants sequences in order (OR: Yes wins)
 * @param defaultTime2Wait seconds before reconnecting after a logout or drop (MAX wins)
 * @param defaultTime2Retain seconds the target keeps task state after a drop (MIN wins)
 * @param errorRecoveryLevel must be 0
 * @param maxConnections must be 1
 * @param headerDigest HeaderDigest policy
 * @param dataDigest DataDigest policy
 * @param chapAlgorithms CHAP algorithms the target accepts; the initiator's order picks among them
 */
public record TargetPreferences(int maxRecvDataSegmentLength, int maxBurstLength, int firstBurstLength,
                                int maxOutstandingR2T, boolean initialR2T, boolean immediateData,
                                boolean dataPDUInOrder, boolean dataSequenceInOrder,
                                int defaultTime2Wait, int defaultTime2Retain,
                                int errorRecoveryLevel, int maxConnections,
                                DigestPolicy headerDigest, DigestPolicy dataDigest,
                                List<ChapAlgorithm> chapAlgorithms) {
    /** Smallest and largest data segment and burst lengths (RFC 7143 sections 13.12-13.14). */
    public static final int MIN_LENGTH = 512;
    public static final int MAX_LENGTH = (1 << 24) - 1;

    public TargetPreferences {
        checkRange("MaxRecvDataSegmentLength", maxRecvDataSegmentLength, MIN_LENGTH, MAX_LENGTH);
        checkRange("MaxBurstLength", maxBurstLength, MIN_LENGTH, MAX_LENGTH);
        checkRange("FirstBurstLength", firstBurstLength, MIN_LENGTH, MAX_LENGTH);
        if (firstBurstLength > maxBurstLength) {
            throw new IllegalArgumentException("FirstBurstLength must not exceed MaxBurstLength");
        }
        checkRange("MaxOutstandingR2T", maxOutstandingR2T, 1, 65535);
        checkRange("DefaultTime2Wait", defaultTime2Wait, 0, 3600);
        checkRange("DefaultTime2Retain", defaultTime2Retain, 0, 3600);
        checkRange("ErrorRecoveryLevel", errorRecoveryLevel, 0, 0);
        checkRange("MaxConnections", maxConnections, 1, 1);
        Objects.requireNonNull(headerDigest, "headerDigest");
        Objects.requireNonNull(dataDigest, "dataDigest");
        chapAlgorithms = List.copyOf(chapAlgorithms);
        if (chapAlgorithms.isEmpty()) {
            throw new IllegalArgumentException("at least one CHAP algorithm is needed");
        }
    }

    private static void checkRange(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(key + " must be " + min + ".." + max + ", was " + value);
        }
    }

    public static TargetPreferences defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxRecvDataSegmentLength = maxRecvDataSegmentLength;
        b.maxBurstLength = maxBurstLength;
        b.firstBurstLength = firstBurstLength;
        b.maxOutstandingR2T = maxOutstandingR2T;
        b.initialR2T = initialR2T;
        b.immediateData = immediateData;
        b.dataPDUInOrder = dataPDUInOrder;
        b.dataSequenceInOrder = dataSequenceInOrder;
        b.defaultTime2Wait = defaultTime2Wait;
        b.defaultTime2Retain = defaultTime2Retain;
        b.headerDigest = headerDigest;
        b.dataDigest = dataDigest;
        b.chapAlgorithms = chapAlgorithms;
        return b;
    }

    public static final class Builder {
        private int maxRecvDataSegmentLength = 262_144;
        private int maxBurstLength = 1_048_576;
        private int firstBurstLength = 65_536;
        private int maxOutstandingR2T = 16;
        private boolean initialR2T = false;
        private boolean immediateData = true;
        private boolean dataPDUInOrder = true;
        private boolean dataSequenceInOrder = true;
        private int defaultTime2Wait = 2;
        // ErrorRecoveryLevel 0 keeps nothing after a connection drops; say so.
        private int defaultTime2Retain = 0;
        private DigestPolicy headerDigest = DigestPolicy.ACCEPT_EITHER;
        private DigestPolicy dataDigest = DigestPolicy.ACCEPT_EITHER;
        private List<ChapAlgorithm> chapAlgorithms =
                List.of(ChapAlgorithm.SHA3_256, ChapAlgorithm.SHA256, ChapAlgorithm.SHA1, ChapAlgorithm.MD5);

        private Builder() {
        }

        public Builder maxRecvDataSegmentLength(int v) {
            maxRecvDataSegmentLength = v;
            return this;
        }

        public Builder maxBurstLength(int v) {
            maxBurstLength = v;
            return this;
        }

        public Builder firstBurstLength(int v) {
            firstBurstLength = v;
            return this;
        }

        public Builder maxOutstandingR2T(int v) {
            maxOutstandingR2T = v;
            return this;
        }

        public Builder initialR2T(boolean v) {
            initialR2T = v;
            return this;
        }

        public Builder immediateData(boolean v) {
            immediateData = v;
            return this;
        }

        public Builder dataPDUInOrder(boolean v) {
            dataPDUInOrder = v;
            return this;
        }

        public Builder dataSequenceInOrder(boolean v) {
            dataSequenceInOrder = v;
            return this;
        }

        public Builder defaultTime2Wait(int v) {
            defaultTime2Wait = v;
            return this;
        }

        public Builder defaultTime2Retain(int v) {
            defaultTime2Retain = v;
            return this;
        }

        public Builder headerDigest(DigestPolicy v) {
            headerDigest = v;
            return this;
        }

        public Builder dataDigest(DigestPolicy v) {
            dataDigest = v;
            return this;
        }

        public Builder chapAlgorithms(List<ChapAlgorithm> v) {
            chapAlgorithms = v;
            return this;
        }

        public TargetPreferences build() {
            return new TargetPreferences(maxRecvDataSegmentLength, maxBurstLength, firstBurstLength,
                    maxOutstandingR2T, initialR2T, immediateData, dataPDUInOrder, dataSequenceInOrder,
                    defaultTime2Wait, defaultTime2Retain, 0, 1, headerDigest, dataDigest, chapAlgorithms);
        }
    }
}
