import DaemonCore
import KeepalivedConfig
import Logging

/// One checker block of one real server, run on the event loop: the first check within
/// `warmup`, then every `delay_loop`, failures retried `delay_before_retry` apart while the
/// server is up. Reports verdict changes (and MISC_CHECK's dynamic weights) to its owner.
final class Checker: @unchecked Sendable {
    struct Context {
        let io: CheckIO
        let scripts: ScriptRunner
        let logger: Logger
        let tls: TLSContext?
        var loop: EventLoop { io.loop }
    }

    let config: HealthChecker
    /// The real server as keepalived names it, `[198.51.100.2]:tcp:80`.
    let serverName: String
    /// The virtual server as keepalived names it, `[192.0.2.1]:tcp:80` or `FWM 7`.
    let virtualServerName: String
    /// Why the last check failed, for the lines that repeat it when the server goes down.
    private var lastFailure: String?
    let endpoint: CheckEndpoint
    private let virtualhost: String?
    private let timing: CheckTiming
    let context: Context
    var state: CheckerState
    private var timer: Deadlines.Token?
    var connection: ConnectionDriver?
    var exchange: DatagramExchange?
    /// Tells a DNS query's or a ping's reply from an earlier one's.
    var sequence = UInt16.random(in: 0...UInt16.max)
    private var stopped = false
    /// When the running check began: the next one is due `delay_loop` after it, so a slow
    /// server does not stretch the period.
    private var checkStarted: Instant?
    /// Called on the loop when the verdict flips.
    var onTransition: (Bool) -> Void = { _ in }
    /// MISC_CHECK with misc_dynamic: the weight the script asked for.
    var onWeight: (Int) -> Void = { _ in }
    /// Called on the loop when a check ends, with how long it took in seconds.
    var onChecked: (Double) -> Void = { _ in }
    /// How long the last check took, from its planned start to its verdict.
    private(set) var lastDuration: Double?
    /// Checks that failed, retries included, since the checker started.
    private(set) var failedChecks = 0
    var dynamicWeight: Int?
    /// Each url's request, built once: they never change between checks.
    private var requests: [Int: [UInt8]] = [:]
    /// Each url's compiled regex.
    private var regexes: [Int: CompiledRegex] = [:]

    /// `initiallyUp` carries a verdict over a reload; otherwise the server starts up, or down with alpha.
    init(config: HealthChecker, real: RealServer, server: VirtualServer, serverName: String, context: Context, initiallyUp: Bool? = nil) {
        self.config = config
        self.serverName = serverName
        virtualServerName = HealthCheckRuntime.name(of: server)
        self.context = context
        timing = config.effectiveTiming(realServer: real, virtualServer: server)
        endpoint = CheckEndpoint(address: config.connectIP ?? real.address, port: config.connectPort ?? real.effectivePort(in: server),
                                 bindAddress: config.bindTo, bindPort: config.bindPort, bindInterface: config.bindInterface, mark: config.fwmark)
        virtualhost = real.virtualhost ?? server.virtualhost
        state = CheckerState(isUp: initiallyUp ?? !(config.alpha ?? real.alpha ?? server.alpha), retry: timing.retry ?? 1)
    }

    var isUp: Bool { state.isUp }
    private var delayLoop: Double { timing.delayLoop ?? 60 }
    var connectTimeout: Double { timing.connectTimeout ?? 5 }

    func start() {
        if case .fileCheck = config.kind { return }
        let warmup = max(timing.warmup ?? delayLoop, 0)
        schedule(after: warmup > 0 ? Double.random(in: 0...warmup) : 0)
    }

    func stop() {
        stopped = true
        context.io.deadlines.cancel(timer)
        timer = nil
        connection?.cancel()
        connection = nil
        exchange?.close()
        exchange = nil
    }

