/// How a `vrrp_track_process`'s parameters must appear in a process's command line.
public enum ParamMatch: String, Sendable, CaseIterable {
    /// Exactly these parameters.
    case exact
    /// These parameters first, then any others.
    case initial
    /// These parameters in a row anywhere among the others.
    case partial
}

/// `vrrp_track_process NAME { process PATH [PARAMS…]  param_match …  weight N [reverse]  quorum N
/// quorum_max N  delay|fork_delay|terminate_delay SECONDS  full_command }`: how many running
/// processes match, against a quorum; followed through the kernel's process connector.
public struct TrackProcess: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var process: String?
    public var parameters: [String] = []
    public var paramMatch: ParamMatch?
    /// Compare with the whole command line (argv) rather than the process name (comm).
    public var fullCommand = false
    public var weight: Int?
    public var weightReverse = false
    public var quorum: Int?
    public var quorumMax: Int?
    public var forkDelay: Double?
    public var terminateDelay: Double?

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// Parameters imply the whole command line.
    public var usesCommandLine: Bool { fullCommand || !parameters.isEmpty || paramMatch != nil }

    /// Whether a process with this name (`comm`, at most 15 bytes as the kernel keeps it) and
    /// command line (`arguments`, argv[0] first) is one of those tracked.
    public func matches(comm: String, arguments: [String]) -> Bool {
        guard let process else { return false }
        guard usesCommandLine else { return comm == String(decoding: process.utf8.prefix(15), as: UTF8.self) }
        guard let first = arguments.first, first == process else { return false }
        let rest = Array(arguments.dropFirst())
        switch paramMatch ?? (parameters.isEmpty ? nil : .exact) {
        case nil: return true
        case .exact: return rest == parameters
        case .initial: return rest.starts(with: parameters)
        case .partial:
            guard !parameters.isEmpty else { return true }
            guard rest.count >= parameters.count else { return false }
            return (0...(rest.count - parameters.count)).contains { Array(rest[$0..<($0 + parameters.count)]) == parameters }
        }
    }

    /// Whether `count` running processes meet the quorum (1 by default, no maximum).
    public func isUp(count: Int) -> Bool {
        count >= (quorum ?? 1) && count <= (quorumMax ?? Int.max)
    }
}
