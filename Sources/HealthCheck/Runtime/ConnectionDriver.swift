import DaemonCore
import KeepalivedConfig

/// One connection of a check, driven on the event loop without blocking: connect, then the TLS
/// handshake, then send a request and read the response through an `HTTPResponseParser`, or
/// hold an SMTP dialogue (`SMTPDialogue`: the server speaks first). Each
/// step waits for readability or writability through the shared `Poller`, and nothing may stay
/// silent longer than `timeout` (the checker's connect_timeout) nor run past `deadline`.
/// Confined to the event loop's queue.
final class ConnectionDriver: @unchecked Sendable {
    /// What the connection came to.
    enum Outcome {
        /// Connected (and, with a request, a whole response read: its status and body digest;
        /// for a chunked body also the digest of the body as sent, which keepalived computes).
        /// With a regex, whether the body matched it.
        case connected(status: Int?, digest: MD5Digest?, asSent: MD5Digest?, regexMatched: Bool? = nil)
        case failed(String)
    }

    private enum Phase: String {
        case connecting = "connecting"
        case handshaking = "in the TLS handshake"
        case sending = "sending the request"
        case receiving = "reading the response"
        /// Reported; waiting for the server to close before letting go of the socket.
        case closing = "waiting for the server to close"
        case done
    }

    private let io: CheckIO
    private let endpoint: CheckEndpoint
    private let tlsContext: TLSContext?
    private let serverName: String?
    private var request: [UInt8]?
    private var smtp: SMTPDialogue?
    private let timeout: Double
    private let deadline: Instant
    private var completion: ((Outcome) -> Void)?
    private var socket: CheckSocket?
    private var tls: TLSSession?
    private var phase = Phase.connecting
    /// The connection is known to be up (connect said so, or bytes went through it).
    private var established = false
    /// The server closed its side: the close may then reset, sparing it a TIME_WAIT.
    private var peerClosed = false
    private var sent = 0
    private var parser: HTTPResponseParser
    private let hasher: MD5Hasher?
    private let rawHasher: MD5Hasher?
    private var regexScan: BodyRegexScan?
    /// `tls_compliant`: a TLS connection ends with a close_notify.
    private let tlsCompliant: Bool
    private var timeoutToken: Deadlines.Token?

    /// Without a `request` (nor `smtp`) the check ends once connected (TCP_CHECK). `hashBody`
    /// when a digest must be compared.
    init(io: CheckIO, endpoint: CheckEndpoint, tls: TLSContext?, serverName: String?, request: [UInt8]?, hashBody: Bool,
         smtp: SMTPDialogue? = nil, regex: BodyRegexScan? = nil, tlsCompliant: Bool = false,
         timeout: Double, deadline: Instant, completion: @escaping (Outcome) -> Void) {
        self.smtp = smtp
        regexScan = regex
        self.tlsCompliant = tlsCompliant
        self.io = io
        self.endpoint = endpoint
        tlsContext = tls
        self.serverName = serverName
        self.request = request
        self.timeout = timeout
        self.deadline = deadline
        self.completion = completion
        parser = HTTPResponseParser(readsBody: hashBody || regex != nil)
        hasher = hashBody ? MD5Hasher() : nil
        rawHasher = hashBody ? MD5Hasher() : nil
    }

    func start() {
        do {
            let socket = try CheckSocket(to: endpoint)
            self.socket = socket
            armTimer()
            established = try socket.connect(to: endpoint)
            if request != nil && tlsContext == nil {
                // The request goes out with the connection: on a near server the handshake is
                // over by the time connect returns, and the socket is woken only by the answer.
                // While it is not, the send waits for writability (and tells a refused connect).
                phase = .sending
                send()
            } else if established {
                connected()
            }
            guard phase != .done else { return }
            // The poller and the deadlines hold the driver until it finishes: finish() takes it
            // out of both (a weak reference would cost an allocation of its own per check).
            if phase == .receiving {
                // Only the answer is awaited: tried first at the poller's next wake-up, when
                // under load it is there and the socket never needs watching.
                io.poller.watchSoon(socket.descriptor, tryNow: { self.receiveIfWaiting() }) { readiness in self.resume(readiness) }
            } else {
                try socket.watch(with: io.poller, writable: true) { readiness in self.resume(readiness) }
            }
        } catch {
            finish(.failed("\(error)"))
        }
    }