    /// The next check, `seconds` after `start` (the previous check's planned start) or after now.
    /// A time already past fires at once. A check a whole period behind (the machine could not
    /// keep up) skips the turns it missed and runs once, now: run back to back within one
    /// wake-up, a thousand late checks held the loop, adverts included, until they caught up,
    /// and fell further behind meanwhile.
    private func schedule(after seconds: Double, from start: Instant? = nil) {
        context.io.deadlines.cancel(timer)
        let now = context.io.deadlines.now
        var due = (start ?? now).adding(seconds: seconds)
        if start != nil && due < now { due = now }
        // Checks start on the poller's grid, so those due close together share one wake-up of
        // the loop: each wake-up is a few thread hops in Dispatch, which were most of the CPU.
        let grid = UInt64(Poller.grid * 1e9)
        let aligned = Instant(nanoseconds: (due.nanoseconds + grid - 1) / grid * grid)
        timer = context.io.deadlines.at(aligned) { [weak self] in self?.check(plannedFor: aligned) }
    }

    // MARK: One check

    /// Runs one check. The planned start stands in for the clock: the period does not creep by
    /// the timer's lateness, and a syscall is saved (a clock read is one, in a VM).
    private func check(plannedFor planned: Instant) {
        guard !stopped else { return }
        checkStarted = planned
        // A check still running when the next is due has failed (its driver says why).
        let deadline = planned.adding(seconds: max(delayLoop, connectTimeout))
        switch config.kind {
        case .httpGet(let http): fetch(http, tls: nil, url: 0, deadline: deadline)
        case .sslGet(let http): fetch(http, tls: context.tls, url: 0, deadline: deadline)
        case .tcpCheck: connect(deadline: deadline)
        case .miscCheck(let misc): run(misc)
        case .dnsCheck(let dns): query(dns, deadline: deadline)
        case .udpCheck(let udp): probe(udp, deadline: deadline)
        case .pingCheck: ping(deadline: deadline)
        case .smtpCheck(let smtp): converse(smtp, deadline: deadline)
        case .fileCheck: break
        }
    }

    private func connect(deadline: Instant) {
        connection = ConnectionDriver(io: context.io, endpoint: endpoint, tls: nil, serverName: nil, request: nil, hashBody: false,
                                      timeout: connectTimeout, deadline: deadline) { [weak self] outcome in
            guard let self else { return }
            connection = nil
            switch outcome {
            case .connected: record(success: true)
            case .failed(let reason): record(success: false, reason: "TCP connection to \(serverName) failed: \(reason)")
            }
        }
        connection?.start()
    }

    /// Fetches the urls one after the other, each on its own connection; all must pass.
    private func fetch(_ http: HTTPCheck, tls: TLSContext?, url index: Int, deadline: Instant) {
        guard index < http.urls.count else { return record(success: true) }
        let url = http.urls[index]
        let path = url.path ?? "/"
        let request: [UInt8]
        if let built = requests[index] {
            request = built
        } else {
            let host = HTTPRequest.host(virtualhost: url.virtualhost ?? http.virtualhost ?? virtualhost, address: endpoint.address,
                                        port: endpoint.port, tls: tls != nil)
            request = HTTPRequest.bytes(path: path, host: host, version: http.httpProtocol ?? HTTPCheck.defaultProtocol)
            requests[index] = request
        }
        let serverName = http.enableSNI ? (url.virtualhost ?? http.virtualhost ?? virtualhost) : nil
        connection = ConnectionDriver(io: context.io, endpoint: endpoint, tls: tls, serverName: serverName, request: request,
                                      hashBody: url.digest != nil, regex: regexScan(for: url, index: index),
                                      tlsCompliant: url.tlsCompliant ?? http.tlsCompliant ?? false,
                                      timeout: connectTimeout, deadline: deadline) { [weak self] outcome in
            guard let self else { return }
            connection = nil
            switch outcome {
            case .failed(let reason):
                record(success: false, reason: "\(checkName) on service \(self.serverName) url \(path): \(reason)")
            case .connected(let status, let digest, let asSent, let regexMatched):
                switch URLVerdict.failure(of: url, status: status, digest: digest, asSent: asSent, regexMatched: regexMatched) {
                case .status(let code)?:
                    record(success: false, reason: "HTTP status code error to \(self.serverName) url(\(path)), status_code [\(code)].")
                case .digest(let got)?:
                    record(success: false, reason: "MD5 digest error to \(self.serverName) url[\(path)], MD5SUM [\(got.map { "\($0)" } ?? "none")].")
                case .regex(let matched)?:
                    record(success: false, reason: "Regex match failed server \(self.serverName) url(\(path)): the body \(matched ? "matches" : "does not match") '\(url.regex?.pattern ?? "")'.")
                case nil:
                    fetch(http, tls: tls, url: index + 1, deadline: deadline)
                }
            }
        }
        connection?.start()
    }

