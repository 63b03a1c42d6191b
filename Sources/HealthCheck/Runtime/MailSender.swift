#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import KeepalivedConfig
import Logging

/// Sends the daemon's e-mail alerts on the event loop, each on its own connection to
/// `smtp_server`, several at a time: nothing waits for the server, so a silent one costs an
/// open socket until `smtp_connect_timeout`, never a late advert or check. Uses the checkers'
/// sockets, poller and deadlines (a set of its own). Call every method on the loop.
public final class MailSender: MailAlerter, @unchecked Sendable {
    /// Changed by a reload; exchanges under way keep the settings they started with.
    public var settings: MailSettings
    private let io: CheckIO
    private var deliveries: [ObjectIdentifier: MailDelivery] = [:]

    public init(settings: MailSettings, loop: EventLoop) throws {
        self.settings = settings
        io = try CheckIO(loop: loop)
    }

    /// The exchanges under way.
    public var inFlight: Int { deliveries.count }

    public func send(_ alert: MailAlert, logger: Logger) {
        let message = MailMessage.data(alert, settings: settings, date: HostNames.mailDate())
        let delivery = MailDelivery(io: io, settings: settings, message: message, logger: logger)
        let key = ObjectIdentifier(delivery)
        deliveries[key] = delivery
        delivery.onEnd = { [weak self] in self?.deliveries[key] = nil }
        delivery.start()
    }

    /// Drops every exchange under way (the daemon is stopping).
    public func stop() {
        for delivery in deliveries.values { delivery.close() }
        deliveries = [:]
    }
}

/// One alert's connection: connect, then the `SMTPAlertDialogue`, all within the settings'
/// timeout from the start. Failures are logged in keepalived's words.
final class MailDelivery {
    private enum Phase { case connecting, talking, done }

    private let io: CheckIO
    private let settings: MailSettings
    private let logger: Logger
    private var dialogue: SMTPAlertDialogue
    private var socket: CheckSocket?
    private var phase = Phase.connecting
    private var pending: [UInt8] = []
    private var sent = 0
    private var deadline: Deadlines.Token?
    var onEnd: () -> Void = {}

    init(io: CheckIO, settings: MailSettings, message: String, logger: Logger) {
        self.io = io
        self.settings = settings
        self.logger = logger
        dialogue = SMTPAlertDialogue(settings: settings, message: message)
    }

    func start() {
        // keepalived's smtp_connect_timeout bounds each step; here it bounds the whole exchange,
        // so one alert never holds a socket longer.
        deadline = io.deadlines.at(io.deadlines.now.adding(seconds: settings.timeout)) { [weak self] in self?.timedOut() }
        do {
            let endpoint = CheckEndpoint(address: settings.server, port: settings.port)
            let socket = try CheckSocket(to: endpoint)
            self.socket = socket
            let connected = try socket.connect(to: endpoint)
            try socket.watch(with: io.poller, writable: true) { [weak self] readiness in self?.resume(readiness) }
            if connected { self.connected() }
        } catch {
            logger.info("SMTP connection ERROR to \(settings.serverName).")
            logger.debug("SMTP connection to \(settings.serverName): \(error)")
            close()
        }
    }

    private func resume(_ readiness: Readiness) {
        switch phase {
        case .connecting:
            if let error = socket?.connectError() {
                logger.info(error.code == ETIMEDOUT ? "Timeout connecting SMTP server \(settings.serverName)."
                                                     : "SMTP connection ERROR to \(settings.serverName).")
                return close()
            }
            connected()
        case .talking:
            flush()
            receive()
        case .done:
            break
        }
    }

    private func connected() {
        phase = .talking
        logger.debug("Remote SMTP server \(settings.serverName) connected.")
        // The banner may have come with the connect's completion, in the same edge-triggered report.
        receive()
    }

    private func receive() {
        guard let socket else { return }
        while phase == .talking {
            switch socket.read(into: io.readBuffer) {
            case .transferred(let count):
                handle(dialogue.feed(UnsafeRawBufferPointer(rebasing: io.readBuffer[..<count])))
            case .closed:
                if !dialogue.isQuitting { logger.info("Remote SMTP server \(settings.serverName) has closed the connection.") }
                return close()
            case .failed:
                logger.info("Error reading data from remote SMTP server \(settings.serverName).")
                return close()
            case .wantRead, .wantWrite:
                return
            }
        }
    }

    private func handle(_ step: SMTPAlertDialogue.Step) {
        switch step {
        case .wait: break
        case .send(let bytes): write(bytes)
        case .delivered(let quit):
            logger.debug("SMTP alert successfully sent.")
            write(quit)
        case .refused(let line, let quit):
            logger.info("\(line)")
            if quit.isEmpty { return close() }
            write(quit)
        case .finished: close()
        }
    }

    private func write(_ bytes: [UInt8]) {
        pending = bytes
        sent = 0
        flush()
    }

    /// Sends what is pending as far as the socket takes it; the poller reports when it takes more.
    private func flush() {
        guard let socket else { return }
        while sent < pending.count {
            let result = pending.withUnsafeBytes { socket.write(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .transferred(let count): sent += count
            case .wantRead, .wantWrite: return
            case .closed, .failed:
                logger.info("Cannot send data to remote SMTP server \(settings.serverName).")
                return close()
            }
        }
    }

    private func timedOut() {
        deadline = nil
        switch phase {
        case .connecting: logger.info("Timeout opening connection to remote SMTP server \(settings.serverName).")
        case .talking: logger.info("Timeout reading data to remote SMTP server \(settings.serverName).")
        case .done: return
        }
        close()
    }

    func close() {
        guard phase != .done || socket != nil else { return }
        phase = .done
        io.deadlines.cancel(deadline)
        deadline = nil
        socket?.close(leaving: io.poller)
        socket = nil
        let end = onEnd
        onEnd = {}
        end()
    }
}
