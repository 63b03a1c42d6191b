#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import DaemonMetrics
import Dispatch
import IPVS
import Logging

/// `--metrics-listen`: GET /metrics (Prometheus' text format) and GET /json (keepalived.json's
/// state). Requests are taken on the daemon's loop; a /metrics answer is gathered there (the
/// parts' reports, cheap), then the kernel's IPVS counters are read and the text written on a
/// thread of its own at the lowest priority, so a scrape of tens of thousands of real servers
/// does not hold up an advert or a check. Scrapes within `freshness` of the last answer get that answer again: the kernel
/// is read and the text built at most once a second, however often Prometheus (or several) asks.
final class MetricsEndpoint: @unchecked Sendable {
    private var listener: HTTPListener?
    let exporter: MetricsExporter
    private weak var daemon: RunningDaemon?
    private let loop: EventLoop
    private let work = LowPriorityWorker(name: "metrics")
    /// Our own socket for the counters, opened on the loop (so in the daemon's namespace), then
    /// used only by `work`.
    private var kernelReader: IPVSNetlink?
    /// Loop only: the last answer, the scrapes waiting for the one being built.
    private var cached: (body: [UInt8], at: Instant)?
    private var waiting: [@Sendable (HTTPResponse) -> Void] = []
    private var building = false

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let freshness = 1.0

    init(address: ListenAddress, loop: EventLoop, version: String, daemon: RunningDaemon) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        exporter = MetricsExporter(version: version, startTime: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
        self.daemon = daemon
        self.loop = loop
        listener = try HTTPListener(address: address, loop: loop) { [weak self] _, path, reply in
            guard let self else { return reply(HTTPResponse(status: 503, text: "stopping\n")) }
            self.answer(path, reply)
        }
    }

    func start() {
        listener?.start()
    }

    func stop() {
        listener?.stop()
    }

    private func answer(_ path: String, _ reply: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let daemon else { return reply(HTTPResponse(status: 503, text: "stopping\n")) }
        switch path {
        case "/metrics":
            metrics(daemon, reply)
        case "/json":
            reply(HTTPResponse(status: 200, contentType: "application/json", body: Array(daemon.stateDumps.json.utf8)))
        case "/":
            reply(HTTPResponse(status: 200, text: "swiftkeepalived: /metrics (Prometheus), /json (keepalived.json)\n"))
        default:
            reply(HTTPResponse(status: 404, text: "not found; try /metrics or /json\n"))
        }
    }

    private func metrics(_ daemon: RunningDaemon, _ reply: @escaping @Sendable (HTTPResponse) -> Void) {
        if let cached, loop.now().seconds(since: cached.at) < Self.freshness {
            return reply(Self.response(cached.body))
        }
        waiting.append(reply)
        guard !building else { return }
        building = true
        let gathered = daemon.metricsSnapshot()
        if daemon.ipvs != nil && kernelReader == nil { kernelReader = try? IPVSNetlink() }
        let reader = daemon.ipvs != nil ? kernelReader : nil
        let exporter = exporter
        let logger = daemon.checkerLogger
        work.run { [self] in
            var snapshot = gathered
            if let reader {
                do {
                    snapshot.kernel = try reader.statistics()
                } catch {
                    snapshot.kernelReadFailed = true
                    logger.debug("metrics: cannot read the IPVS counters: \(error)")
                }
            }
            let body = exporter.render(snapshot)
            loop.queue.async { [self] in
                cached = (body, loop.now())
                building = false
                let replies = waiting
                waiting = []
                for reply in replies { reply(Self.response(body)) }
            }
        }
    }

    private static func response(_ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: metricsContentType, body: body)
    }
}
