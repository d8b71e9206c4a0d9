package io.tandem.scsi.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The mode parameters' encoding in the LU's cluster record. */
class ModeParametersTest {

    @Test
    void theDefaultsEncodeAsZeroSoAnUntouchedRecordStoresNothing() {
        assertThat(ModeParameters.DEFAULTS.encode()).isZero();
        assertThat(ModeParameters.decode(0)).isSameAs(ModeParameters.DEFAULTS);
    }

    @Test
    void everyValidCombinationRoundTripsToADistinctCode() {
        int[] interlocks = {ModeParameters.UA_INTLCK_CLEAR, ModeParameters.UA_INTLCK_KEEP,
                ModeParameters.UA_INTLCK_KEEP_AND_REPORT_STATUS};
        int[] qerrs = {ModeParameters.QERR_CONTINUE, ModeParameters.QERR_ABORT_ALL, ModeParameters.QERR_ABORT_SAME_NEXUS};
        Set<Long> codes = new HashSet<>();
        int combinations = 0;
        for (int bits = 0; bits < 16; bits++) {
            for (int interlock : interlocks) {
                for (int qerr : qerrs) {
                    ModeParameters p = new ModeParameters((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, interlock,
                            (bits & 8) != 0, qerr);
                    assertThat(ModeParameters.decode(p.encode())).as(p.toString()).isEqualTo(p);
                    codes.add(p.encode());
                    combinations++;
                }
            }
        }
        assertThat(codes).hasSize(combinations);
    }

    @Test
    void aCodeNoEncodingProducesIsRefused() {
        assertThatThrownBy(() -> ModeParameters.decode(1L << 8)).isInstanceOf(IllegalArgumentException.class);
        // UA_INTLCK_CTRL 01b is reserved
        assertThatThrownBy(() -> ModeParameters.decode(1L << 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
