package io.tandem.iscsi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandSequencerTest {

    @Test
    void outOfOrderCommandsRunInCmdSnOrder() {
        CommandSequencer sequencer = new CommandSequencer(10, 8);
        List<Integer> ran = new ArrayList<>();
        assertThat(sequencer.offer(12, false, () -> ran.add(12))).isEqualTo(CommandSequencer.Verdict.QUEUED);
        assertThat(sequencer.offer(11, false, () -> ran.add(11))).isEqualTo(CommandSequencer.Verdict.QUEUED);
        assertThat(ran).isEmpty();
        assertThat(sequencer.offer(10, false, () -> ran.add(10))).isEqualTo(CommandSequencer.Verdict.DELIVERED);
        assertThat(ran).containsExactly(10, 11, 12);
        assertThat(sequencer.expCmdSn()).isEqualTo(13);
    }

    @Test
    void commandsOutsideTheWindowAreDropped() {
        CommandSequencer sequencer = new CommandSequencer(100, 4);
        assertThat(sequencer.maxCmdSn()).isEqualTo(103);
        assertThat(sequencer.offer(99, false, () -> { })).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
        assertThat(sequencer.offer(104, false, () -> { })).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
        assertThat(sequencer.offer(103, false, () -> { })).isEqualTo(CommandSequencer.Verdict.QUEUED);
        assertThat(sequencer.offer(103, false, () -> { })).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
    }

    @Test
    void windowOpensOnlyAsCommandsComplete() {
        CommandSequencer sequencer = new CommandSequencer(1, 2);
        sequencer.offer(1, false, () -> { });
        sequencer.offer(2, false, () -> { });
        assertThat(sequencer.maxCmdSn()).isEqualTo(2);
        assertThat(sequencer.offer(3, false, () -> { })).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
        sequencer.completed();
        assertThat(sequencer.maxCmdSn()).isEqualTo(3);
        assertThat(sequencer.offer(3, false, () -> { })).isEqualTo(CommandSequencer.Verdict.DELIVERED);
    }

    @Test
    void aCmdSnAbortedBeforeItArrivedCountsAsReceivedAndTheLateCommandIsDropped() {
        CommandSequencer sequencer = new CommandSequencer(10, 8);
        List<Integer> ran = new ArrayList<>();
        sequencer.offer(11, false, () -> ran.add(11));
        assertThat(sequencer.consumeMissing(10, 12)).as("10 is missing, in the window, before 12").isTrue();
        assertThat(ran).as("the gap closed: 11 runs").containsExactly(11);
        assertThat(sequencer.expCmdSn()).isEqualTo(12);
        assertThat(sequencer.offer(10, false, () -> ran.add(10))).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
        assertThat(sequencer.consumeMissing(11, 12)).as("already received").isFalse();
        assertThat(sequencer.consumeMissing(13, 13)).as("not before the request").isFalse();
        assertThat(sequencer.consumeMissing(13, 14)).as("a later gap is held").isTrue();
        assertThat(sequencer.offer(13, false, () -> ran.add(13))).isEqualTo(CommandSequencer.Verdict.OUT_OF_WINDOW);
        sequencer.offer(12, false, () -> ran.add(12));
        assertThat(ran).containsExactly(11, 12);
        assertThat(sequencer.expCmdSn()).isEqualTo(14);
    }

    @Test
    void immediateCommandsBypassOrdering() {
        CommandSequencer sequencer = new CommandSequencer(5, 4);
        List<String> ran = new ArrayList<>();
        sequencer.offer(6, false, () -> ran.add("six"));
        sequencer.offer(5, true, () -> ran.add("immediate"));
        assertThat(ran).containsExactly("immediate");
        assertThat(sequencer.expCmdSn()).isEqualTo(5);
    }

    @Test
    void windowWrapsAroundTheSerialNumberSpace() {
        CommandSequencer sequencer = new CommandSequencer(-2, 8);
        List<Integer> ran = new ArrayList<>();
        sequencer.offer(0, false, () -> ran.add(0));
        sequencer.offer(-1, false, () -> ran.add(-1));
        sequencer.offer(-2, false, () -> ran.add(-2));
        assertThat(ran).containsExactly(-2, -1, 0);
        assertThat(sequencer.expCmdSn()).isEqualTo(1);
    }
}
