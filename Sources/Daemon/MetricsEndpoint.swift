#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import DaemonMetrics
import Dispatch
import IPVS
import Logging

/// `--metrics-listen`: GET /metrics (Prometheus' text format: the daemon's state), GET
/// /metrics/ipvs (the kernel's counters of every virtual service and real server, apart because
/// reading them costs a netlink dump per virtual service) and GET /json (keepalived.json's
/// state). Requests are taken on the listener's thread. Scrapes within `freshness` of the last
/// answer get that answer again from there, without waking the event loop: the kernel is read and
/// the text built at most once a second per path, however often Prometheus (or several) asks.
/// Otherwise the parts' reports are gathered on the loop (cheap: the IPVS part keeps its report
/// until something changes), then the kernel is read and the text written on a thread of its own
/// at the lowest priority, so a scrape of tens of thousands of real servers does not hold up an
/// advert or a check. The text is kept in compressed blocks that are redone only when their
/// subjects change (`MetricsExporter`), and sent compressed when the client accepts gzip, as
/// Prometheus does.
final class MetricsEndpoint: @unchecked Sendable {
    private var listener: HTTPListener?
    let exporter: MetricsExporter
    private weak var daemon: RunningDaemon?
    private let loop: EventLoop
    private let work = JobThread(name: "metrics")
    /// Our own socket for the counters, opened on the loop (so in the daemon's namespace), then
    /// used only by `work`.
    private var kernelReader: IPVSNetlink?
    /// Guards what follows: the listener's thread, the loop and `work` all use it.
    private let lock = Lock()
    /// Per path, the last answer and the scrapes waiting for the one being built.
    private var scrapes: [ScrapePath: ScrapeState] = [:]
    /// When a client last asked for the text uncompressed; while recent, answers are kept in
    /// both forms.
    private var textAskedAt: Instant?
    /// Answers built so far and the worker's CPU for them.
    private var builds = 0
    private var buildCPUSeconds = 0.0

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let freshness = 1.0

    private enum ScrapePath {
        case metrics, ipvs
    }

    private typealias Reply = @Sendable (HTTPResponse) -> Void

    private struct ScrapeState {
        var cached: (body: MetricsBody, text: [UInt8]?, gzip: FileBody?, at: Instant)?
        var waiting: [(acceptsGzip: Bool, reply: Reply)] = []
        var building = false
    }

    init(address: ListenAddress, loop: EventLoop, version: String, daemon: RunningDaemon) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        exporter = MetricsExporter(version: version, startTime: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
        self.daemon = daemon
        self.loop = loop
        listener = try HTTPListener(address: address) { [weak self] _, path, acceptsGzip, reply in
            guard let self else { return reply(HTTPResponse(status: 503, text: "stopping\n")) }
            self.answer(path, acceptsGzip: acceptsGzip, reply)
        }
    }

    func start() {
        listener?.start()
    }

    func stop() {
        listener?.stop()
    }

    /// On the listener's thread.
    private func answer(_ path: String, acceptsGzip: Bool, _ reply: @escaping Reply) {
        switch path {
        case "/metrics":
            scrape(.metrics, acceptsGzip: acceptsGzip, reply)
        case "/metrics/ipvs":
            scrape(.ipvs, acceptsGzip: acceptsGzip, reply)
        case "/json":
            loop.queue.async { [weak self] in
                guard let daemon = self?.daemon else { return reply(HTTPResponse(status: 503, text: "stopping\n")) }
                reply(HTTPResponse(status: 200, contentType: "application/json", body: Array(daemon.stateDumps.json.utf8)))
            }
        case "/":
            reply(HTTPResponse(status: 200, text: "swiftkeepalived: /metrics (Prometheus), /metrics/ipvs (the kernel's counters of each virtual and real server), /json (keepalived.json)\n"))
        default:
            reply(HTTPResponse(status: 404, text: "not found; try /metrics, /metrics/ipvs or /json\n"))
        }
    }

