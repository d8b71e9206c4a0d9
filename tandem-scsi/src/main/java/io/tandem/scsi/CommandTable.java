package io.tandem.scsi;

import static io.tandem.scsi.core.CommandDescriptor.command;
import static io.tandem.scsi.core.CommandDescriptor.serviceAction;
import static io.tandem.scsi.core.CommandFlag.ALLOWED_UNDER_SPC2_RESERVATION;
import static io.tandem.scsi.core.CommandFlag.ALLOWED_WITHOUT_LUN;
import static io.tandem.scsi.core.CommandFlag.ALUA_STANDBY_OK;
import static io.tandem.scsi.core.CommandFlag.ALUA_TRANSITIONING_OK;
import static io.tandem.scsi.core.CommandFlag.ALUA_UNAVAILABLE_OK;
import static io.tandem.scsi.core.CommandFlag.MEDIUM_ACCESS;
import static io.tandem.scsi.core.CommandFlag.PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS;
import static io.tandem.scsi.core.CommandFlag.PR_ALLOWED_UNDER_WRITE_EXCLUSIVE;
import static io.tandem.scsi.core.CommandFlag.RUNS_DURING_SANITIZE;
import static io.tandem.scsi.core.CommandFlag.SANITIZE;
import static io.tandem.scsi.core.CommandFlag.TRANSFER_LIMITED;
import static io.tandem.scsi.core.CommandFlag.UA_EXEMPT;
import static io.tandem.scsi.core.CommandFlag.WRITES_MEDIUM;

import io.tandem.scsi.core.BlockAddressing;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.CommandSet;
import io.tandem.scsi.core.DataOutLength;
import io.tandem.scsi.sbc.CompareAndWrite;
import io.tandem.scsi.sbc.OrWrite;
import io.tandem.scsi.sbc.PreFetch;
import io.tandem.scsi.sbc.ReadCapacity;
import io.tandem.scsi.sbc.ReadWrite;
import io.tandem.scsi.sbc.Sanitize;
import io.tandem.scsi.sbc.StartStopUnit;
import io.tandem.scsi.sbc.SynchronizeCache;
import io.tandem.scsi.sbc.Verify;
import io.tandem.scsi.sbc.WriteAtomic;
import io.tandem.scsi.spc.ExtendedCopy;
import io.tandem.scsi.spc.Inquiry;
import io.tandem.scsi.spc.ModeSelect;
import io.tandem.scsi.spc.ModeSense;
import io.tandem.scsi.spc.ReceiveCopyResults;
import io.tandem.scsi.spc.ReportLuns;
import io.tandem.scsi.spc.ReportSupportedOperationCodes;
import io.tandem.scsi.spc.ReportSupportedTaskManagementFunctions;
import io.tandem.scsi.spc.RequestSense;
import io.tandem.scsi.spc.TestUnitReady;
import java.util.List;

/**
 * The opcode table: the single list of every command the target implements. Each row gives the
 * CDB usage mask (byte 0 = opcode; the last byte is CONTROL, where NACA and LINK are unsupported
 * and therefore absent from every mask), data direction, block addressing, precheck flags and
 * handler. Adding a command means adding a row here and a handler in spc/ or sbc/; nothing else
 * lists opcodes.
 */
final class CommandTable {

    /** Bytes that carry only data (LBA, lengths): every bit evaluated. */
    private static final int ALL = 0xFF;
    /** GROUP NUMBER (bits 5..0) of SBC-4 CDBs: accepted and ignored. */
    private static final int GROUP = 0x3F;
    /** Read CDB byte 1: DPO, FUA and the obsolete FUA_NV (accepted and ignored, as SBC-3 defined it). */
    private static final int READ_FLAGS = 0x1A;
    /** Write CDB byte 1: DPO, FUA and the obsolete FUA_NV (accepted, as SBC-3 initiators set it). */
    private static final int WRITE_FLAGS = 0x1A;
    /** VERIFY / WRITE AND VERIFY byte 1: DPO, BYTCHK (2 bits). */
    private static final int VERIFY_FLAGS = 0x16;
    /** WRITE ATOMIC(16) byte 1: DPO, FUA (an SBC-4 command: no obsolete FUA_NV). */
    private static final int ATOMIC_FLAGS = 0x18;
    /** SANITIZE byte 1: IMMED, AUSE and the service action. */
    private static final int SANITIZE_FLAGS = 0xBF;

