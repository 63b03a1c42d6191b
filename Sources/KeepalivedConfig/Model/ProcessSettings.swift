/// One of keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`): the
/// path the daemon writes event lines to, the owner it gives a FIFO it creates, and the script it
/// starts to read it (with the path as its last argument).
public struct NotifyFifoSettings: Sendable, Hashable {
    public var location: SourceLocation?
    public var path: String?
    public var user: String?
    public var group: String?
    public var script: ScriptCommand?
    public var scriptLocation: SourceLocation?

    public init() {}

    public var isEmpty: Bool { path == nil && script == nil }
}

/// Which FIFO a setting names: the global one gets every event, the others their part's.
public enum NotifyFifoKind: String, Sendable, CaseIterable {
    case global = ""
    case vrrp = "vrrp_"
    case lvs = "lvs_"

    /// The keyword, as keepalived spells it.
    public var keyword: String { rawValue + "notify_fifo" }
}

/// The process-wide settings of `global_defs` (keepalived's parent process): the network
/// namespace, the file-creation mask, the scripts run at start-up and shutdown, and the FIFOs.
public struct ProcessSettings: Sendable {
    /// `net_namespace NAME`: the daemon runs in /run/netns/NAME.
    public var netNamespace: String?
    public var netNamespaceLocation: SourceLocation?
    /// `net_namespace_ipvs [NAME]`: "" is the namespace the daemon was started in.
    public var netNamespaceIPVS: String?
    public var namespaceWithIpsets: Bool?
    /// `umask`: the file-creation mask (permission bits only).
    public var umask: UInt16?
    public var startupScript: ScriptCommand?
    public var startupScriptTimeout: Int?
    public var shutdownScript: ScriptCommand?
    public var shutdownScriptTimeout: Int?
    public var notifyFifos: [NotifyFifoKind: NotifyFifoSettings] = [:]
    public var fifoWriteVRRPStatesOnReload: Bool?

    /// keepalived's mask when none is set: rw for the owner only (0177).
    public static let defaultUmask: UInt16 = 0o177
    /// Start-up and shutdown scripts are killed after this long unless a timeout is set.
    public static let defaultScriptTimeout = 10

    public init() {}

    public var effectiveUmask: UInt16 { umask ?? Self.defaultUmask }
    public var effectiveStartupScriptTimeout: Int { startupScriptTimeout ?? Self.defaultScriptTimeout }
    public var effectiveShutdownScriptTimeout: Int { shutdownScriptTimeout ?? Self.defaultScriptTimeout }

    public func fifo(_ kind: NotifyFifoKind) -> NotifyFifoSettings {
        notifyFifos[kind] ?? NotifyFifoSettings()
    }
}

/// keepalived's umask argument: a number (octal with a leading 0, hex with 0x, else decimal) or
/// permission-bit names joined with `|` (`IWGRP|IWOTH`, spaces allowed around the bars).
public enum UmaskValue {
    public static let bitNames: [(String, UInt16)] = [
        ("IRUSR", 0o400), ("IWUSR", 0o200), ("IXUSR", 0o100), ("IRWXU", 0o700),
        ("IRGRP", 0o040), ("IWGRP", 0o020), ("IXGRP", 0o010), ("IRWXG", 0o070),
        ("IROTH", 0o004), ("IWOTH", 0o002), ("IXOTH", 0o001), ("IRWXO", 0o007),
    ]

    /// The mask, or keepalived's complaint about the words.
    public static func parse(_ words: [String]) -> Result<UInt16, UmaskError> {
        guard let first = words.first, let lead = first.first else { return .failure(.init("missing parameter(s) to umask option")) }
        if lead.isNumber {
            guard words.count == 1 else { return .failure(.init("extra parameter(s) to umask option")) }
            guard let value = number(first), value >= 0, value & ~0o777 == 0 else {
                return .failure(.init("invalid umask value \(first)"))
            }
            return .success(UInt16(value))
        }
        var mask: UInt16 = 0
        var needBar = false
        for word in words {
            var rest = Substring(word)
            while !rest.isEmpty {
                if needBar {
                    guard rest.first == "|" else { return .failure(.init("invalid umask syntax \(word)")) }
                    rest = rest.dropFirst()
                    needBar = false
                    continue
                }
                guard let (_, bits) = bitNames.first(where: { rest.hasPrefix($0.0) }) else {
                    return .failure(.init("unknown umask bit \(rest)"))
                }
                mask |= bits
                rest = rest.dropFirst(5)
                needBar = true
            }
        }
        guard needBar else { return .failure(.init("umask missing bit value")) }
        return .success(mask)
    }

    /// strtol with base 0: 0x… hexadecimal, 0… octal, else decimal.
    private static func number(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
        if lower.hasPrefix("0") && lower.count > 1 { return Int(lower.dropFirst(), radix: 8) }
        return Int(lower)
    }

    /// As the dump writes it: octal with a leading 0, which reads back the same.
    public static func format(_ mask: UInt16) -> String {
        "0" + String(mask, radix: 8)
    }
}

public struct UmaskError: Error, Sendable, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
}
