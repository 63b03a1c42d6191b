#if canImport(Glibc)
import Glibc
#endif
import CNetlinkGenl

/// Many changes at once: requests are packed back to back into a few large sends, and only the
/// last of each send asks for an acknowledgement. The kernel handles the requests of one send in
/// order and answers a refused one with an error whatever its flags, so the last acknowledgement
/// tells that the whole send was handled and the errors before it name the refused requests.
extension IPVSNetlink {
    /// Requests per send at most: every one of them may come back as a refusal, and those must
    /// all fit the receive buffer, or the kernel drops some.
    public static let requestsPerSend = 256
    /// Bytes per send at most, well under the kernel's default send buffer (about 208 KiB).
    static let bytesPerSend = 96 * 1024
    /// A service with a scheduler and a persistence engine name is under 200 bytes.
    static let largestRequest = 512

    private final class AnswerCollector {
        var errors: [UInt32: Int32] = [:]
        var answered: Set<UInt32> = []
    }

    /// Applies `operations` in order; returns those the kernel refused, with its error.
    public func apply(batch operations: [IPVSOperation]) -> [(operation: IPVSOperation, error: IPVSError)] {
        var failures: [(IPVSOperation, IPVSError)] = []
        var start = 0
        while start < operations.count {
            let packed = pack(operations[start...])
            failures += send(packed.writer, sequences: packed.sequences)
            start += packed.sequences.count
        }
        return failures
    }

    /// As many requests as fit one send; only the last keeps its acknowledgement flag.
    private func pack(_ operations: ArraySlice<IPVSOperation>) -> (writer: NetlinkWriter, sequences: [(sequence: UInt32, operation: IPVSOperation)]) {
        var writer = NetlinkWriter(capacity: Self.bytesPerSend + Self.largestRequest)
        var sequences: [(sequence: UInt32, operation: IPVSOperation)] = []
        sequences.reserveCapacity(min(operations.count, Self.requestsPerSend))
        for operation in operations {
            guard sequences.count < Self.requestsPerSend, writer.count < Self.bytesPerSend else { break }
            sequences.append((encode(operation, flags: 0, into: &writer), operation))
        }
        if let last = writer.messageOffsets.last {
            writer.addFlag(NLM_F_ACK, toMessageAt: last)
        }
        return (writer, sequences)
    }

    /// Sends one packed buffer and reads answers until the last request's acknowledgement.
    private func send(_ writer: NetlinkWriter, sequences: [(sequence: UInt32, operation: IPVSOperation)]) -> [(IPVSOperation, IPVSError)] {
        let sendResult = send(writer)
        guard sendResult == 0 else {
            return sequences.map { ($0.operation, IPVSError(operation: "\($0.operation)", code: sendResult)) }
        }
        let collector = AnswerCollector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        let onError: nl_recvmsg_err_cb_t = { _, error, argument in
            guard let error, let argument else { return Int32(NL_STOP.rawValue) }
            let collector = Unmanaged<AnswerCollector>.fromOpaque(argument).takeUnretainedValue()
            collector.errors[error.pointee.msg.nlmsg_seq] = error.pointee.error
            collector.answered.insert(error.pointee.msg.nlmsg_seq)
            return Int32(NL_STOP.rawValue)
        }
        let onAck: nl_recvmsg_msg_cb_t = { message, argument in
            guard let message, let argument else { return Int32(NL_STOP.rawValue) }
            Unmanaged<AnswerCollector>.fromOpaque(argument).takeUnretainedValue().answered.insert(nlmsg_hdr(message)?.pointee.nlmsg_seq ?? 0)
            return Int32(NL_STOP.rawValue)
        }
        nl_socket_modify_err_cb(rawSocket, NL_CB_CUSTOM, onError, context.toOpaque())
        nl_socket_modify_cb(rawSocket, NL_CB_ACK, NL_CB_CUSTOM, onAck, context.toOpaque())
        defer {
            nl_socket_modify_err_cb(rawSocket, NL_CB_DEFAULT, nil, nil)
            nl_socket_modify_cb(rawSocket, NL_CB_ACK, NL_CB_DEFAULT, nil, nil)
        }
        let last = sequences[sequences.count - 1].sequence
        var transportError: Int32 = 0
        // Each call reads one answer; a refusal makes it return the error, which the collector
        // has already noted. A call that returns an error without an answer is the socket's own
        // (time-out, overrun): the requests not yet answered are then unknown.
        while !collector.answered.contains(last) {
            let before = collector.answered.count
            let result = nl_recvmsgs_default(rawSocket)
            if result < 0 && collector.answered.count == before {
                transportError = result
                break
            }
        }
        var failures: [(IPVSOperation, IPVSError)] = []
        for (sequence, operation) in sequences {
            if let code = collector.errors[sequence], code != 0 {
                failures.append((operation, IPVSError(operation: "\(operation)", code: -nl_syserr2nlerr(-code))))
            } else if transportError != 0 && sequence == last {
                failures.append((operation, IPVSError(operation: "\(operation) (and the requests sent with it that the kernel did not refuse)", code: transportError)))
            }
        }
        return failures
    }
}