    /// Stops the connection without reporting (the daemon is stopping or reloading).
    func cancel() {
        completion = nil
        finish(.failed("cancelled"))
    }

    // MARK: Steps

    /// The socket became readable or writable: take the current step as far as it goes. Being
    /// edge-triggered, a readiness may also belong to a step already done; the step just finds
    /// it would block.
    private func resume(_ readiness: Readiness) {
        if readiness.peerClosed { peerClosed = true }
        switch phase {
        case .connecting:
            if let error = socket?.connectError() { return finish(.failed("\(error)")) }
            established = true
            connected()
        case .handshaking: handshake()
        case .sending: send()
        case .receiving:
            // A late writability report: nothing to read, and reading would only say so.
            guard readiness.readable || readiness.peerClosed || readiness.failed else { return }
            receive()
        case .closing:
            if readiness.peerClosed { return release(reset: true) }
            discardUntilClose()
        case .done: break
        }
    }

    private func connected() {
        if smtp != nil {
            // The server speaks first. Its banner may have come with the connect's completion, in
            // the same edge-triggered report: read now, or it would never be reported again.
            armTimer()
            phase = .receiving
            receive()
            return
        }
        guard request != nil else { return finish(.connected(status: nil, digest: nil, asSent: nil)) }
        armTimer()
        if let tlsContext, let socket {
            do {
                tls = try TLSSession(context: tlsContext, descriptor: socket.descriptor, serverName: serverName)
            } catch {
                return finish(.failed("\(error)"))
            }
            phase = .handshaking
            handshake()
        } else {
            phase = .sending
            send()
        }
    }

    private func handshake() {
        guard let tls else { return }
        switch tls.handshake() {
        case .transferred:
            armTimer()
            phase = .sending
            send()
        case .closed: finish(.failed("the server closed the connection during the TLS handshake"))
        case .failed(let reason): finish(.failed(reason))
        case .wantRead, .wantWrite:
            // The poller watches both ways and calls resume() when the socket is ready again.
            break
        }
    }

    private func send() {
        guard let request, let socket else { return }
        while sent < request.count {
            let result = request.withUnsafeBytes { bytes in
                let rest = UnsafeRawBufferPointer(rebasing: bytes[sent...])
                return tls?.write(rest) ?? socket.write(rest, operation: established ? "write" : "connect")
            }
            switch result {
            case .transferred(let count):
                sent += count
                established = true
            case .closed: return finish(.failed("the server closed the connection before the request was sent"))
            case .failed(let reason): return finish(.failed(reason))
            case .wantRead, .wantWrite: return  // resumed by the poller when ready
            }
        }
        phase = .receiving
        // The answer cannot be there yet: the poller reports it when it comes.
    }