    /// A fresh scan of the url's regex, compiled once per checker (the validator has compiled it
    /// already, so it compiles here too).
    private func regexScan(for url: CheckedURL, index: Int) -> BodyRegexScan? {
        guard let settings = url.regex, let pattern = settings.pattern else { return nil }
        if regexes[index] == nil { regexes[index] = try? CompiledRegex(pattern: pattern, options: settings.options) }
        return regexes[index].map { BodyRegexScan(regex: $0, settings: settings) }
    }

    private func run(_ misc: MiscCheck) {
        guard let path = misc.path else { return record(success: false, reason: "MISC_CHECK for \(serverName) has no misc_path") }
        context.scripts.start(path, timeout: misc.timeout ?? delayLoop) { [weak self] outcome in
            guard let self, !stopped else { return }
            switch outcome {
            case .exited(0):
                record(success: true)
            case .exited(let code) where misc.dynamic && code >= 2:
                // keepalived's misc_dynamic: exit status 2 + N sets weight N.
                let weight = Int(code) - 2
                if dynamicWeight != weight {
                    dynamicWeight = weight
                    context.logger.info("Misc check for \(serverName) by [\(path.command)] sets weight \(weight).")
                    onWeight(weight)
                }
                record(success: true)
            case .exited(let code):
                record(success: false, reason: "Misc check for \(serverName) by [\(path.command)] exited with status \(code).")
            case .signaled(let signal):
                record(success: false, reason: "Misc check for \(serverName) by [\(path.command)] was killed by signal \(signal).")
            case .timedOut:
                record(success: false, reason: "Misc check for \(serverName) by [\(path.command)] timed out after \(misc.timeout ?? delayLoop) s.")
            case .couldNotStart:
                record(success: false, reason: "Misc check for \(serverName) by [\(path.command)] could not be started.")
            }
        }
    }

    private var checkName: String {
        switch config.kind {
        case .httpGet: return "HTTP_CHECK"
        case .sslGet: return "SSL_CHECK"
        default: return config.kind.keyword
        }
    }

    // MARK: Verdicts

    func record(success: Bool, reason: String? = nil) {
        guard !stopped else { return }
        let wasUp = state.isUp
        lastFailure = success ? nil : reason
        if !success { failedChecks += 1 }
        if let checkStarted {
            let duration = max(0, context.io.deadlines.now.seconds(since: checkStarted))
            lastDuration = duration
            onChecked(duration)
        }
        // keepalived's DNS_CHECK says why only when it gives up (the down line repeats the reason).
        let quiet: Bool
        if case .dnsCheck = config.kind { quiet = true } else { quiet = false }
        if let reason, (wasUp && !quiet) || (config.logAllFailures ?? false) { context.logger.info("\(reason)") }
        let (transition, next) = state.record(success: success)
        if let transition { log(transition) }
        if next == .afterRetryDelay {
            schedule(after: timing.delayBeforeRetry ?? 1)
        } else {
            schedule(after: delayLoop, from: checkStarted)
        }
        if let transition { onTransition(transition == .wentUp) }
    }

