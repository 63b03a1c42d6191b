#if canImport(Glibc)
import Glibc
#endif
import DaemonCore
import DaemonMetrics
import Logging

/// `--metrics-listen`: GET /metrics (Prometheus' text format) and GET /json (keepalived.json's
/// state) served on the daemon's loop. Each answer is built from the running state when asked;
/// the kernel's IPVS counters are read then too.
final class MetricsEndpoint: @unchecked Sendable {
    private var listener: HTTPListener?
    let exporter: MetricsExporter
    private weak var daemon: RunningDaemon?

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    init(address: ListenAddress, loop: EventLoop, version: String, daemon: RunningDaemon) throws {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        exporter = MetricsExporter(version: version, startTime: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
        self.daemon = daemon
        listener = try HTTPListener(address: address, loop: loop) { [weak self] _, path in
            self?.answer(path) ?? HTTPResponse(status: 503, text: "stopping\n")
        }
    }

    func start() {
        listener?.start()
    }

    func stop() {
        listener?.stop()
    }

    private func answer(_ path: String) -> HTTPResponse {
        guard let daemon else { return HTTPResponse(status: 503, text: "stopping\n") }
        switch path {
        case "/metrics":
            return HTTPResponse(status: 200, contentType: Self.metricsContentType, body: exporter.render(daemon.metricsSnapshot()))
        case "/json":
            return HTTPResponse(status: 200, contentType: "application/json", body: Array(daemon.stateDumps.json.utf8))
        case "/":
            return HTTPResponse(status: 200, text: "swiftkeepalived: /metrics (Prometheus), /json (keepalived.json)\n")
        default:
            return HTTPResponse(status: 404, text: "not found; try /metrics or /json\n")
        }
    }
}
