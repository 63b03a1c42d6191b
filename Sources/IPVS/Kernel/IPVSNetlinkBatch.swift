#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl

/// Many changes at once: requests go out back to back and their acknowledgements are collected
/// afterwards, instead of one round trip each.
extension IPVSNetlink {
    /// Requests in flight at most: their acknowledgements (each a socket buffer of most of a
    /// kilobyte in the kernel's accounting) must fit the receive buffer, or the kernel drops some.
    static let window = 64

    private final class ErrorCollector {
        var errors: [UInt32: Int32] = [:]
    }

    /// Applies `operations` in order; returns those the kernel refused, with its error.
    public func apply(batch operations: [IPVSOperation]) -> [(operation: IPVSOperation, error: IPVSError)] {
        var failures: [(IPVSOperation, IPVSError)] = []
        var start = 0
        while start < operations.count {
            let chunk = operations[start..<min(start + Self.window, operations.count)]
            failures += send(chunk)
            start += chunk.count
        }
        return failures
    }

    private func send(_ chunk: ArraySlice<IPVSOperation>) -> [(IPVSOperation, IPVSError)] {
        var failures: [(IPVSOperation, IPVSError)] = []
        var sequences: [UInt32: IPVSOperation] = [:]
        var sent = 0
        for operation in chunk {
            do {
                let sequence = try sendWithoutWaiting(operation)
                sequences[sequence] = operation
                sent += 1
            } catch let error as IPVSError {
                failures.append((operation, error))
            } catch {}
        }
        let collector = ErrorCollector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        let onError: nl_recvmsg_err_cb_t = { _, error, argument in
            guard let error, let argument else { return Int32(NL_STOP.rawValue) }
            Unmanaged<ErrorCollector>.fromOpaque(argument).takeUnretainedValue().errors[error.pointee.msg.nlmsg_seq] = error.pointee.error
            return Int32(NL_STOP.rawValue)
        }
        nl_socket_modify_err_cb(rawSocket, NL_CB_CUSTOM, onError, context.toOpaque())
        defer { nl_socket_modify_err_cb(rawSocket, NL_CB_DEFAULT, nil, nil) }
        // Each call consumes one acknowledgement and stops there; a refusal makes the call
        // return the error, which the collector has already noted, so every answer is read.
        for _ in 0..<sent {
            _ = nl_recvmsgs_default(rawSocket)
        }
        for (sequence, code) in collector.errors where code != 0 {
            if let operation = sequences[sequence] {
                failures.append((operation, IPVSError(operation: "\(operation)", code: -nl_syserr2nlerr(-code))))
            }
        }
        return failures
    }
}
