#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import Dispatch
import KeepalivedConfig

/// A small HTTP/1.1 server on the daemon's event loop: non-blocking sockets as Dispatch sources,
/// no thread of its own. Each request head is at most `maximumRequestSize` bytes; a connection
/// is kept for the next request when the client asks (HTTP/1.1's default, and Prometheus'), and
/// closed after `idleTimeout` without one; past `maximumConnections` new ones are closed at once. The handler runs on the loop, so it may read
/// the daemon's state directly; it answers through `reply`, at once or later (from the loop), so
/// costly answers can be built elsewhere. The sockets and their system calls stay in this file.
public final class HTTPListener: @unchecked Sendable {
    public typealias Handler = (_ method: String, _ path: String, _ acceptsGzip: Bool, _ reply: @escaping @Sendable (HTTPResponse) -> Void) -> Void

    public static let maximumRequestSize = 8192
    public static let maximumConnections = 32
    public static let idleTimeout = 5.0

    private let descriptor: Int32
    private let loop: EventLoop
    private let handler: Handler
    private var acceptSource: DispatchSourceRead?
    private var connections: [Int32: HTTPConnection] = [:]
    private var sweep: DispatchSourceTimer?
    /// The port bound (the one asked for, or the kernel's choice for port 0).
    public let port: UInt16

    /// Binds and listens; call `start` on the loop to accept.
    public init(address: ListenAddress, loop: EventLoop, handler: @escaping Handler) throws {
        // sendfile has no MSG_NOSIGNAL: a client that leaves mid-answer must not kill the daemon
        // (keepalived ignores SIGPIPE too; spawned scripts get the default back).
        signal(SIGPIPE, SIG_IGN)
        self.loop = loop
        self.handler = handler
        (descriptor, port) = try Self.bind(address)
    }

    deinit {
        close(descriptor)
    }

    public func start() {
        acceptSource = loop.readSource(descriptor) { [weak self] in self?.acceptAll() }
    }

    /// Stops accepting and drops every open connection.
    public func stop() {
        acceptSource?.cancel()
        acceptSource = nil
        sweep?.cancel()
        sweep = nil
        for connection in connections.values { connection.close() }
        connections = [:]
    }

    private func acceptAll() {
        while true {
            let client = accept4(descriptor, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            guard client >= 0 else { return }
            guard connections.count < Self.maximumConnections else {
                Glibc.close(client)
                continue
            }
            let connection = HTTPConnection(descriptor: client, loop: loop, handler: handler) { [weak self] in
                self?.connections[client] = nil
            }
            connections[client] = connection
            connection.start()
            if sweep == nil && !connections.isEmpty { scheduleSweep() }
        }
    }

    /// Once a second while connections are open: closes those whose client kept us waiting past
    /// their deadline (one timer for all, instead of one per connection and request).
    private func scheduleSweep() {
        sweep = loop.timer(at: loop.now().adding(seconds: 1)) { [weak self] in
            guard let self else { return }
            let now = loop.now()
            for connection in Array(connections.values) where connection.deadline.map({ now >= $0 }) == true { connection.close() }
            sweep = nil
            if !connections.isEmpty { scheduleSweep() }
        }
    }

    private static func bind(_ address: ListenAddress) throws -> (Int32, UInt16) {
        let family = address.address?.family == .inet ? AF_INET : AF_INET6
        let descriptor = try systemCall("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            try setSocketOption(descriptor, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
            if family == AF_INET6 && address.address == nil {
                // ":PORT" takes IPv4 clients too.
                try setSocketOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(0), "IPV6_V6ONLY")
            }
            var storage = sockaddr_storage()
            let length: socklen_t
            switch address.address {
            case .v4(let value)?:
                var inet = sockaddr_in()
                inet.sin_family = sa_family_t(AF_INET)
                inet.sin_port = address.port.bigEndian
                inet.sin_addr.s_addr = value.bigEndian
                withUnsafeBytes(of: inet) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
            default:
                var inet6 = sockaddr_in6()
                inet6.sin6_family = sa_family_t(AF_INET6)
                inet6.sin6_port = address.port.bigEndian
                let bytes = address.address?.v6Bytes ?? [UInt8](repeating: 0, count: 16)
                withUnsafeMutableBytes(of: &inet6.sin6_addr) { $0.copyBytes(from: bytes) }
                withUnsafeBytes(of: inet6) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
            try withUnsafePointer(to: &storage) { pointer in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    _ = try systemCall("bind \(address)") { Glibc.bind(descriptor, socketAddress, length) }
                }
            }
            // A connection is handed over once its request has arrived, so it is usually answered
            // at once, with no Dispatch source made for it (each costs thread hand-offs).
            try setSocketOption(descriptor, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, Int32(1), "TCP_DEFER_ACCEPT")
            try systemCall("listen \(address)") { listen(descriptor, 64) }
            var bound = sockaddr_storage()
            var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            _ = withUnsafeMutablePointer(to: &bound) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &boundLength) }
            }
            // sin_port and sin6_port sit at the same offset.
            let port = withUnsafeBytes(of: bound) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
            return (descriptor, port)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }
}

