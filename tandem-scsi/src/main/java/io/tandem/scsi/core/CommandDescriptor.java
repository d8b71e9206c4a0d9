package io.tandem.scsi.core;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One row of the opcode table: everything the core knows about a command before running it.
 *
 * <p>{@code usage} is the CDB usage data of REPORT SUPPORTED OPERATION CODES: byte 0 is the
 * opcode, every other byte has a one for each bit the device server evaluates. The precheck
 * refuses a CDB with any other bit set (INVALID FIELD IN CDB), so a field the table does not list
 * (RDPROTECT, NACA, ...) is rejected without a line of handler code.
 *
 * @param serviceAction the service action (byte 1 bits 4..0) or -1 for a plain opcode
 */
public record CommandDescriptor(int opcode, int serviceAction, String name, byte[] usage,
                                DataDirection direction, BlockAddressing addressing, Set<CommandFlag> flags,
                                DataOutLength dataOutLength, CommandHandler handler,
                                int nominalTimeoutSeconds, int recommendedTimeoutSeconds) {

    public CommandDescriptor {
        Objects.requireNonNull(name);
        Objects.requireNonNull(usage);
        Objects.requireNonNull(direction);
        Objects.requireNonNull(addressing);
        Objects.requireNonNull(dataOutLength);
        Objects.requireNonNull(handler);
        flags = Collections.unmodifiableSet(flags.isEmpty() ? EnumSet.noneOf(CommandFlag.class) : EnumSet.copyOf(flags));
        if ((usage[0] & 0xFF) != opcode) {
            throw new IllegalArgumentException(name + ": usage byte 0 must be the opcode");
        }
        if (serviceAction >= 0 && ((usage[1] & 0x1F) != 0x1F)) {
            throw new IllegalArgumentException(name + ": usage must cover the service action bits");
        }
    }

    public int cdbLength() {
        return usage.length;
    }

    public boolean hasServiceAction() {
        return serviceAction >= 0;
    }

    public boolean has(CommandFlag flag) {
        return flags.contains(flag);
    }

    /**
     * The CDB USAGE DATA of REPORT SUPPORTED OPERATION CODES: the usage bits, except that the
     * service action field carries the service action itself (SPC-4 6.35.3).
     */
    public byte[] usageData() {
        byte[] u = usage.clone();
        if (hasServiceAction()) {
            u[1] = (byte) ((u[1] & 0xE0) | serviceAction);
        }
        return u;
    }

    /** Table key: opcode in bits 15..8, service action (or 0xFF for none) in bits 7..0. */
    public int key() {
        return key(opcode, serviceAction);
    }

    public static int key(int opcode, int serviceAction) {
        return (opcode << 8) | (serviceAction < 0 ? 0xFF : serviceAction);
    }

    @Override
    public String toString() {
        return name;
    }

    public static Builder command(int opcode, String name) {
        return new Builder(opcode, -1, name);
    }

    public static Builder serviceAction(int opcode, int serviceAction, String name) {
        return new Builder(opcode, serviceAction, name);
    }

    /** Keeps the table readable: one fluent row per command. */
    public static final class Builder {
        private final int opcode;
        private final int serviceAction;
        private final String name;
        private byte[] usage;
        private DataDirection direction = DataDirection.NONE;
        private BlockAddressing addressing = BlockAddressing.NONE;
        private final EnumSet<CommandFlag> flags = EnumSet.noneOf(CommandFlag.class);
        private DataOutLength dataOutLength = DataOutLength.NONE;
        private CommandHandler handler;
        private int nominalTimeout = 0;
        private int recommendedTimeout = 30;

        private Builder(int opcode, int serviceAction, String name) {
            this.opcode = opcode;
            this.serviceAction = serviceAction;
            this.name = name;
        }

        /** CDB usage bytes after byte 0 (the opcode is prepended). */
        public Builder usage(int... bytesAfterOpcode) {
            usage = new byte[bytesAfterOpcode.length + 1];
            usage[0] = (byte) opcode;
            for (int i = 0; i < bytesAfterOpcode.length; i++) {
                usage[i + 1] = (byte) bytesAfterOpcode[i];
            }
            return this;
        }

        public Builder dataIn() {
            direction = DataDirection.IN;
            return this;
        }

        public Builder dataOut(DataOutLength length) {
            direction = DataDirection.OUT;
            dataOutLength = length;
            return this;
        }

        public Builder blocks(BlockAddressing a) {
            addressing = a;
            return this;
        }

        public Builder flags(CommandFlag... f) {
            flags.addAll(java.util.List.of(f));
            return this;
        }

        public Builder timeouts(int nominalSeconds, int recommendedSeconds) {
            nominalTimeout = nominalSeconds;
            recommendedTimeout = recommendedSeconds;
            return this;
        }

        public CommandDescriptor handler(CommandHandler h) {
            handler = h;
            return new CommandDescriptor(opcode, serviceAction, name, usage, direction, addressing, flags,
                    dataOutLength, handler, nominalTimeout, recommendedTimeout);
        }
    }
}
