#if canImport(Glibc)
import Glibc
#endif

/// A failed system or library call: which one, and the `errno` (or libnl error) it gave.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let function: String
    public let code: Int32
    public let detail: String

    public init(_ function: String, errno code: Int32) {
        self.function = function
        self.code = code
        self.detail = String(cString: strerror(code))
    }

    public init(_ function: String, code: Int32, detail: String) {
        self.function = function
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(function): \(detail)" }
}

/// Runs a call that returns -1 and sets `errno` on failure, retrying on EINTR. The name is made
/// only on failure, and the function is inlined where it is used: it sits on the hottest paths
/// (every advert's sendto), where building the name and a generic call per send were measurable.
@inlinable @discardableResult
public func systemCall<Result: BinaryInteger>(_ function: @autoclosure () -> String, _ body: () -> Result) throws -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(function(), errno: code)
    }
}

/// Sets an integer-sized socket option.
public func setSocketOption<Value: BitwiseCopyable>(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Value, _ what: String) throws {
    _ = try withUnsafeBytes(of: value) { bytes in
        try systemCall("setsockopt(\(what))") {
            setsockopt(descriptor, level, name, bytes.baseAddress, socklen_t(bytes.count))
        }
    }
}