/// One accepted connection: reads a request head, answers it, and then reads the next one if
/// the client keeps the connection, or closes.
private final class HTTPConnection: @unchecked Sendable {
    private let descriptor: Int32
    private let loop: EventLoop
    private let handler: HTTPListener.Handler
    private let onClose: () -> Void
    /// Made once per connection and kept across its requests (a source made and cancelled per
    /// request costs Dispatch's manager thread a round each time); suspended only once the client
    /// has finished sending, so its end of file does not fire again and again.
    private var readSource: DispatchSourceRead?
    private var readSuspended = false
    private var writeSource: DispatchSourceWrite?
    /// When the listener's sweep closes the connection: `idleTimeout` after it began waiting for
    /// the client (to send a request or to read the answer); nil while the client waits for us.
    private(set) var deadline: Instant?
    private var received: [UInt8] = []
    /// What is left to send: the head, the body, then a file body.
    private var output: [[UInt8]] = []
    private var file: FileBody?
    private var written = 0
    private var closed = false
    private var requestComplete = false
    /// Whether the connection stays open after the answer being sent.
    private var keepAlive = false
    /// The socket's send buffer as last asked for (the kernel's default below 64 KiB).
    private var sendBuffer = 65_536
    /// Sources not yet cancelled: the descriptor is closed once none watches it, as Dispatch asks.
    private var liveSources = 0

    init(descriptor: Int32, loop: EventLoop, handler: @escaping HTTPListener.Handler, onClose: @escaping () -> Void) {
        self.descriptor = descriptor
        self.loop = loop
        self.handler = handler
        self.onClose = onClose
    }

    /// The request has usually arrived by the time the connection is accepted: then it is
    /// answered at once, and a cached answer that fits the socket leaves without a Dispatch
    /// source or timer ever made for the connection.
    func start() {
        readable()
        waitForRequest()
    }

    private func waitForRequest() {
        guard !closed && !requestComplete else { return }
        armDeadline()
        if readSource == nil { readSource = watched(loop.readSource(descriptor) { [weak self] in self?.readable() }) }
    }

    private func stopReading() {
        guard let readSource, !readSuspended else { return }
        readSource.suspend()
        readSuspended = true
    }

    /// After an answer on a kept connection: the next request, perhaps already received.
    private func nextRequest() {
        requestComplete = false
        keepAlive = false
        writeSource?.cancel()
        writeSource = nil
        if !received.isEmpty && answerIfComplete() { return }
        waitForRequest()
    }

    private func armDeadline() {
        deadline = loop.now().adding(seconds: HTTPListener.idleTimeout)
    }

    private func watched<Source: DispatchSourceProtocol>(_ source: Source) -> Source {
        liveSources += 1
        source.setCancelHandler { [self] in
            liveSources -= 1
            if closed && liveSources == 0 { Glibc.close(descriptor) }
        }
        return source
    }

