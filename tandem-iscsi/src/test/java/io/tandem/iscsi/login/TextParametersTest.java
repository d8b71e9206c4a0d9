package io.tandem.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextParametersTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void decodesPairsInOrder() {
        TextParameters p = TextParameters.decode(bytes("InitiatorName=iqn.a\0SessionType=Normal\0MaxBurstLength=512\0"));
        assertThat(p.entries()).extracting(TextParameters.KeyValue::key)
                .containsExactly("InitiatorName", "SessionType", "MaxBurstLength");
        assertThat(p.get("SessionType")).isEqualTo("Normal");
        assertThat(p.get("Absent")).isNull();
    }

    @Test
    void acceptsMissingFinalNulAndSkipsEmptyEntries() {
        TextParameters p = TextParameters.decode(bytes("\0A=1\0\0\0B=2"));
        assertThat(p.entries()).containsExactly(new TextParameters.KeyValue("A", "1"), new TextParameters.KeyValue("B", "2"));
    }

    @Test
    void decodesOnlyTheGivenRange() {
        byte[] data = bytes("XXA=1\0B=2\0YYYY");
        TextParameters p = TextParameters.decode(data, 2, 8);
        assertThat(p.entries()).hasSize(2);
        assertThat(p.get("B")).isEqualTo("2");
    }

    @Test
    void emptyDataGivesEmptyParameters() {
        assertThat(TextParameters.decode(new byte[0]).isEmpty()).isTrue();
        assertThat(TextParameters.decode(new byte[] {0, 0, 0}).isEmpty()).isTrue();
    }

    @Test
    void emptyValueIsAllowed() {
        assertThat(TextParameters.decode(bytes("SendTargets=\0")).get("SendTargets")).isEmpty();
    }

    @Test
    void valueMayContainEquals() {
        assertThat(TextParameters.decode(bytes("X-a=b=c\0")).get("X-a")).isEqualTo("b=c");
    }

    @Test
    void rejectsPairWithoutEquals() {
        assertThatThrownBy(() -> TextParameters.decode(bytes("A=1\0Garbage\0")))
                .isInstanceOf(TextFormatException.class).hasMessageContaining("no '='");
    }

    @Test
    void rejectsEmptyKey() {
        assertThatThrownBy(() -> TextParameters.decode(bytes("=1\0"))).isInstanceOf(TextFormatException.class);
    }

    @Test
    void keyOf63BytesIsAcceptedAnd64Rejected() {
        String k63 = "K".repeat(63);
        assertThat(TextParameters.decode(bytes(k63 + "=v\0")).get(k63)).isEqualTo("v");
        assertThatThrownBy(() -> TextParameters.decode(bytes("K".repeat(64) + "=v\0")))
                .isInstanceOf(TextFormatException.class).hasMessageContaining("63");
    }

    @Test
    void rejectsKeyCharactersOutsideTheAlphabet() {
        assertThatThrownBy(() -> TextParameters.decode(bytes("Bad Key=1\0"))).isInstanceOf(TextFormatException.class);
        assertThat(TextParameters.decode(bytes("X#vendor.key-1+x@y_z=1\0")).size()).isEqualTo(1);
    }

    @Test
    void ordinaryKeysAreLimitedTo255ByteValues() {
        assertThat(TextParameters.decode(bytes("InitiatorAlias=" + "a".repeat(255) + "\0")).size()).isEqualTo(1);
        assertThatThrownBy(() -> TextParameters.decode(bytes("InitiatorAlias=" + "a".repeat(256) + "\0")))
                .isInstanceOf(TextFormatException.class).hasMessageContaining("InitiatorAlias");
    }

    @Test
    void namesAreLimitedTo223Bytes() {
        assertThat(TextParameters.decode(bytes("InitiatorName=" + "i".repeat(223))).size()).isEqualTo(1);
        assertThatThrownBy(() -> TextParameters.decode(bytes("InitiatorName=" + "i".repeat(224))))
                .isInstanceOf(TextFormatException.class);
    }

    @Test
    void largeBinaryValuesMayReach8192Bytes() {
        String challenge = "0x" + "ab".repeat(1024);
        assertThat(TextParameters.decode(bytes("CHAP_C=" + challenge + "\0")).get("CHAP_C")).isEqualTo(challenge);
        assertThatThrownBy(() -> TextParameters.decode(bytes("CHAP_C=" + "a".repeat(8193) + "\0")))
                .isInstanceOf(TextFormatException.class);
    }

    @Test
    void unknownKeysGetTheLargeLimitSoTheyCanBeAnsweredNotUnderstood() {
        assertThat(TextParameters.decode(bytes("X-vendor=" + "v".repeat(1000) + "\0")).size()).isEqualTo(1);
    }

    @Test
    void valueLimitCountsBytesNotCharacters() {
        // 128 two-byte characters are 256 bytes.
        assertThatThrownBy(() -> TextParameters.decode(bytes("InitiatorAlias=" + "é".repeat(128) + "\0")))
                .isInstanceOf(TextFormatException.class);
    }

    @Test
    void rejectsDuplicateKey() {
        assertThatThrownBy(() -> TextParameters.decode(bytes("A=1\0B=2\0A=1\0")))
                .isInstanceOf(TextFormatException.class).hasMessageContaining("twice");
    }

    @Test
    void rejectsInvalidUtf8() {
        byte[] data = {'A', '=', (byte) 0xc3, (byte) 0x28, 0};
        assertThatThrownBy(() -> TextParameters.decode(data)).isInstanceOf(TextFormatException.class)
                .hasMessageContaining("UTF-8");
    }

    @Test
    void decodesUtf8Values() {
        assertThat(TextParameters.decode(bytes("InitiatorAlias=hôte\0")).get("InitiatorAlias")).isEqualTo("hôte");
    }

    @Test
    void encodesEachPairWithTrailingNul() {
        TextParameters p = TextParameters.builder().add("A", "1").add("B", "héllo").build();
        assertThat(p.encode()).isEqualTo(bytes("A=1\0B=héllo\0"));
        assertThat(TextParameters.decode(p.encode())).isEqualTo(p);
    }

    @Test
    void builderReplacesAKeyInPlace() {
        TextParameters p = TextParameters.builder().add("A", "1").add("B", "2").add("A", "3").build();
        assertThat(p.entries()).containsExactly(new TextParameters.KeyValue("A", "3"), new TextParameters.KeyValue("B", "2"));
    }

    @Test
    void encodingNothingGivesNoBytes() {
        assertThat(TextParameters.empty().encode()).isEmpty();
        assertThat(TextParameters.of(List.of()).encode()).isEmpty();
    }
}
