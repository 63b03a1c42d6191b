import DaemonCore
import KeepalivedConfig

/// One request and its reply over datagrams (DNS_CHECK, UDP_CHECK, PING_CHECK), on the event
/// loop: the socket is connected, so an ICMP error for the request (port or host unreachable)
/// comes back as the socket's error. Datagrams that are not the reply (another query's late
/// answer, another ping's reply on a raw socket) are read and dropped; nothing waits past
/// `timeout` nor `deadline`. Confined to the event loop's queue.
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

    private let io: CheckIO
    private let endpoint: CheckEndpoint
    private let transport: CheckTransport
    private let request: [UInt8]
    private let timeout: Double
    private let deadline: Instant
    /// Judges a datagram; told whether the socket is a raw ICMP one.
    private let classify: (UnsafeRawBufferPointer, Bool) -> Classification
    private var completion: ((Outcome) -> Void)?
    private var socket: CheckSocket?
    private var timeoutToken: Deadlines.Token?
    /// Datagrams ignored so far: a flood of unrelated ones cannot keep the exchange busy.
    private var ignored = 0
    private static let maximumIgnored = 64

    init(io: CheckIO, endpoint: CheckEndpoint, transport: CheckTransport, request: [UInt8], timeout: Double, deadline: Instant,
         classify: @escaping (UnsafeRawBufferPointer, Bool) -> Classification, completion: @escaping (Outcome) -> Void) {
        self.io = io
        self.endpoint = endpoint
        self.transport = transport
        self.request = request
        self.timeout = timeout
        self.deadline = deadline
        self.classify = classify
        self.completion = completion
    }

    func start() {
        do {
            let socket = try CheckSocket(to: endpoint, transport: transport)
            self.socket = socket
            _ = try socket.connect(to: endpoint)
            let result = request.withUnsafeBytes { socket.write($0, operation: "send") }
            if case .failed(let reason) = result { return finish(.failed(reason)) }
            let expiry = min(deadline, io.deadlines.now.adding(seconds: timeout))
            timeoutToken = io.deadlines.at(expiry) { self.finish(.silent) }
            // The poller holds the exchange until it finishes; finish() takes it out.
            try socket.watch(with: io.poller, writable: false) { _ in self.receive() }
        } catch {
            finish(.failed("\(error)"))
        }
    }

    /// Stops without reporting (the daemon is stopping or reloading).
    func cancel() {
        completion = nil
        finish(.silent)
    }

    private func receive() {
        guard let socket else { return }
        let buffer = io.readBuffer
        while self.socket != nil {
            switch socket.read(into: buffer) {
            case .transferred(let count):
                switch classify(UnsafeRawBufferPointer(rebasing: buffer[..<count]), socket.isRawICMP) {
                case .passed: return finish(.passed)
                case .failed(let reason): return finish(.failed(reason))
                case .ignore:
                    ignored += 1
                    if ignored > Self.maximumIgnored { return finish(.failed("more than \(Self.maximumIgnored) unrelated datagrams and no reply")) }
                }
            case .closed:
                // An empty datagram: a reply with nothing in it.
                switch classify(UnsafeRawBufferPointer(start: nil, count: 0), socket.isRawICMP) {
                case .passed: return finish(.passed)
                case .failed(let reason): return finish(.failed(reason))
                case .ignore: continue
                }
            case .failed(let reason): return finish(.failed(reason))
            case .wantRead, .wantWrite: return
            }
        }
    }

    private func finish(_ outcome: Outcome) {
        io.deadlines.cancel(timeoutToken)
        timeoutToken = nil
        socket?.close(leaving: io.poller)
        socket = nil
        let completion = self.completion
        self.completion = nil
        completion?(outcome)
    }
}
