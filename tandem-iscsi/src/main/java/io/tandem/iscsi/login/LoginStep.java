package io.tandem.iscsi.login;

/**
 * What to send back for one Login Request: the Login Response's status, T bit, CSG, NSG and data
 * segment. When {@link #complete()} is true the connection enters full-feature phase with
 * {@link #parameters()}; when the status is not success the connection sends this response and
 * closes (RFC 7143 section 11.13.5).
 *
 * @param statusClass Status-Class of the response
 * @param statusDetail Status-Detail of the response
 * @param transit the T bit
 * @param csg the CSG field
 * @param nsg the NSG field (0 when transit is false)
 * @param responseData the data segment, encoded key=value pairs (may be empty, never null)
 * @param complete true if login finished successfully with this response
 * @param parameters the negotiated parameters when complete, else null
 * @param reason a human-readable explanation of a failure, for logs only; null on success
 */
public record LoginStep(int statusClass, int statusDetail, boolean transit, int csg, int nsg,
                        byte[] responseData, boolean complete, NegotiatedParameters parameters,
                        String reason) {
    public LoginStep {
        responseData = responseData == null ? new byte[0] : responseData;
    }

    public boolean isFailure() {
        return statusClass != 0;
    }

    /** The status as one number, e.g. {@code 0x0201}. */
    public int statusCode() {
        return statusClass << 8 | statusDetail;
    }

    /** The response data decoded, handy for logging and tests. */
    public TextParameters responseParameters() {
        return TextParameters.decode(responseData);
    }
}
