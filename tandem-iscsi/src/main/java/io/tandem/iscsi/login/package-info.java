/**
 * iSCSI login phase and text negotiation (RFC 7143 sections 6, 11.12-11.13, 12, 13).
 *
 * <p>Pure logic: no sockets and no PDU parsing. The connection code hands in the fields of each
 * Login Request (or the data segment of each Text Request) and writes back what a
 * {@link io.tandem.iscsi.login.LoginStep} or {@link io.tandem.iscsi.login.TextStep} says.
 *
 * <ul>
 *   <li>{@link io.tandem.iscsi.login.TextParameters}: the key=value codec.</li>
 *   <li>{@link io.tandem.iscsi.login.LoginKeys}: one table of every key the target knows, with its
 *       negotiation type, range, default, stage and discovery relevance. Negotiation reads the
 *       table; there is no per-key branching outside it except for the security keys and the
 *       names that pick the target.</li>
 *   <li>{@link io.tandem.iscsi.login.LoginNegotiator}: the per-connection login state machine,
 *       including CHAP ({@link io.tandem.iscsi.login.ChapAlgorithm}).</li>
 *   <li>{@link io.tandem.iscsi.login.NegotiatedParameters}: the immutable result handed to the
 *       full-feature phase.</li>
 *   <li>{@link io.tandem.iscsi.login.TextNegotiation}: Text requests in full-feature phase,
 *       including SendTargets.</li>
 * </ul>
 *
 * <p>Decisions worth knowing:
 * <ul>
 *   <li>DataPDUInOrder and DataSequenceInOrder use the OR result function, as RFC 7143 sections
 *       13.19-13.20 define; with the target's default Yes they always end Yes.</li>
 *   <li>IFMarker/OFMarker are answered No (RFC 7143 section 13.26 allows it and RFC 3720
 *       initiators still send them); IFMarkInt/OFMarkInt are answered Reject.</li>
 *   <li>The target offers a key itself only when the initiator asks to leave the operational
 *       stage without having negotiated it and the RFC default would override the target's
 *       preference (e.g. InitialR2T=No, MaxBurstLength, a required digest); it then holds the
 *       transit for one round trip. Real initiators send every key, so this rarely happens.</li>
 *   <li>CHAP secrets shorter than {@link io.tandem.iscsi.login.LoginConfig#minChapSecretLength}
 *       (default 12 bytes, RFC 7143 section 9.2.1) are refused; the bound is configurable for
 *       labs. Mutual secrets must differ from the initiator's.</li>
 *   <li>One connection per session, ErrorRecoveryLevel 0: a login with a non-zero TSIH fails.</li>
 * </ul>
 */
package io.tandem.iscsi.login;
