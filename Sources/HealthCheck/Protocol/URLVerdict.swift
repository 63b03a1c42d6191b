import KeepalivedConfig

/// Whether one fetched url passes: its status is one of `status_code` (any 2xx when none is
/// given) and, with a `digest`, the body's MD5 matches. Pure.
public enum URLVerdict {
    public enum Failure: Sendable, Equatable {
        case status(Int)
        case digest(MD5Digest?)
    }

    public static func failure(of url: CheckedURL, status: Int?, digest: MD5Digest?) -> Failure? {
        guard let status, url.effectiveStatusCodes.contains(where: { ($0.lower...$0.upper).contains(status) }) else {
            return .status(status ?? 0)
        }
        if let expected = url.digest, digest != expected { return .digest(digest) }
        return nil
    }
}
