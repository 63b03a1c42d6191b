import Synchronization

/// Where a piece of configuration came from: the file that holds it (an included file names itself,
/// not its includer) and the 1-based line.
///
/// The file is a number in a process-wide table of paths: a location is then 8 plain bytes, and
/// the hundreds of thousands of them in a large config cost no reference counting.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    private let fileNumber: UInt32
    private let lineNumber: UInt32

    public init(file: String, line: Int) {
        self.init(fileNumber: SourceFiles.number(for: file), line: line)
    }

    init(fileNumber: UInt32, line: Int) {
        self.fileNumber = fileNumber
        self.lineNumber = UInt32(clamping: line)
    }

    public var file: String { SourceFiles.path(of: fileNumber) }
    /// Files are numbered as they are first read, so this orders them by that.
    var fileOrder: UInt32 { fileNumber }
    public var line: Int { Int(lineNumber) }

    public var description: String { "\(file):\(line)" }
}

/// The paths of every config file read by this process, each once.
enum SourceFiles {
    private struct Table {
        var paths: [String] = []
        var numbers: [String: UInt32] = [:]
    }

    private static let table = Mutex(Table())

    static func number(for path: String) -> UInt32 {
        table.withLock { table in
            if let number = table.numbers[path] { return number }
            let number = UInt32(table.paths.count)
            table.paths.append(path)
            table.numbers[path] = number
            return number
        }
    }

    static func path(of number: UInt32) -> String {
        table.withLock { $0.paths[Int(number)] }
    }
}

public enum Severity: String, Sendable {
    case error
    case warning
}

/// One message for the operator, printed as `PATH:LINE: error: message` like a compiler would,
/// so editors and CI logs can jump to the line.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public let severity: Severity
    public let location: SourceLocation
    public let message: String

    public init(_ severity: Severity, _ location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// Collects diagnostics in the order they were found. Parsing never stops at the first problem:
/// an operator fixing a config wants every error in one run.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []
    public private(set) var errorCount = 0

    public init() {}

    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }
    public var hasErrors: Bool { errorCount > 0 }

    mutating func replaceAll(with diagnostics: [Diagnostic]) {
        all = diagnostics
    }

    public mutating func error(_ location: SourceLocation, _ message: String) {
        errorCount += 1
        all.append(Diagnostic(.error, location, message))
    }

    public mutating func warning(_ location: SourceLocation, _ message: String) {
        all.append(Diagnostic(.warning, location, message))
    }
}
