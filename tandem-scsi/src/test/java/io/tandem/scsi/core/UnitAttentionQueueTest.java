package io.tandem.scsi.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UnitAttentionQueueTest {

    @Test
    void reportsByPriorityAndDeduplicates() {
        UnitAttentionQueue q = new UnitAttentionQueue();
        q.establish(SenseReason.UA_MODE_PARAMETERS_CHANGED);
        q.establish(SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
        q.establish(SenseReason.UA_MODE_PARAMETERS_CHANGED);
        q.establish(SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
        assertThat(q.pending()).containsExactly(SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR,
                SenseReason.UA_MODE_PARAMETERS_CHANGED, SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
        assertThat(q.poll()).isEqualTo(SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
        assertThat(q.poll()).isEqualTo(SenseReason.UA_MODE_PARAMETERS_CHANGED);
        assertThat(q.poll()).isEqualTo(SenseReason.UA_REPORTED_LUNS_DATA_CHANGED);
        assertThat(q.poll()).isNull();
    }

    @Test
    void aResetSupersedesOlderNews() {
        UnitAttentionQueue q = new UnitAttentionQueue();
        q.establish(SenseReason.UA_MODE_PARAMETERS_CHANGED);
        q.establish(SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED);
        q.establish(SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET);
        assertThat(q.pending()).containsExactly(SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET,
                SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED);
        q.establish(SenseReason.UA_MODE_PARAMETERS_CHANGED); // news after the reset is kept
        assertThat(q.pending()).hasSize(3);
    }

    @Test
    void onlyUnitAttentionsAreQueued() {
        assertThatThrownBy(() -> new UnitAttentionQueue().establish(SenseReason.LBA_OUT_OF_RANGE))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
