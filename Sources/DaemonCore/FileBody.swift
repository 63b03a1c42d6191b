#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet

/// An answer's body kept in an anonymous in-memory file (memfd), written once and then sent to
/// each client with sendfile: the kernel hands the file's pages to the socket instead of copying
/// the bytes from the process at every request. The file is closed when the last answer using
/// it is gone.
public final class FileBody: Sendable, Equatable {
    let descriptor: Int32
    public let count: Int

    public init(_ bytes: [UInt8]) throws {
        descriptor = try systemCall("memfd_create") { memfd_create("swiftkeepalived-answer", UInt32(MFD_CLOEXEC)) }
        count = bytes.count
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let error = SystemError("write the answer file", errno: errno)
                close(descriptor)
                throw error
            }
            written += result
        }
    }

    deinit {
        close(descriptor)
    }

    /// Sends from `offset` to the socket: the bytes sent, or -1 with errno set.
    func send(to socket: Int32, from offset: Int) -> Int {
        var position = off_t(offset)
        return sendfile(socket, descriptor, &position, count - offset)
    }

    public static func == (lhs: FileBody, rhs: FileBody) -> Bool { lhs === rhs }
}
