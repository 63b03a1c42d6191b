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

/// Sends lines to syslog with keepalived's idents, so `/var/log/messages` reads as it did.
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    /// Opens the log; call once before the first line. `facility` is a LOG_* facility value.
    public static func open(ident: String, facility: Int32) {
        // openlog keeps the pointer: the ident must outlive the process's logging.
        openlog(strdup(ident), LOG_PID | LOG_NDELAY, facility)
    }

    public init() {}

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
        withVaList([]) { arguments in
            "\(event.message)".replacingPercent().withCString { vsyslog(priority, $0, arguments) }
        }
    }
}

extension String {
    /// syslog formats its message: a literal percent sign must be doubled.
    func replacingPercent() -> String {
        guard contains("%") else { return self }
        return split(separator: "%", omittingEmptySubsequences: false).joined(separator: "%%")
    }
}