    private func readable() {
        var chunk = [UInt8](repeating: 0, count: 2048)
        while !closed {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                received += chunk[..<count]
                if !requestComplete {
                    if answerIfComplete() { return }
                } else if received.count > HTTPListener.maximumRequestSize {
                    // The next request, sent before our answer, is kept, up to a bound.
                    close()
                }
                continue
            }
            if count == 0 {
                // The client is done sending: the request it made is still answered, then closed.
                guard requestComplete else { return close() }
                keepAlive = false
                stopReading()
                return
            }
            // EAGAIN: wait for more.
            if errno != EAGAIN && errno != EINTR { close() }
            return
        }
    }

    /// Answers once the head is in (or when the handler replies), or refuses a head that grew too
    /// long; true when the request is complete.
    private func answerIfComplete() -> Bool {
        switch HTTPRequestHead.parse(received) {
        case .incomplete:
            guard received.count > HTTPListener.maximumRequestSize else { return false }
            answer(HTTPResponse(status: 431, text: "request too large\n"), headOnly: false)
        case .malformed:
            answer(HTTPResponse(status: 400, text: "bad request\n"), headOnly: false)
        case .request(let request):
            requestComplete = true
            keepAlive = request.keepAlive
            received.removeFirst(request.length)
            // The read source stays: what the client sends meanwhile is kept for later, so the
            // source need not be stopped and started again for each request.
            // No deadline while the answer is built: the client is waiting for us.
            deadline = nil
            if request.method == "GET" || request.method == "HEAD" {
                handler(request.method, request.path, request.acceptsGzip) { [weak self] response in
                    self?.answer(response, headOnly: request.method == "HEAD")
                }
            } else {
                keepAlive = false
                answer(HTTPResponse(status: 405, text: "only GET\n"), headOnly: false)
            }
        }
        return true
    }

    /// Call on the loop; a connection closed meanwhile (idle time-out) drops the answer.
    private func answer(_ response: HTTPResponse, headOnly: Bool) {
        guard !closed else { return }
        requestComplete = true
        var response = response
        response.keepAlive = keepAlive
        output = headOnly || response.body.isEmpty ? [response.head] : [response.head, response.body]
        file = headOnly ? nil : response.file
        written = 0
        // Room for the whole answer in the socket, so that it usually leaves in one go without
        // a wait for the client to read (the kernel caps this at net.core.wmem_max).
        let size = output.reduce(file?.count ?? 0) { $0 + $1.count }
        if size > sendBuffer {
            sendBuffer = min(size, 4 << 20)
            _ = try? setSocketOption(descriptor, SOL_SOCKET, SO_SNDBUF, Int32(sendBuffer), "SO_SNDBUF")
        }
        writeMore()
    }

    /// Sends the head and then the body as they are (no copy of a body of megabytes into one
    /// buffer), MSG_MORE holding the head back until the body follows; a file body last, with
    /// sendfile.
    private func writeMore() {
        while !closed {
            let count: Int
            if let chunk = output.first {
                guard written < chunk.count else {
                    output.removeFirst()
                    written = 0
                    continue
                }
                let flags = Int32(MSG_NOSIGNAL) | (output.count > 1 || file != nil ? Int32(MSG_MORE) : 0)
                count = chunk.withUnsafeBytes { send(descriptor, $0.baseAddress! + written, $0.count - written, flags) }
            } else if let file, written < file.count {
                count = file.send(to: descriptor, from: written)
            } else {
                return keepAlive ? nextRequest() : close()
            }
            if count > 0 {
                written += count
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) {
                if writeSource == nil { writeSource = watched(loop.writeSource(descriptor) { [weak self] in self?.writeMore() }) }
                armDeadline()
                return
            }
            break
        }
        close()
    }

    func close() {
        guard !closed else { return }
        closed = true
        // A suspended source would hold back its cancellation (and the descriptor's close).
        if readSuspended { readSource?.resume() }
        readSource?.cancel()
        writeSource?.cancel()
        if liveSources == 0 { Glibc.close(descriptor) }
        onClose()
    }
}
