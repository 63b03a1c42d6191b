import DaemonCore
import KeepalivedConfig

/// A checker's datagram socket (DNS_CHECK, UDP_CHECK, PING_CHECK), kept from one check to the
/// next as keepalived keeps its ping sockets: a check is then a send and a read, where a socket
/// of its own would cost four more system calls (socket, connect, the poller's add, close), most
/// of a check's CPU. The socket is connected, so an ICMP error for a request (port or host
/// unreachable) comes back as the socket's error. Datagrams that are not the awaited reply
/// (another check's late answer, other programs' echo replies on a raw socket) are read and
/// dropped; nothing waits past `timeout` nor `deadline`. Confined to the event loop's queue.
final class DatagramExchange: @unchecked Sendable {
    enum Outcome: Equatable {
        case passed
        case failed(String)
        /// No reply within the time-out (and no error either).
        case silent
    }

    /// What a datagram read from the socket is to the exchange.
    enum Classification {
        case ignore
        case passed
        case failed(String)
    }

    private struct Pending {
        let classify: (UnsafeRawBufferPointer, Bool) -> Classification
        let completion: (Outcome) -> Void
        var ignored = 0
    }

    private let io: CheckIO
    private let endpoint: CheckEndpoint
    private let transport: CheckTransport
    private var socket: CheckSocket?
    private var pending: Pending?
    private var timeoutToken: Deadlines.Token?
    /// A flood of unrelated datagrams cannot keep a check busy.
    private static let maximumIgnored = 64

    init(io: CheckIO, endpoint: CheckEndpoint, transport: CheckTransport) {
        self.io = io
        self.endpoint = endpoint
        self.transport = transport
    }

    /// Sends `request` and waits for the datagram `classify` accepts; `completion` runs once.
    func exchange(_ request: [UInt8], timeout: Double, deadline: Instant,
                  classify: @escaping (UnsafeRawBufferPointer, Bool) -> Classification, completion: @escaping (Outcome) -> Void) {
        finish(nil)
        do {
            let socket = try openSocket()
            // What came after the last check ended (a late answer, a stale error) was read and
            // dropped when it came: the socket stays watched between checks.
            pending = Pending(classify: classify, completion: completion)
            let result = request.withUnsafeBytes { socket.write($0, operation: "send") }
            if case .failed(let reason) = result { return finish(.failed(reason), closing: true) }
            timeoutToken = io.deadlines.at(min(deadline, io.deadlines.now.adding(seconds: timeout))) { self.finish(.silent) }
        } catch {
            pending = Pending(classify: classify, completion: completion)
            finish(.failed("\(error)"), closing: true)
        }
    }

    /// Closes the socket without reporting (the checker stops).
    func close() {
        pending = nil
        finish(nil, closing: true)
    }

    private func openSocket() throws -> CheckSocket {
        if let socket { return socket }
        let socket = try CheckSocket(to: endpoint, transport: transport)
        _ = try socket.connect(to: endpoint)
        // The poller holds the channel while the socket is open; close() takes it out.
        try socket.watch(with: io.poller, writable: false) { _ in self.receive() }
        self.socket = socket
        return socket
    }

    private func receive() {
        guard let socket else { return }
        let buffer = io.readBuffer
        while self.socket != nil {
            let result = socket.read(into: buffer)
            guard pending != nil else {
                // Between checks: dropped, and an error (a late ICMP report) too.
                if case .wantRead = result { return }
                continue
            }
            switch result {
            case .transferred(let count): judge(UnsafeRawBufferPointer(rebasing: buffer[..<count]), raw: socket.isRawICMP)
            // An empty datagram: a reply with nothing in it.
            case .closed: judge(UnsafeRawBufferPointer(start: nil, count: 0), raw: socket.isRawICMP)
            case .failed(let reason): return finish(.failed(reason))
            case .wantRead, .wantWrite: return
            }
        }
    }

    private func judge(_ datagram: UnsafeRawBufferPointer, raw: Bool) {
        guard var current = pending else { return }
        switch current.classify(datagram, raw) {
        case .passed: finish(.passed)
        case .failed(let reason): finish(.failed(reason))
        case .ignore:
            current.ignored += 1
            pending = current
            if current.ignored > Self.maximumIgnored { finish(.failed("more than \(Self.maximumIgnored) unrelated datagrams and no reply")) }
        }
    }

    /// Ends the check in progress, if any, with `outcome` (nil: without reporting); `closing`
    /// also lets go of the socket, after a failure to open or send on it.
    private func finish(_ outcome: Outcome?, closing: Bool = false) {
        io.deadlines.cancel(timeoutToken)
        timeoutToken = nil
        if closing {
            socket?.close(leaving: io.poller)
            socket = nil
        }
        let completion = pending?.completion
        pending = nil
        if let outcome { completion?(outcome) }
    }
}
