package io.tandem.scsi;

import static io.tandem.scsi.core.CommandDescriptor.command;
import static io.tandem.scsi.core.CommandDescriptor.serviceAction;
import static io.tandem.scsi.core.CommandFlag.ALLOWED_UNDER_SPC2_RESERVATION;
import static io.tandem.scsi.core.CommandFlag.ALLOWED_WITHOUT_LUN;
import static io.tandem.scsi.core.CommandFlag.ALUA_OFFLINE_OK;
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

import io.tandem.scsi.alua.ReportTargetPortGroups;
import io.tandem.scsi.alua.SetTargetPortGroups;
import io.tandem.scsi.core.BlockAddressing;
import io.tandem.scsi.core.CommandFlag;
import io.tandem.scsi.core.CommandSet;
import io.tandem.scsi.core.DataOutLength;
import io.tandem.scsi.sbc.CompareAndWrite;
import io.tandem.scsi.sbc.OrWrite;
import io.tandem.scsi.pr.PersistentReserveIn;
import io.tandem.scsi.pr.PersistentReserveOut;
import io.tandem.scsi.pr.Spc2Reservations;
import io.tandem.scsi.sbc.GetLbaStatus;
import io.tandem.scsi.sbc.PreFetch;
import io.tandem.scsi.sbc.PreventAllowMediumRemoval;
import io.tandem.scsi.sbc.ReadCapacity;
import io.tandem.scsi.sbc.ReadDefectData;
import io.tandem.scsi.sbc.ReadWrite;
import io.tandem.scsi.sbc.Sanitize;
import io.tandem.scsi.sbc.StartStopUnit;
import io.tandem.scsi.sbc.SynchronizeCache;
import io.tandem.scsi.sbc.Unmap;
import io.tandem.scsi.sbc.Verify;
import io.tandem.scsi.sbc.WriteAtomic;
import io.tandem.scsi.spc.ExtendedCopy;
import io.tandem.scsi.sbc.WriteSame;
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
    /** WRITE SAME byte 1: UNMAP only (ANCHOR, PBDATA, LBDATA and WRPROTECT are refused). */
    private static final int WRITE_SAME_10_FLAGS = 0x08;
    /** WRITE SAME(16) byte 1: UNMAP and NDOB. */
    private static final int WRITE_SAME_16_FLAGS = 0x09;

    /** Commands SPC-4 lets through every persistent and SPC-2 reservation and every ALUA state but Offline. */
    private static final CommandFlag[] ALWAYS = {ALUA_STANDBY_OK, ALUA_UNAVAILABLE_OK, ALUA_TRANSITIONING_OK,
            PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS, ALLOWED_UNDER_SPC2_RESERVATION};

    /** PERSISTENT RESERVE IN: SERVICE ACTION, ALLOCATION LENGTH. */
    private static final int[] PRIN_USAGE = {0x1F, 0, 0, 0, 0, 0, ALL, ALL, 0};
    /** PERSISTENT RESERVE OUT: SERVICE ACTION, SCOPE/TYPE, PARAMETER LIST LENGTH. */
    private static final int[] PROUT_USAGE = {0x1F, ALL, 0, 0, ALL, ALL, ALL, ALL, 0};
    /**
     * PERSISTENT RESERVE IN/OUT run under every reservation (the service action itself decides
     * conflicts) and in ALUA Standby (SPC-4 5.15.2.4.4), but not under another nexus' SPC-2 reservation.
     */
    private static final CommandFlag[] PR_COMMAND = {ALUA_STANDBY_OK, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE,
            PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS};

    static final CommandSet TABLE = new CommandSet(List.of(
            // ---- SPC-4 primary commands
            // MEDIUM_ACCESS: an ejected removable medium makes the unit not ready (02/3A/00)
            command(0x00, "TEST UNIT READY").usage(0, 0, 0, 0, 0)
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(TestUnitReady::execute),
            command(0x03, "REQUEST SENSE").usage(0x01, 0, 0, ALL, 0).dataIn()
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, ALUA_OFFLINE_OK, RUNS_DURING_SANITIZE)
                    .handler(RequestSense::execute),
            command(0x12, "INQUIRY").usage(0x01, ALL, ALL, ALL, 0).dataIn()
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, ALUA_OFFLINE_OK, RUNS_DURING_SANITIZE)
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
                    .flags(ALWAYS).flags(ALLOWED_WITHOUT_LUN, UA_EXEMPT, ALUA_OFFLINE_OK, RUNS_DURING_SANITIZE)
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
                    // SPC-4: allowed to non-holders under Write Exclusive types only (ALLOW COMMANDS)
                    .flags(ALUA_STANDBY_OK, ALUA_UNAVAILABLE_OK, ALUA_TRANSITIONING_OK,
                            PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, ALLOWED_UNDER_SPC2_RESERVATION)
                    .handler(ReportSupportedOperationCodes::execute),
            serviceAction(0xA3, 0x0D, "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS")
                    .usage(0x1F, 0x80, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(ALUA_STANDBY_OK, ALUA_UNAVAILABLE_OK, ALUA_TRANSITIONING_OK,
                            PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, ALLOWED_UNDER_SPC2_RESERVATION)
                    .handler(ReportSupportedTaskManagementFunctions::execute),
            // ALUA (see alua/): byte 1 of REPORT TARGET PORT GROUPS carries PARAMETER DATA FORMAT
            // above the service action. Standby, Unavailable and Transitioning allow the report;
            // Standby and Unavailable the change. SET TARGET PORT GROUPS conflicts with reservations.
            serviceAction(0xA3, 0x0A, "REPORT TARGET PORT GROUPS")
                    .usage(0xFF, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(ALWAYS)
                    .handler(ReportTargetPortGroups::execute),
            serviceAction(0xA4, 0x0A, "SET TARGET PORT GROUPS")
                    .usage(0x1F, 0, 0, 0, 0, ALL, ALL, ALL, ALL, 0, 0)
                    .dataOut((cdb, lu, blocks) -> SetTargetPortGroups.dataOut(cdb))
                    .flags(ALUA_STANDBY_OK, ALUA_UNAVAILABLE_OK)
                    .handler(SetTargetPortGroups::execute),

            // ---- reservations: SPC-4 persistent reservations, SPC-2 RESERVE/RELEASE (see pr/)
            serviceAction(0x5E, 0x00, "PERSISTENT RESERVE IN(READ KEYS)").usage(PRIN_USAGE).dataIn()
                    .flags(PR_COMMAND).handler(PersistentReserveIn::readKeys),
            serviceAction(0x5E, 0x01, "PERSISTENT RESERVE IN(READ RESERVATION)").usage(PRIN_USAGE).dataIn()
                    .flags(PR_COMMAND).handler(PersistentReserveIn::readReservation),
            serviceAction(0x5E, 0x02, "PERSISTENT RESERVE IN(REPORT CAPABILITIES)").usage(PRIN_USAGE).dataIn()
                    .flags(PR_COMMAND).handler(PersistentReserveIn::reportCapabilities),
            serviceAction(0x5E, 0x03, "PERSISTENT RESERVE IN(READ FULL STATUS)").usage(PRIN_USAGE).dataIn()
                    .flags(PR_COMMAND).handler(PersistentReserveIn::readFullStatus),
            serviceAction(0x5F, PersistentReserveOut.REGISTER, "PERSISTENT RESERVE OUT(REGISTER)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::register),
            serviceAction(0x5F, PersistentReserveOut.RESERVE, "PERSISTENT RESERVE OUT(RESERVE)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::reserve),
            serviceAction(0x5F, PersistentReserveOut.RELEASE, "PERSISTENT RESERVE OUT(RELEASE)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::release),
            serviceAction(0x5F, PersistentReserveOut.CLEAR, "PERSISTENT RESERVE OUT(CLEAR)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::clear),
            serviceAction(0x5F, PersistentReserveOut.PREEMPT, "PERSISTENT RESERVE OUT(PREEMPT)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::preempt),
            serviceAction(0x5F, PersistentReserveOut.PREEMPT_AND_ABORT, "PERSISTENT RESERVE OUT(PREEMPT AND ABORT)")
                    .usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::preemptAndAbort),
            serviceAction(0x5F, PersistentReserveOut.REGISTER_AND_IGNORE_EXISTING_KEY,
                    "PERSISTENT RESERVE OUT(REGISTER AND IGNORE EXISTING KEY)").usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::registerAndIgnoreExistingKey),
            serviceAction(0x5F, PersistentReserveOut.REGISTER_AND_MOVE, "PERSISTENT RESERVE OUT(REGISTER AND MOVE)")
                    .usage(PROUT_USAGE)
                    .dataOut((cdb, lu, blocks) -> PersistentReserveOut.dataOut(cdb))
                    .flags(PR_COMMAND).handler(PersistentReserveOut::registerAndMove),
            // SPC-2 reservations; under persistent reservations SPC-4 5.13.3 decides in the handler
            command(0x16, "RESERVE(6)").usage(0, 0, 0, 0, 0)
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(Spc2Reservations::reserve),
            command(0x17, "RELEASE(6)").usage(0, 0, 0, 0, 0)
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS, ALLOWED_UNDER_SPC2_RESERVATION)
                    .handler(Spc2Reservations::release),
            command(0x56, "RESERVE(10)").usage(0, 0, 0, 0, 0, 0, 0, 0, 0)
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(Spc2Reservations::reserve),
            command(0x57, "RELEASE(10)").usage(0, 0, 0, 0, 0, 0, 0, 0, 0)
                    .flags(PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS, ALLOWED_UNDER_SPC2_RESERVATION)
                    .handler(Spc2Reservations::release),

            // ---- SBC-4 block commands
            command(0x08, "READ(6)").usage(0x1F, ALL, ALL, ALL, 0).dataIn().blocks(BlockAddressing.CDB6)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadWrite::read),
            command(0x0A, "WRITE(6)").usage(0x1F, ALL, ALL, ALL, 0).blocks(BlockAddressing.CDB6)
                    .dataOut(DataOutLength.BLOCKS)
                    .flags(MEDIUM_ACCESS, TRANSFER_LIMITED, WRITES_MEDIUM)
                    .handler(ReadWrite::write),
            // Both run without the medium: START STOP UNIT loads it, PREVENT ALLOW holds it (sbc/).
            command(0x1B, "START STOP UNIT").usage(0x01, 0, 0x0F, 0xF7, 0)
                    .handler(StartStopUnit::execute),
            command(0x1E, "PREVENT ALLOW MEDIUM REMOVAL").usage(0, 0, 0, 0x01, 0)
                    .handler(PreventAllowMediumRemoval::execute),
            command(0x25, "READ CAPACITY(10)").usage(0, ALL, ALL, ALL, ALL, 0, 0, 0x01, 0).dataIn()
                    // SBC-3 adds READ CAPACITY to what the ALUA Standby state serves.
                    .flags(MEDIUM_ACCESS, ALUA_STANDBY_OK, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
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
                    .dataOut(Sanitize::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM, SANITIZE).timeouts(0, 3600)
                    .handler(Sanitize::overwrite),
            serviceAction(0x48, Sanitize.BLOCK_ERASE, "SANITIZE BLOCK ERASE")
                    .usage(SANITIZE_FLAGS, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut(Sanitize::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM, SANITIZE).timeouts(0, 3600)
                    .handler(Sanitize::blockErase),
            serviceAction(0x48, Sanitize.EXIT_FAILURE_MODE, "SANITIZE EXIT FAILURE MODE")
                    .usage(SANITIZE_FLAGS, 0, 0, 0, 0, 0, ALL, ALL, 0)
                    .dataOut(Sanitize::dataOut)
                    .flags(SANITIZE)
                    .handler(Sanitize::exitFailureMode),
            command(0x37, "READ DEFECT DATA(10)").usage(0, 0x1F, 0, 0, 0, 0, ALL, ALL, 0).dataIn()
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadDefectData::execute10),
            command(0x41, "WRITE SAME(10)").usage(WRITE_SAME_10_FLAGS, ALL, ALL, ALL, ALL, GROUP, ALL, ALL, 0)
                    .blocks(BlockAddressing.CDB10).dataOut(WriteSame::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM)
                    .handler(WriteSame::execute),
            command(0x42, "UNMAP").usage(0, 0, 0, 0, 0, GROUP, ALL, ALL, 0)
                    .dataOut(Unmap::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM)
                    .handler(Unmap::execute),
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
            command(0x93, "WRITE SAME(16)").usage(WRITE_SAME_16_FLAGS, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, GROUP, 0)
                    .blocks(BlockAddressing.CDB16).dataOut(WriteSame::dataOut)
                    .flags(MEDIUM_ACCESS, WRITES_MEDIUM)
                    .handler(WriteSame::execute),
            serviceAction(0x9E, 0x10, "READ CAPACITY(16)").usage(0x1F, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, 0x01, 0).dataIn()
                    .flags(MEDIUM_ACCESS, ALUA_STANDBY_OK, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE, PR_ALLOWED_UNDER_EXCLUSIVE_ACCESS)
                    .handler(ReadCapacity::execute16),
            serviceAction(0x9E, 0x12, "GET LBA STATUS").usage(0x1F, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL,
                            ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(GetLbaStatus::execute),
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
                    .handler(Verify::verify),
            command(0xB7, "READ DEFECT DATA(12)").usage(0x1F, ALL, ALL, ALL, ALL, ALL, ALL, ALL, ALL, 0, 0).dataIn()
                    .flags(MEDIUM_ACCESS, PR_ALLOWED_UNDER_WRITE_EXCLUSIVE)
                    .handler(ReadDefectData::execute12)
    ));

    private CommandTable() {
    }
}
