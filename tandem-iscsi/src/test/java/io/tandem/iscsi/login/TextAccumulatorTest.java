package io.tandem.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TextAccumulatorTest {
    @Test
    void singleSegmentPassesThrough() {
        TextAccumulator acc = new TextAccumulator();
        byte[] data = "A=1\0".getBytes(StandardCharsets.US_ASCII);
        assertThat(acc.append(data, false)).isSameAs(data);
        assertThat(acc.inProgress()).isFalse();
    }

    @Test
    void joinsAPairSplitInsideKeyValueAndUtf8Character() {
        byte[] whole = "InitiatorAlias=hôte\0MaxBurstLength=512\0".getBytes(StandardCharsets.UTF_8);
        int cut1 = 9;                                  // inside the key
        int cut2 = "InitiatorAlias=h".length() + 1;    // between the two bytes of 'ô'
        TextAccumulator acc = new TextAccumulator();
        assertThat(acc.append(Arrays.copyOfRange(whole, 0, cut1), true)).isNull();
        assertThat(acc.inProgress()).isTrue();
        assertThat(acc.append(Arrays.copyOfRange(whole, cut1, cut2), true)).isNull();
        byte[] joined = acc.append(Arrays.copyOfRange(whole, cut2, whole.length), false);
        assertThat(joined).isEqualTo(whole);
        assertThat(TextParameters.decode(joined).get("InitiatorAlias")).isEqualTo("hôte");
        assertThat(acc.inProgress()).isFalse();
    }

    @Test
    void emptyContinuedSegmentStillOpensASequence() {
        TextAccumulator acc = new TextAccumulator();
        assertThat(acc.append(new byte[0], true)).isNull();
        assertThat(acc.inProgress()).isTrue();
        assertThat(acc.append(new byte[] {'A', '=', '1'}, false)).containsExactly('A', '=', '1');
    }

    @Test
    void refusesTextBeyondTheBound() {
        TextAccumulator acc = new TextAccumulator(10);
        assertThat(acc.append(new byte[6], true)).isNull();
        assertThatThrownBy(() -> acc.append(new byte[6], false)).isInstanceOf(TextFormatException.class);
        assertThat(acc.inProgress()).isFalse();
    }
}
