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
    void peekLeavesAndRemoveTakesOneCondition() {
        UnitAttentionQueue q = new UnitAttentionQueue();
        q.establish(SenseReason.UA_PREVIOUS_RESERVATION_CONFLICT_STATUS);
        q.establish(SenseReason.UA_REGISTRATIONS_PREEMPTED);
        assertThat(q.peek()).isEqualTo(SenseReason.UA_REGISTRATIONS_PREEMPTED);
        assertThat(q.peek()).isEqualTo(SenseReason.UA_REGISTRATIONS_PREEMPTED);
        assertThat(q.remove(SenseReason.UA_REPORTED_LUNS_DATA_CHANGED)).isFalse();
        assertThat(q.remove(SenseReason.UA_REGISTRATIONS_PREEMPTED)).isTrue();
        assertThat(q.pending()).containsExactly(SenseReason.UA_PREVIOUS_RESERVATION_CONFLICT_STATUS);
    }

    @Test
    void everyConditionCarriesItsSpcCode() {
        // key 6 and ASC/ASCQ per SPC-4 Annex D for each condition other concerns establish
        Object[][] codes = {
                {SenseReason.UA_POWER_ON_RESET_OR_BUS_DEVICE_RESET, 0x2900},
                {SenseReason.UA_POWER_ON_OCCURRED, 0x2901},
                {SenseReason.UA_BUS_DEVICE_RESET_FUNCTION_OCCURRED, 0x2903},
                {SenseReason.UA_I_T_NEXUS_LOSS_OCCURRED, 0x2907},
                {SenseReason.UA_MODE_PARAMETERS_CHANGED, 0x2A01},
                {SenseReason.UA_RESERVATIONS_PREEMPTED, 0x2A03},
                {SenseReason.UA_RESERVATIONS_RELEASED, 0x2A04},
                {SenseReason.UA_REGISTRATIONS_PREEMPTED, 0x2A05},
                {SenseReason.UA_ASYMMETRIC_ACCESS_STATE_CHANGED, 0x2A06},
                {SenseReason.UA_CAPACITY_DATA_CHANGED, 0x2A09},
                {SenseReason.UA_PREVIOUS_BUSY_STATUS, 0x2C07},
                {SenseReason.UA_PREVIOUS_TASK_SET_FULL_STATUS, 0x2C08},
                {SenseReason.UA_PREVIOUS_RESERVATION_CONFLICT_STATUS, 0x2C09},
                {SenseReason.UA_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR, 0x2F00},
                {SenseReason.UA_COMMANDS_CLEARED_BY_DEVICE_SERVER, 0x2F02},
                {SenseReason.UA_INQUIRY_DATA_CHANGED, 0x3F03},
                {SenseReason.UA_REPORTED_LUNS_DATA_CHANGED, 0x3F0E},
        };
        for (Object[] row : codes) {
            SenseReason r = (SenseReason) row[0];
            assertThat(r.senseKey()).as(r.name()).isEqualTo(6);
            assertThat(r.asc() << 8 | r.ascq()).as(r.name()).isEqualTo((int) row[1]);
        }
        for (SenseReason r : SenseReason.values()) {
            assertThat(r.isUnitAttention()).as(r.name()).isEqualTo(r.name().startsWith("UA_"));
            if (r.isUnitAttention()) {
                assertThat(r.uaPriority()).as(r.name()).isLessThan(Integer.MAX_VALUE);
            }
        }
    }

    @Test
    void onlyUnitAttentionsAreQueued() {
        assertThatThrownBy(() -> new UnitAttentionQueue().establish(SenseReason.LBA_OUT_OF_RANGE))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
