public enum HTTPProtocolVersion: String, Sendable, CaseIterable {
    case http10 = "1.0"
    case http10Close = "1.0C"
    case http11 = "1.1"
}

/// A closed range of HTTP status codes; a single code is a range of one.
public struct StatusCodeRange: Sendable, Hashable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    public init(lower: Int, upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}

/// `url { }` inside HTTP_GET / SSL_GET.
public struct CheckedURL: Sendable, Hashable {
    public var path: String?
    /// The MD5 of the body the page must return.
    public var digest: MD5Digest?
    public var statusCodes: [StatusCodeRange] = []
    public var virtualhost: String?
    /// `regex` and its companions: the body must (or, with regex_no_match, must not) match.
    public var regex: URLRegex?
    /// `tls_compliant`: close an SSL_GET connection with a TLS close_notify (keepalived's default
    /// closes quietly).
    public var tlsCompliant: Bool?
    public var location: SourceLocation

    /// When neither status codes nor a digest are given, any 2xx passes.
    public static let defaultStatusCodes = [StatusCodeRange(lower: 200, upper: 299)]

    public var effectiveStatusCodes: [StatusCodeRange] { statusCodes.isEmpty ? Self.defaultStatusCodes : statusCodes }

    public init(path: String? = nil, location: SourceLocation) {
        self.path = path
        self.location = location
    }
}

/// An MD5 sum, held as 16 bytes (two words) rather than 32 characters of text.
public struct MD5Digest: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    /// Parses 32 hexadecimal digits, either case.
    public init?(hex: String) {
        let contiguous = hex.utf8.withContiguousStorageIfAvailable { Self.words(fromHex: $0) }
        guard let (high, low) = contiguous ?? Self.words(fromHex: Array(hex.utf8)) else { return nil }
        self.high = high
        self.low = low
    }

    /// The 16 bytes of a computed digest.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "an MD5 digest is 16 bytes")
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    @inline(__always)
    private static func words<Digits: RandomAccessCollection>(fromHex digits: Digits) -> (UInt64, UInt64)?
    where Digits.Element == UInt8, Digits.Index == Int {
        guard digits.count == 32 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        for index in 0..<32 {
            guard let value = LineTokenizer.hexValue(digits[digits.startIndex + index]) else { return nil }
            if index < 16 { words.0 = words.0 << 4 | UInt64(value) } else { words.1 = words.1 << 4 | UInt64(value) }
        }
        return words
    }

    /// Lower-case hex, as genhash prints it.
    public var description: String {
        func hex(_ word: UInt64) -> String {
            let text = String(word, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return hex(high) + hex(low)
    }
}

public struct HTTPCheck: Sendable, Hashable {
    public var urls: [CheckedURL] = []
    public var httpProtocol: HTTPProtocolVersion?
    public var virtualhost: String?
    public var enableSNI = false
    public var fastRecovery: Bool?
    public var tlsCompliant: Bool?

    public static let defaultProtocol = HTTPProtocolVersion.http10
}

public struct MiscCheck: Sendable, Hashable {
    public var path: ScriptCommand?
    public var timeout: Double?
    public var dynamic = false
}

public enum HealthCheckKind: Sendable, Hashable {
    case httpGet(HTTPCheck)
    case sslGet(HTTPCheck)
    case tcpCheck
    case miscCheck(MiscCheck)
    case dnsCheck(DNSCheck)
    case udpCheck(UDPCheck)
    case pingCheck
    case smtpCheck(SMTPCheck)
    case fileCheck(FileCheck)

    public var keyword: String {
        switch self {
        case .httpGet: return "HTTP_GET"
        case .sslGet: return "SSL_GET"
        case .tcpCheck: return "TCP_CHECK"
        case .miscCheck: return "MISC_CHECK"
        case .dnsCheck: return "DNS_CHECK"
        case .udpCheck: return "UDP_CHECK"
        case .pingCheck: return "PING_CHECK"
        case .smtpCheck: return "SMTP_CHECK"
        case .fileCheck: return "FILE_CHECK"
        }
    }
}

/// One checker block of a real server.
public struct HealthChecker: Sendable, Hashable {
    public var kind: HealthCheckKind
    public var location: SourceLocation
    public var connectIP: IPAddress?
    public var connectPort: Int?
    public var bindTo: IPAddress?
    public var bindPort: Int?
    public var bindInterface: String?
    public var fwmark: UInt32?
    public var alpha: Bool?
    public var logAllFailures: Bool?
    public var timing = CheckTiming()

    public init(kind: HealthCheckKind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// keepalived's defaults for fields that neither checker, real server nor virtual server set.
    public static func defaultTiming(for kind: HealthCheckKind, delayLoop: Double) -> CheckTiming {
        var timing = CheckTiming()
        timing.delayLoop = 60
        timing.connectTimeout = 5
        switch kind {
        case .miscCheck: timing.retry = 0
        case .dnsCheck: timing.retry = 3
        default: timing.retry = 1
        }
        switch kind {
        case .httpGet, .sslGet: timing.delayBeforeRetry = 3
        default: timing.delayBeforeRetry = 1
        }
        timing.warmup = delayLoop
        return timing
    }
}
