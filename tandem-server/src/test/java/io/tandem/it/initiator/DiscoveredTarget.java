package io.tandem.it.initiator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One target from a SendTargets answer: its name and the "address[:port],tpgt" values following it. */
public record DiscoveredTarget(String name, List<String> addresses) {
    public DiscoveredTarget {
        addresses = List.copyOf(addresses);
    }

    static List<DiscoveredTarget> parse(TextParameters answer) {
        List<DiscoveredTarget> targets = new ArrayList<>();
        String name = null;
        List<String> addresses = new ArrayList<>();
        for (Map.Entry<String, String> e : answer.pairs()) {
            switch (e.getKey()) {
                case "TargetName" -> {
                    if (name != null) {
                        targets.add(new DiscoveredTarget(name, addresses));
                    }
                    name = e.getValue();
                    addresses = new ArrayList<>();
                }
                case "TargetAddress" -> {
                    if (name == null) {
                        throw new ProtocolViolationException("TargetAddress before any TargetName");
                    }
                    addresses.add(e.getValue());
                }
                default -> throw new ProtocolViolationException("unexpected key in SendTargets answer: " + e);
            }
        }
        if (name != null) {
            targets.add(new DiscoveredTarget(name, addresses));
        }
        return targets;
    }
}