    /// The answer kept, if fresh; else the scrape waits for the next one, whose build starts on
    /// the loop unless one is under way.
    private func scrape(_ path: ScrapePath, acceptsGzip: Bool, _ reply: @escaping Reply) {
        let now = loop.now()
        lock.lock()
        if !acceptsGzip { textAskedAt = now }
        var state = scrapes[path] ?? ScrapeState()
        if var cached = state.cached, now.seconds(since: cached.at) < Self.freshness {
            if !acceptsGzip && cached.text == nil {
                cached.text = cached.body.text
                scrapes[path]?.cached = cached
            }
            lock.unlock()
            return reply(Self.response(body: cached.body, text: cached.text, gzip: cached.gzip, acceptsGzip: acceptsGzip))
        }
        state.waiting.append((acceptsGzip, reply))
        let startsBuild = !state.building
        state.building = true
        scrapes[path] = state
        lock.unlock()
        if startsBuild { loop.queue.async { [self] in build(path, at: now) } }
    }

    /// On the loop: gathers the parts' state, then builds the answer on `work`.
    private func build(_ path: ScrapePath, at asked: Instant) {
        guard let daemon else {
            lock.lock()
            let replies = scrapes[path]?.waiting ?? []
            scrapes[path] = nil
            lock.unlock()
            return replies.forEach { $0.reply(HTTPResponse(status: 503, text: "stopping\n")) }
        }
        lock.lock()
        let counts = (builds, buildCPUSeconds)
        let withText = scrapes[path]?.waiting.contains { !$0.acceptsGzip } == true || textAskedAt.map { asked.seconds(since: $0) < 60 } == true
        lock.unlock()
        // /metrics shows the parts' state, /metrics/ipvs the kernel's counters.
        var snapshot = path == .metrics ? daemon.metricsSnapshot() : MetricsSnapshot()
        (snapshot.builds, snapshot.buildCPUSeconds) = counts
        let gathered = snapshot
        // Without an IPVS part (-C, -P) there is no table of ours to read.
        let readsKernel = path == .ipvs && daemon.ipvs != nil
        if readsKernel && kernelReader == nil { kernelReader = try? IPVSNetlink() }
        let reader = kernelReader
        let exporter = exporter
        let logger = daemon.checkerLogger
        work.run { [self] in
            let started = Self.threadCPUSeconds()
            let body: MetricsBody
            if path == .metrics {
                body = exporter.render(gathered)
            } else {
                var statistics: IPVSStatistics? = readsKernel ? nil : IPVSStatistics()
                do {
                    if readsKernel, let reader { statistics = try reader.statistics() }
                } catch {
                    logger.debug("metrics: cannot read the IPVS counters: \(error)")
                }
                body = exporter.renderIPVS(statistics)
            }
            // Sent with sendfile from an in-memory file (joined again, rarely, if the file cannot
            // be made).
            let gzipFile = try? FileBody(body.gzip)
            var text = withText ? body.text : nil
            let cpu = Self.threadCPUSeconds() - started
            lock.lock()
            builds += 1
            buildCPUSeconds += cpu
            let replies = scrapes[path]?.waiting ?? []
            let builtAt = loop.now()
            scrapes[path] = ScrapeState(cached: (body, text, gzipFile, builtAt))
            lock.unlock()
            // A text client that came while only gzip was being built.
            if text == nil && replies.contains(where: { !$0.acceptsGzip }) {
                text = body.text
                lock.lock()
                if scrapes[path]?.cached?.at == builtAt { scrapes[path]?.cached?.text = text }
                lock.unlock()
            }
            for (acceptsGzip, reply) in replies {
                reply(Self.response(body: body, text: text, gzip: gzipFile, acceptsGzip: acceptsGzip))
            }
        }
    }

    private static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static func response(body: MetricsBody, text: [UInt8]?, gzip: FileBody?, acceptsGzip: Bool) -> HTTPResponse {
        switch (acceptsGzip, gzip) {
        case (true, let file?): return HTTPResponse(status: 200, contentType: metricsContentType, file: file, contentEncoding: "gzip")
        case (true, nil): return HTTPResponse(status: 200, contentType: metricsContentType, body: body.gzip, contentEncoding: "gzip")
        case (false, _): return HTTPResponse(status: 200, contentType: metricsContentType, body: text ?? body.text)
        }
    }
}