    private func receive() {
        guard let socket else { return }
        let buffer = io.readBuffer
        var progressed = false
        defer { if progressed && phase == .receiving { armTimer() } }
        while phase == .receiving {
            let result = tls?.read(into: buffer) ?? socket.read(into: buffer)
            if smtp != nil {
                guard converse(result, buffer) else { return }
                continue
            }
            do {
                switch result {
                case .transferred(let count):
                    progressed = true
                    let progress = try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[..<count]), body: { hasher?.update($0); regexScan?.feed($0) },
                                                   chunkedBody: { rawHasher?.update($0) })
                    if progress == .complete { return finishResponse() }
                case .closed:
                    peerClosed = true
                    _ = try parser.finish()
                    return finishResponse()
                case .failed(let reason):
                    return finish(.failed(reason))
                case .wantRead, .wantWrite:
                    return  // resumed by the poller when ready
                }
            } catch {
                return finish(.failed("\(error)"))
            }
        }
    }

    /// An SMTP server's reply: answered, or the dialogue ends. True while there is more to read.
    private func converse(_ result: IOResult, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let step: SMTPDialogue.Step
        switch result {
        case .transferred(let count):
            armTimer()
            step = smtp!.feed(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        case .closed:
            peerClosed = true
            step = smtp!.closed()
        case .failed(let reason):
            finish(.failed(reason))
            return false
        case .wantRead, .wantWrite:
            return false
        }
        switch step {
        case .wait:
            return true
        case .send(let bytes):
            request = bytes
            sent = 0
            phase = .sending
            send()
            return phase == .receiving
        case .passed:
            finishResponse(.connected(status: nil, digest: nil, asSent: nil))
            return false
        case .failed(let reason):
            finish(.failed(reason))
            return false
        }
    }

    /// Reads what has come; true if the socket must still be watched (for the rest of the
    /// answer or for the server's close).
    private func receiveIfWaiting() -> Bool {
        guard phase == .receiving else { return phase == .closing }
        receive()
        return phase == .receiving || phase == .closing
    }

    private func finishResponse(_ given: Outcome? = nil) {
        let asSent = parser.isChunked ? rawHasher?.finish() : nil
        regexScan?.finish()
        let outcome = given ?? Outcome.connected(status: parser.statusCode, digest: hasher?.finish(), asSent: asSent,
                                                 regexMatched: regexScan?.matched)
        guard !peerClosed else { return finish(outcome) }
        // The answer is in but the server has not closed yet (it does so right after answering
        // a request that asks it to). Report now, and hold the socket until it closes, then
        // reset: a FIN from us first would leave a TIME_WAIT here, and one after the server's
        // a TIME_WAIT on the server. A server still open a grid step later gets our FIN.
        phase = .closing
        endTLS()
        io.deadlines.cancel(timeoutToken)
        timeoutToken = io.deadlines.at(io.deadlines.now.adding(seconds: Poller.grid)) { self.release(reset: false) }
        report(outcome)
    }

    /// Reads (and drops) whatever comes after the answer until the server closes.
    private func discardUntilClose() {
        guard let socket else { return }
        while true {
            switch socket.read(into: io.readBuffer) {
            case .transferred: continue
            case .closed: return release(reset: true)
            case .failed: return release(reset: false)
            case .wantRead, .wantWrite: return
            }
        }
    }

    /// Lets go of a connection already reported.
    private func release(reset: Bool) {
        guard phase == .closing else { return }
        closeSocket(reset: reset)
    }

    // MARK: Waiting and the end

    /// Re-arms the silence time-out: `timeout` from now, but never past the deadline. Called
    /// when a step begins and when bytes arrive, not on every readiness.
    private func armTimer() {
        let silence = io.deadlines.now.adding(seconds: timeout)
        io.deadlines.cancel(timeoutToken)
        if deadline < silence {
            timeoutToken = io.deadlines.at(deadline) { self.timedOut("not finished before the next check was due") }
        } else {
            timeoutToken = io.deadlines.at(silence) { self.timedOut("timed out after \(Self.seconds(self.timeout)) s") }
        }
    }

    private func timedOut(_ reason: String) {
        guard phase != .done else { return }
        // A request waiting to go out on a connection not yet up is still connecting.
        let step = phase == .sending && !established ? Phase.connecting : phase
        finish(.failed("\(reason) \(step.rawValue)"))
    }

    private func finish(_ outcome: Outcome) {
        guard phase != .done || completion != nil else { return }
        closeSocket(reset: phase == .receiving && peerClosed)
        report(outcome)
    }

    private func closeSocket(reset: Bool) {
        phase = .done
        io.deadlines.cancel(timeoutToken)
        timeoutToken = nil
        endTLS()
        socket?.close(leaving: io.poller, reset: reset)
        socket = nil
    }

    /// Lets go of the TLS session: quietly, as keepalived does by default, or with a close_notify.
    private func endTLS() {
        if tlsCompliant { tls?.sendCloseNotify() }
        tls = nil
    }

    /// Hands the outcome on, once.
    private func report(_ outcome: Outcome) {
        let completion = self.completion
        self.completion = nil
        completion?(outcome)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// What every check's connections share on the loop: the epoll set, the deadlines, and one read
/// buffer (the loop runs one step at a time).
final class CheckIO: @unchecked Sendable {
    let loop: EventLoop
    let poller: Poller
    let deadlines: Deadlines
    let readBuffer: UnsafeMutableRawBufferPointer

    init(loop: EventLoop) throws {
        self.loop = loop
        deadlines = try Deadlines()
        poller = try Poller(loop: loop, deadlines: deadlines)
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }
}
