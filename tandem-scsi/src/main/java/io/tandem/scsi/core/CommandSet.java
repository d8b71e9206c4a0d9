package io.tandem.scsi.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The opcode table as an immutable lookup structure, sorted by opcode then service action (the
 * order REPORT SUPPORTED OPERATION CODES lists them in).
 */
public final class CommandSet {

    private final List<CommandDescriptor> all;
    private final Map<Integer, CommandDescriptor> byKey = new HashMap<>();
    private final boolean[] hasServiceActions = new boolean[256];
    private final boolean[] known = new boolean[256];

    public CommandSet(List<CommandDescriptor> descriptors) {
        List<CommandDescriptor> sorted = new ArrayList<>(descriptors);
        sorted.sort(Comparator.comparingInt(CommandDescriptor::opcode).thenComparingInt(CommandDescriptor::serviceAction));
        for (CommandDescriptor d : sorted) {
            if (byKey.put(d.key(), d) != null) {
                throw new IllegalArgumentException("duplicate table row for " + d.name());
            }
            known[d.opcode()] = true;
            hasServiceActions[d.opcode()] |= d.hasServiceAction();
        }
        for (CommandDescriptor d : sorted) {
            if (hasServiceActions[d.opcode()] && !d.hasServiceAction()) {
                throw new IllegalArgumentException("opcode " + d.opcode() + " mixes rows with and without service action");
            }
        }
        this.all = List.copyOf(sorted);
    }

    public List<CommandDescriptor> all() {
        return all;
    }

    public boolean isKnownOpcode(int opcode) {
        return known[opcode & 0xFF];
    }

    public boolean usesServiceActions(int opcode) {
        return hasServiceActions[opcode & 0xFF];
    }

    /** The row for this opcode (and service action, if the opcode uses them), or null. */
    public CommandDescriptor find(int opcode, int serviceAction) {
        return byKey.get(CommandDescriptor.key(opcode & 0xFF, usesServiceActions(opcode) ? serviceAction & 0x1F : -1));
    }

    /** Rows of one opcode (several when it has service actions). */
    public List<CommandDescriptor> rowsOf(int opcode) {
        return all.stream().filter(d -> d.opcode() == (opcode & 0xFF)).toList();
    }
}
