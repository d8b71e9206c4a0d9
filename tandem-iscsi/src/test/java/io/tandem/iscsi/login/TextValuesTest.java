package io.tandem.iscsi.login;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TextValuesTest {
    @Test
    void parsesDecimalAndHexNumbers() {
        assertThat(TextValues.parseNumber("0")).isZero();
        assertThat(TextValues.parseNumber("262144")).isEqualTo(262144);
        assertThat(TextValues.parseNumber("0x40000")).isEqualTo(262144);
        assertThat(TextValues.parseNumber("0XfF")).isEqualTo(255);
        assertThat(TextValues.parseNumber("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void refusesWhatIsNoNumber() {
        for (String bad : new String[] {"", "-1", "+1", " 1", "1 ", "abc", "0x", "1e3", "١٢", "9223372036854775808",
                "0xfffffffffffffffff"}) {
            assertThat(TextValues.parseNumber(bad)).as(bad).isEqualTo(TextValues.INVALID);
        }
        assertThat(TextValues.parseNumber(null)).isEqualTo(TextValues.INVALID);
    }

    @Test
    void parsesBooleansCaseSensitively() {
        assertThat(TextValues.parseBoolean("Yes")).isTrue();
        assertThat(TextValues.parseBoolean("No")).isFalse();
        assertThat(TextValues.parseBoolean("yes")).isNull();
        assertThat(TextValues.parseBoolean("1")).isNull();
    }

    @Test
    void parsesHexAndBase64BinaryValues() {
        assertThat(TextValues.parseBinary("0x00ff10")).containsExactly(0x00, 0xff, 0x10);
        assertThat(TextValues.parseBinary("0XABC")).containsExactly(0x0a, 0xbc);
        assertThat(TextValues.parseBinary("0bAP8Q")).containsExactly(0x00, 0xff, 0x10);
        assertThat(TextValues.parseBinary("0BAP8Q")).containsExactly(0x00, 0xff, 0x10);
    }

    @Test
    void refusesMalformedBinaryValues() {
        for (String bad : new String[] {"", "0x", "00ff", "0xzz", "0b!!", "0q12", "x12"}) {
            assertThat(TextValues.parseBinary(bad)).as(bad).isNull();
        }
    }

    @Test
    void formatsBinaryAsLowerCaseHex() {
        assertThat(TextValues.formatBinary(new byte[] {0x01, (byte) 0xAB})).isEqualTo("0x01ab");
    }
}
