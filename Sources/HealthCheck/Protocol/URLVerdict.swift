import KeepalivedConfig

/// Whether one fetched url passes: its status is one of `status_code` (any 2xx when none is
/// given) and, with a `digest`, the body's MD5 matches. A chunked body matches either by its
/// content or as sent with its chunk sizes, which is what keepalived's genhash hashes, so digests
/// made for keepalived keep working. Pure.
public enum URLVerdict {
    public enum Failure: Sendable, Equatable {
        case status(Int)
        case digest(MD5Digest?)
        /// The body matched the regex and should not have (`regex_no_match`), or did not and should have.
        case regex(matched: Bool)
    }

    public static func failure(of url: CheckedURL, status: Int?, digest: MD5Digest?, asSent: MD5Digest? = nil,
                               regexMatched: Bool? = nil) -> Failure? {
        guard let status, url.effectiveStatusCodes.contains(where: { ($0.lower...$0.upper).contains(status) }) else {
            return .status(status ?? 0)
        }
        if let expected = url.digest, digest != expected, asSent != expected { return .digest(digest) }
        if let regex = url.regex, regex.pattern != nil, (regexMatched ?? false) == regex.noMatch { return .regex(matched: regexMatched ?? false) }
        return nil
    }
}