    /** Commands SPC-4 lets through every persistent and SPC-2 reservation and every ALUA state. */
    private static final CommandFlag[] ALWAYS = {ALUA_STANDBY_OK, ALUA_UNAVAILABLE_OK, ALUA_TRANSITIONING_OK,
            PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS, ALLOWED_UNDER_SPC2_RESERVATION};

    static final CommandSet TABLE = new CommandSet(List.of(
            // ---- SPC-4 primary commands
            command(0x00, "TEST UNIT READY").usage(0, 0, 0, 0, 0)
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(TestUnitReady::execute),
            command(0x03, "REQUEST SENSE").usage(0x01, 0, 0, ALL, 0).dataIn()
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, RUNS_DURING_SANITIZE)
                    .handler(RequestSense::execute),
            command(0x12, "INQUIRY").usage(0x01, ALL, ALL, ALL, 0).dataIn()
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, RUNS_DURING_SANITIZE)
                    .handler(Inquiry::execute),
            command(0x15, "MODE SELECT(6)").usage(0x11, 0, 0, ALL, 0)
                    .dataOut((cdb, lu, blocks) -> ModeSelect.dataOut6(cdb))
                    .flags(ALUA_STANDBY_OK)
                    .handler(ModeSelect::execute6),
            command(0x1A, "MODE SENSE(6)").usage(0x08, ALL, ALL, ALL, 0).dataIn()
                    .flags(ALUA_STANDBY_OK, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ModeSense::execute6),
            command(0x55, "MODE SELECT(10)").usage(0x11, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut((cdb, lu, blocks) -> ModeSelect.dataOut10(cdb))
                    .flags(ALUA_STANDBY_OK)
                    .handler(ModeSelect::execute10),
            command(0x5A, "MODE SENSE(10)").usage(0x18, ALL, ALL, 0, 0, 0, ALL, ALL, 0).dataIn()
                    .flags(ALUA_STANDBY_OK, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ModeSense::execute10),
            command(0xA0, "REPORT LUNS").usage(0, ALL, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, RUNS_DURING_SANITIZE)
                    .handler(ReportLuns::execute),
            serviceAction(0x83, 0x00, "EXTENDED COPY(LID1)")
                    .usage(0x1F, 0, 0, 0, 0, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0)
                    .dataOut(ExtendedCopy::dataOut)
                    .handler(ExtendedCopy::execute),
            serviceAction(0x84, ReceiveCopyResults.COPY_STATUS, "RECEIVE COPY STATUS(LID1)")
                    .usage(0x1F, ALL, 0, 0, 0, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReceiveCopyResults::copyStatus),
            serviceAction(0x84, ReceiveCopyResults.RECEIVE_DATA, "RECEIVE COPY DATA(LID1)")
                    .usage(0x1F, ALL, 0, 0, 0, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReceiveCopyResults::receiveData),
            serviceAction(0x84, ReceiveCopyResults.OPERATING_PARAMETERS, "RECEIVE COPY OPERATING PARAMETERS")
                    .usage(0x1F, 0, 0, 0, 0, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReceiveCopyResults::operatingParameters),
            serviceAction(0x84, ReceiveCopyResults.FAILED_SEGMENT_DETAILS, "RECEIVE COPY FAILURE DETAILS(LID1)")
                    .usage(0x1F, ALL, 0, 0, 0, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReceiveCopyResults::failedSegmentDetails),
            serviceAction(0xA3, 0x0C, "REPORT SUPPORTED OPERATION CODES")
                    .usage(0x1F, 0x87, ALL, ALL, ALL, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(ALWAYS)
                    .handler(ReportSupportedOperationCodes::execute),
            serviceAction(0xA3, 0x0D, "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS")
                    .usage(0x1F, 0x80, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(ALWAYS)
                    .handler(ReportSupportedTaskManagementFunctions::execute),

            // ---- SBC-4 block commands
            command(0x08, "READ(6)").usage(0x1F, ALL, ALL, ALL, 0).dataIn().blocks(BlockAddressing.CDB6)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadWrite::read),
            command(0x0A, "WRITE(6)").usage(0x1F, ALL, ALL, ALL, 0).blocks(BlockAddressing.CDB6)
                    .dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(ReadWrite::write),
            command(0x1B, "START STOP UNIT").usage(0x01, 0, 0x0F, 0xF7, 0)
                    .handler(StartStopUnit::execute),
            command(0x25, "READ CAPACITY(10)").usage(0, ALL, ALL, ALL, ALL, 0, 0, 0x01, 0).dataIn()
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReadCapacity::execute10),
            command(0x28, "READ(10)").usage(READ_FLAGS, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0).dataIn()
                    .blocks(BlockAddressing.CDB10)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadWrite::read),
            command(0x2A, "WRITE(10)").usage(WRITE_FLAGS, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10).dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(ReadWrite::write),
            command(0x2E, "WRITE AND VERIFY(10)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10).dataOut(Verify::writeAndVerifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(Verify::writeAndVerify),
            command(0x2F, "VERIFY(10)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10).dataOut(Verify::verifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(Verify::verify),
            command(0x34, "PRE-FETCH(10)").usage(0x02, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10)
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(PreFetch::execute),
            command(0x35, "SYNCHRONIZE CACHE(10)").usage(0x06, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10)
                    .flags(MEDIUM_ACCESS).timeouts(0, 60)
                    .handler(SynchronizeCache::execute),
            serviceAction(0x48, Sanitize.OVERWRITE, "SANITIZE OVERWRITE")
                    .usage(SANITIZE_FLAGS, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut(Sanitize::overwriteDataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM, SANITIZE).timeouts(0, 3600)
                    .handler(Sanitize::overwrite),
            serviceAction(0x48, Sanitize.BLOCK_ERASE, "SANITIZE BLOCK ERASE")
                    .usage(SANITIZE_FLAGS, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut(Sanitize::noParameterList)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM, SANITIZE).timeouts(0, 3600)
                    .handler(Sanitize::blockErase),
            serviceAction(0x48, Sanitize.EXIT_FAILURE_MODE, "SANITIZE EXIT FAILURE MODE")
                    .usage(SANITIZE_FLAGS, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut(Sanitize::noParameterList)
                    .flags(SANITIZE)
                    .handler(Sanitize::exitFailureMode),
            command(0x88, "READ(16)").usage(READ_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0).dataIn()
                    .blocks(BlockAddressing.CDB16)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadWrite::read),
            command(0x8A, "WRITE(16)").usage(WRITE_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16).dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(ReadWrite::write),
            command(0x89, "COMPARE AND WRITE").usage(WRITE_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            0, 0, 0, ALL, GROUP, 0)
                    .blocks(BlockAddressing.COMPARE_AND_WRITE).dataOut(CompareAndWrite::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM)
                    .handler(CompareAndWrite::execute),
            command(0x8B, "ORWRITE(16)").usage(WRITE_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16).dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(OrWrite::execute),
            command(0x8E, "WRITE AND VERIFY(16)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16).dataOut(Verify::writeAndVerifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(Verify::writeAndVerify),
            command(0x8F, "VERIFY(16)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16).dataOut(Verify::verifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(Verify::verify),
            command(0x90, "PRE-FETCH(16)").usage(0x02, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16)
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(PreFetch::execute),
            command(0x91, "SYNCHRONIZE CACHE(16)").usage(0x06, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16)
                    .flags(MEDIUM_ACCESS).timeouts(0, 60)
                    .handler(SynchronizeCache::execute),
            command(0x9C, "WRITE ATOMIC(16)").usage(ATOMIC_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            0, 0, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.ATOMIC16).dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(WriteAtomic::execute),
            serviceAction(0x9E, 0x10, "READ CAPACITY(16)").usage(0x1F, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, 0x01, 0).dataIn()
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReadCapacity::execute16),
            command(0xA8, "READ(12)").usage(READ_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, GROUP, 0).dataIn()
                    .blocks(BlockAddressing.CDB12)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadWrite::read),
            command(0xAA, "WRITE(12)").usage(WRITE_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB12).dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(ReadWrite::write),
            command(0xAE, "WRITE AND VERIFY(12)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB12).dataOut(Verify::writeAndVerifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(Verify::writeAndVerify),
            command(0xAF, "VERIFY(12)").usage(VERIFY_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB12).dataOut(Verify::verifyDataOut)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(Verify::verify)
    ));

    private CommandTable() {
    }
}
