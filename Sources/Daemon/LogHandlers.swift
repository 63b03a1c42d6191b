#if canImport(Glibc)
import Glibc
#endif
import Logging
import DaemonCore

/// Writes `DATE TIME.mmm IDENT[PID]: message` lines to standard output (`-l`), one write per
/// line so concurrent writers never interleave within a line.
public struct ConsoleLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let ident: String

    public init(ident: String) {
        self.ident = ident
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        let stamp = "\(1900 + parts.tm_year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)"
        StandardStream.write("\(stamp) \(ident)[\(getpid())]: \(event.message)\n", to: 1)
    }
}

/// Whole-string writes to a standard stream with write(2): the C `stdout`/`stderr` globals are
/// shared mutable state to Swift 6, and one write per line keeps concurrent lines whole.
public enum StandardStream {
    public static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// Sends lines to the system log with each part's own ident, `Keepalived_vrrp` or
/// `Keepalived_healthcheckers`, so `/var/log/messages` reads as it did with keepalived's processes.
/// syslog(3) has one ident per process, so the lines are written to /dev/log directly, in its format.
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let ident: String
    private let facility: Int32
    /// RFC 3164's timestamp names the month in English, whatever the locale.
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `facility` is a LOG_* facility value (LOG_DAEMON, LOG_LOCAL0…).
    public init(ident: String, facility: Int32) {
        self.ident = ident
        self.facility = facility
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int32
        switch event.level {
        case .trace, .debug: priority = LOG_DEBUG
        case .info, .notice: priority = LOG_INFO
        case .warning: priority = LOG_WARNING
        case .error: priority = LOG_ERR
        case .critical: priority = LOG_CRIT
        }
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = parts.tm_mday < 10 ? " \(parts.tm_mday)" : "\(parts.tm_mday)"
        let stamp = "\(Self.months[Int(parts.tm_mon)]) \(day) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        SyslogSocket.shared.send("<\(facility | priority)>\(stamp) \(ident)[\(getpid())]: \(event.message)")
    }
}

/// The datagram socket to the system log, shared by every handler, reconnected when syslog restarts.
final class SyslogSocket: @unchecked Sendable {
    /// The socket's path; tests point it elsewhere with SWIFTKEEPALIVED_SYSLOG_SOCKET.
    static let shared = SyslogSocket(path: getenv("SWIFTKEEPALIVED_SYSLOG_SOCKET").map { String(cString: $0) } ?? "/dev/log")

    private let path: String
    private var descriptor: Int32 = -1
    private let lock = Lock()

    init(path: String) {
        self.path = path
    }

    func send(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        for _ in 0..<2 {
            if descriptor < 0 { connect() }
            guard descriptor >= 0 else { return }
            var bytes = Array(line.utf8)
            if Glibc.send(descriptor, &bytes, bytes.count, Int32(MSG_NOSIGNAL)) >= 0 { return }
            // The log daemon restarted (or the socket went away): reconnect once and retry.
            close(descriptor)
            descriptor = -1
        }
    }

    private func connect() {
        descriptor = UnixDatagram.connect(to: path) ?? -1
    }
}