    /// keepalived's words for a server coming and going.
    func log(_ transition: CheckerState.Transition) {
        switch (config.kind, transition) {
        case (.httpGet, .wentUp), (.sslGet, .wentUp):
            context.logger.info("Remote Web server \(serverName) succeed on service.")
        case (.httpGet, .wentDown(let retries)), (.sslGet, .wentDown(let retries)):
            context.logger.info("\(checkName) on service \(serverName) failed after \(retries) retries.")
        case (.tcpCheck, .wentUp):
            context.logger.info("TCP connection to \(serverName) success.")
        case (.tcpCheck, .wentDown):
            context.logger.info("TCP_CHECK on service \(serverName) failed.")
        case (.miscCheck(let misc), .wentUp):
            context.logger.info("Misc check for \(serverName) by [\(misc.path?.command ?? "")] succeeded.")
        case (.miscCheck(let misc), .wentDown):
            context.logger.info("Misc check for \(serverName) by [\(misc.path?.command ?? "")] failed.")
        case (.dnsCheck, .wentUp):
            context.logger.info("DNS_CHECK (\(serverName)) succeed.")
        case (.dnsCheck, .wentDown(let retries)):
            context.logger.info("\(lastFailure ?? "DNS_CHECK (\(serverName)) failed") after \(retries) retries")
        case (.udpCheck, .wentUp):
            context.logger.info("UDP connection to \(serverName) success.")
        case (.udpCheck, .wentDown(let retries)):
            context.logger.info("UDP_CHECK on service \(serverName) failed\(retries > 0 ? " after \(retries) retries" : "").")
        case (.pingCheck, .wentUp):
            context.logger.info("ICMP connection to \(serverName) success.")
        case (.pingCheck, .wentDown(let retries)):
            context.logger.info(retries > 0 ? "ICMP CHECK on service \(serverName) of \(virtualServerName) failed after \(retries) retries."
                                            : "ICMP CHECK on service \(serverName) failed.")
        case (.smtpCheck, .wentUp):
            context.logger.info("Remote SMTP server \(serverName) succeed on service.")
        case (.smtpCheck, .wentDown(let retries)):
            context.logger.info("SMTP_CHECK on service \(serverName) failed\(retries > 0 ? " after \(retries) retries" : "").")
        case (.fileCheck(let file), .wentUp):
            context.logger.info("(\(serverName)): tracked file \(file.trackFile ?? "") leaving FAULT state")
        case (.fileCheck(let file), .wentDown):
            context.logger.info("(\(serverName)): tracked file \(file.trackFile ?? "") now FAULT state")
        }
    }

    /// The body of keepalived's mail for this checker's change; nil for FILE_CHECK, which
    /// keepalived does not mail.
    func mailBody(up: Bool) -> String? {
        switch config.kind {
        case .httpGet, .sslGet: return up ? "=> CHECK succeed on service <=" : "=> CHECK failed on service : HTTP/SSL request failed <="
        case .tcpCheck: return "=> TCP CHECK \(up ? "succeed" : "failed") on service <="
        case .udpCheck: return "=> UDP CHECK \(up ? "succeed" : "failed") on service <="
        case .pingCheck: return "=> ICMP CHECK \(up ? "succeed" : "failed") on service <="
        case .dnsCheck: return "=> DNS_CHECK: \(up ? "succeed" : "failed") on service <="
        case .smtpCheck: return "=> CHECK \(up ? "succeed" : "failed") on service <="
        case .miscCheck: return "=> MISC CHECK \(up ? "succeeded" : lastFailureTimedOut ? "timed out" : "failed") on service <="
        case .fileCheck: return nil
        }
    }

    private var lastFailureTimedOut: Bool { lastFailure?.contains(" timed out after ") ?? false }
}
