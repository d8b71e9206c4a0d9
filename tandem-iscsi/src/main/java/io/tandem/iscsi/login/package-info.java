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
 */
package io.tandem.iscsi.login;
