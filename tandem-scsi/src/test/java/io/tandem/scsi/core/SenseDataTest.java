package io.tandem.scsi.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.tandem.storage.StorageException;
import org.junit.jupiter.api.Test;

class SenseDataTest {

    @Test
    void fixedFormatCarriesKeyCodeAndQualifier() {
        byte[] s = SenseData.build(SenseReason.LBA_OUT_OF_RANGE, false);
        assertThat(s).hasSize(18);
        assertThat(s[0] & 0xFF).isEqualTo(0x70);
        assertThat(s[2]).isEqualTo((byte) 0x05);
        assertThat(s[7]).isEqualTo((byte) 10);
        assertThat(s[12]).isEqualTo((byte) 0x21);
        assertThat(s[13]).isEqualTo((byte) 0x00);
        assertThat(s[15]).as("no SKSV").isZero();
    }

    @Test
    void descriptorFormatCarriesKeyCodeAndQualifierInTheHeader() {
        byte[] s = SenseData.build(SenseReason.UA_MODE_PARAMETERS_CHANGED, true);
        assertThat(s).containsExactly(0x72, 0x06, 0x2A, 0x01, 0, 0, 0, 0);
    }

    @Test
    void fieldPointerInBothFormats() {
        ScsiException e = ScsiException.invalidCdbField(10, 5);
        byte[] fixed = SenseData.build(e, false);
        assertThat(fixed[15] & 0xFF).isEqualTo(0x80 | 0x40 | 0x08 | 5);
        assertThat(fixed[16]).isZero();
        assertThat(fixed[17]).isEqualTo((byte) 10);

        byte[] desc = SenseData.build(e, true);
        assertThat(desc[7]).isEqualTo((byte) 8);
        assertThat(desc[8]).isEqualTo((byte) 0x02);   // sense key specific descriptor
        assertThat(desc[9]).isEqualTo((byte) 0x06);
        assertThat(desc[12] & 0xFF).isEqualTo(0xCD);
        assertThat(desc[14]).isEqualTo((byte) 10);

        byte[] parameterList = SenseData.build(ScsiException.invalidParameterField(300, -1), false);
        assertThat(parameterList[15] & 0xFF).as("C/D=0, BPV=0").isEqualTo(0x80);
        assertThat(((parameterList[16] & 0xFF) << 8) | (parameterList[17] & 0xFF)).isEqualTo(300);
    }

    @Test
    void informationFieldInBothFormats() {
        ScsiException e = ScsiException.withInformation(SenseReason.MISCOMPARE_DURING_VERIFY, 0x1234);
        byte[] fixed = SenseData.build(e, false);
        assertThat(fixed[0] & 0xFF).isEqualTo(0xF0);
        assertThat(fixed).startsWith(0xF0, 0, 0x0E, 0, 0, 0x12, 0x34);
        byte[] desc = SenseData.build(e, true);
        assertThat(desc[7]).isEqualTo((byte) 12);
        assertThat(desc[8]).isZero();
        assertThat(desc[9]).isEqualTo((byte) 0x0A);
        assertThat(desc[10] & 0xFF).isEqualTo(0x80);
        assertThat(desc[18]).isEqualTo((byte) 0x12);
        assertThat(desc[19]).isEqualTo((byte) 0x34);
    }

    @Test
    void everyStorageFailureHasASenseTranslation() {
        assertThat(SenseReason.of(StorageException.Kind.READ_ERROR)).isEqualTo(SenseReason.UNRECOVERED_READ_ERROR);
        assertThat(SenseReason.of(StorageException.Kind.WRITE_ERROR)).isEqualTo(SenseReason.WRITE_ERROR);
        assertThat(SenseReason.of(StorageException.Kind.WRITE_PROTECTED)).isEqualTo(SenseReason.WRITE_PROTECTED);
        assertThat(SenseReason.of(StorageException.Kind.SPACE_EXHAUSTED))
                .isEqualTo(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
        for (StorageException.Kind k : StorageException.Kind.values()) {
            assertThat(SenseReason.of(k)).isNotNull();
        }
        assertThat(SenseReason.UNRECOVERED_READ_ERROR.senseKey()).isEqualTo(0x3);
        assertThat(SenseReason.SPACE_ALLOCATION_FAILED_WRITE_PROTECT.ascq()).isEqualTo(0x07);
    }
}
