/**
 * End-to-end iSCSI tests.
 *
 * <ul>
 *   <li>{@code initiator} — a test initiator written from RFC 7143, independent of Tandem's codec:
 *       login (None, CHAP MD5/SHA-1/SHA-256/SHA3-256, one-way and mutual), negotiation, discovery,
 *       pipelined SCSI commands with Data-In/R2T/Data-Out, digests, NOPs, task management, logout,
 *       and {@link io.tandem.it.initiator.RawConnection} for hand-built or malformed input. It checks
 *       the target as it goes and reports deviations as {@link io.tandem.it.initiator.Violation}s.</li>
 *   <li>{@code target} — launchers: tgt ({@code tgtd} on a private control port and loopback portal)
 *       and, once the server exists, Tandem.</li>
 *   <li>{@code suite} — the test bodies, written once against {@code TargetLauncher}:
 *       {@link io.tandem.it.suite.IscsiTargetContract} and
 *       {@link io.tandem.it.suite.IscsiBadInputContract}. Reference targets declare their documented
 *       {@link io.tandem.it.suite.Quirk}s; Tandem declares none.</li>
 *   <li>{@code tgt} — the suites bound to tgt (tag {@code tgt}), which validates the tests themselves.</li>
 * </ul>
 *
 * <p>Run: {@code mvn -pl tandem-server -am test -Dtest='Tgt*' -Dsurefire.failIfNoSpecifiedTests=false}.
 * Set {@code TANDEM_IT_TRACE=true} to print every PDU (login and text keys decoded) to stderr.
 */
package io.tandem.it;
