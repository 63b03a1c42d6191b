#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import Dispatch
import KeepalivedConfig

/// A small HTTP/1.1 server on a thread of its own: non-blocking sockets in an epoll set that the
/// thread waits on, so a request costs one wake-up of that thread and none of the event loop's
/// (in the emulated VM, Dispatch's hand-offs between its threads cost more per request than a
/// cached answer: about 5 ms of CPU). Each request head is at most `maximumRequestSize` bytes; a
/// connection is kept for the next request when the client asks (HTTP/1.1's default, and
/// Prometheus'), and closed after `idleTimeout` without one; past `maximumConnections` new ones
/// are closed at once. The handler runs on the listener's thread and must not block: it answers
/// through `reply` at once (an answer it already holds) or later from any thread (one it asks the
/// event loop for). The sockets and their system calls stay in this file.
public final class HTTPListener: @unchecked Sendable {
    public typealias Handler = (_ method: String, _ path: String, _ acceptsGzip: Bool, _ reply: @escaping @Sendable (HTTPResponse) -> Void) -> Void

    public static let maximumRequestSize = 8192
    public static let maximumConnections = 32
    public static let idleTimeout = 5.0

    private let descriptor: Int32
    private let handler: Handler
    private let poll: EpollSet
    /// The listener's thread only.
    private var connections: [Int32: HTTPConnection] = [:]
    private var nextSerial: UInt64 = 0
    private var nextSweep: Instant?
    /// Accepting rests until then after running out of descriptors.
    private var acceptsPausedUntil: Instant?
    private static let acceptPause = 0.1
    /// Guards `posted` and `stopping`, which other threads write.
    private let lock = Lock()
    private var posted: [(serial: UInt64, descriptor: Int32, response: HTTPResponse)] = []
    private var stopping = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)
    /// The listener's thread, once started: a reply made on it is sent at once.
    private let owner = ThreadIdentity()
    /// The port bound (the one asked for, or the kernel's choice for port 0).
    public let port: UInt16

    /// Binds and listens (in the caller's network namespace); call `start` to accept.
    public init(address: ListenAddress, handler: @escaping Handler) throws {
        // sendfile has no MSG_NOSIGNAL: a client that leaves mid-answer must not kill the daemon
        // (keepalived ignores SIGPIPE too; spawned scripts get the default back).
        signal(SIGPIPE, SIG_IGN)
        self.handler = handler
        (descriptor, port) = try Self.bind(address)
        do {
            poll = try EpollSet()
            try poll.add(descriptor, readable: true, writable: false)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Starts the listener's thread.
    public func start() {
        lock.lock()
        defer { lock.unlock() }
        guard !running && !stopping else { return }
        running = true
        startThread(name: "http") { [self] in
            owner.adopt()
            serve()
            finished.signal()
        }
    }

    /// Stops accepting and drops every open connection; returns once the thread has.
    public func stop() {
        lock.lock()
        let wasRunning = running && !stopping
        stopping = true
        lock.unlock()
        guard wasRunning else { return }
        poll.wake()
        _ = finished.wait(timeout: .now() + 5)
    }

    private func serve() {
        while true {
            if let until = acceptsPausedUntil, Self.now() >= until,
               (try? poll.modify(descriptor, readable: true, writable: false)) != nil {
                acceptsPausedUntil = nil
            }
            let timeout: Double? = acceptsPausedUntil != nil ? Self.acceptPause : connections.isEmpty ? nil : 1
            let (events, woken) = poll.wait(timeout: timeout)
            if woken {
                lock.lock()
                let (replies, stop) = (posted, stopping)
                posted = []
                lock.unlock()
                if stop { break }
                for reply in replies {
                    guard let connection = connections[reply.descriptor], connection.serial == reply.serial else { continue }
                    connection.answer(reply.response)
                }
            }
            // New connections after this batch's events: one may reuse the number of a
            // connection closed in it, whose events must not reach the new one.
            var accepts = false
            for event in events {
                if event.descriptor == descriptor {
                    accepts = true
                } else {
                    connections[event.descriptor]?.ready(event)
                }
            }
            if accepts { acceptAll() }
            sweepIfDue()
        }
        for connection in Array(connections.values) { connection.close() }
    }

    private func acceptAll() {
        while true {
            let client = accept4(descriptor, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if client < 0 && (errno == EMFILE || errno == ENFILE) {
                // Out of descriptors, the client stays queued and the socket readable: the
                // thread would spin on it. It rests a while, answering the connections it has.
                if (try? poll.modify(descriptor, readable: false, writable: false)) != nil {
                    acceptsPausedUntil = Self.now().adding(seconds: Self.acceptPause)
                }
                return
            }
            guard client >= 0 else { return }
            guard connections.count < Self.maximumConnections, (try? poll.add(client, readable: true, writable: false)) != nil else {
                Glibc.close(client)
                continue
            }
            nextSerial += 1
            let serial = nextSerial
            let connection = HTTPConnection(descriptor: client, serial: serial, poll: poll) { [weak self] method, path, acceptsGzip in
                guard let self else { return }
                handler(method, path, acceptsGzip) { [weak self] response in self?.deliver(response, to: client, serial: serial) }
            } onClose: { [weak self] in
                self?.connections[client] = nil
            }
            connections[client] = connection
            if nextSweep == nil { nextSweep = Self.now().adding(seconds: 1) }
            // The request has usually arrived with the connection (TCP_DEFER_ACCEPT).
            connection.ready(EpollSet.Event(descriptor: client, readable: true, writable: false, broken: false))
        }
    }

    /// A reply made on the listener's thread is sent at once; one from elsewhere waits for the
    /// thread, which it wakes.
    private func deliver(_ response: HTTPResponse, to descriptor: Int32, serial: UInt64) {
        if owner.isCurrent {
            guard let connection = connections[descriptor], connection.serial == serial else { return }
            return connection.answer(response)
        }
        lock.lock()
        posted.append((serial, descriptor, response))
        lock.unlock()
        poll.wake()
    }

    /// Once a second while connections are open: closes those whose client kept us waiting past
    /// their deadline.
    private func sweepIfDue() {
        guard let due = nextSweep else { return }
        let now = Self.now()
        guard now >= due else { return }
        for connection in Array(connections.values) where connection.deadline.map({ now >= $0 }) == true { connection.close() }
        nextSweep = connections.isEmpty ? nil : now.adding(seconds: 1)
    }

    static func now() -> Instant {
        Alarm.clock()
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

/// Which thread a listener runs on, set once by that thread.
private final class ThreadIdentity: @unchecked Sendable {
    private let lock = Lock()
    private var thread: pthread_t?

    func adopt() {
        lock.lock()
        thread = pthread_self()
        lock.unlock()
    }

    var isCurrent: Bool {
        lock.lock()
        defer { lock.unlock() }
        return thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }
}

/// One accepted connection, on the listener's thread: reads a request head, answers it, and then
/// reads the next one if the client keeps the connection, or closes.
private final class HTTPConnection {
    typealias Request = (_ method: String, _ path: String, _ acceptsGzip: Bool) -> Void

    private let descriptor: Int32
    /// Tells this connection from a later one given the same descriptor, for late replies.
    let serial: UInt64
    private let poll: EpollSet
    private let request: Request
    private let onClose: () -> Void
    /// What the epoll set watches the socket for.
    private var watchingReads = true
    private var watchingWrites = false
    /// The client has finished sending.
    private var readsEnded = false
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
    private var headOnly = false
    /// An answer is being sent.
    private var sending = false
    /// Whether the connection stays open after the answer being sent.
    private var keepAlive = false
    /// The socket's send buffer as last asked for (the kernel's default below 64 KiB).
    private var sendBuffer = 65_536

    init(descriptor: Int32, serial: UInt64, poll: EpollSet, request: @escaping Request, onClose: @escaping () -> Void) {
        self.descriptor = descriptor
        self.serial = serial
        self.poll = poll
        self.request = request
        self.onClose = onClose
        armDeadline()
    }

    func ready(_ event: EpollSet.Event) {
        // Reset, or gone both ways: no one to answer (and epoll would report it again and again).
        if event.broken { return close() }
        if event.readable { readable() }
        if event.writable && !closed { writeMore() }
    }

    /// Watches the socket for what is awaited now: the client's bytes until it has finished
    /// sending, room to write while an answer is held up.
    private func watch(reads: Bool, writes: Bool) {
        guard !closed, reads != watchingReads || writes != watchingWrites else { return }
        guard (try? poll.modify(descriptor, readable: reads, writable: writes)) != nil else { return close() }
        (watchingReads, watchingWrites) = (reads, writes)
    }

    /// After an answer on a kept connection: the next request, perhaps already received.
    private func nextRequest() {
        requestComplete = false
        keepAlive = false
        watch(reads: !readsEnded, writes: false)
        if !received.isEmpty && answerIfComplete() { return }
        armDeadline()
    }

    private func armDeadline() {
        deadline = HTTPListener.now().adding(seconds: HTTPListener.idleTimeout)
    }

    private func readable() {
        var chunk = [UInt8](repeating: 0, count: 2048)
        while !closed && !readsEnded {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                received += chunk[..<count]
                if !requestComplete {
                    if answerIfComplete() { continue }
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
                readsEnded = true
                watch(reads: false, writes: watchingWrites)
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
            requestComplete = true
            answer(HTTPResponse(status: 431, text: "request too large\n"))
        case .malformed:
            requestComplete = true
            answer(HTTPResponse(status: 400, text: "bad request\n"))
        case .request(let head):
            requestComplete = true
            keepAlive = head.keepAlive
            received.removeFirst(head.length)
            // What the client sends meanwhile is kept for later. No deadline while the answer is
            // built: the client is waiting for us.
            deadline = nil
            if head.method == "GET" || head.method == "HEAD" {
                headOnly = head.method == "HEAD"
                request(head.method, head.path, head.acceptsGzip)
            } else {
                keepAlive = false
                answer(HTTPResponse(status: 405, text: "only GET\n"))
            }
        }
        return true
    }

    /// Sends `response` to the request being answered.
    func answer(_ response: HTTPResponse) {
        guard !closed && requestComplete && !sending else { return }
        sending = true
        var response = response
        response.keepAlive = keepAlive
        output = headOnly || response.body.isEmpty ? [response.head] : [response.head, response.body]
        file = headOnly ? nil : response.file
        headOnly = false
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
        guard sending else { return }
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
            } else if let body = file, written < body.count {
                count = body.send(to: descriptor, from: written)
            } else {
                sending = false
                file = nil
                written = 0
                return keepAlive ? nextRequest() : close()
            }
            if count > 0 {
                written += count
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) {
                watch(reads: watchingReads, writes: true)
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
        // Closing the descriptor takes it out of the epoll set.
        Glibc.close(descriptor)
        onClose()
    }
}
