/// One checker of one real server as /metrics shows it.
public struct CheckerMetrics: Sendable, Equatable {
    /// keepalived's names: `[192.0.2.1]:tcp:80` and `[198.51.100.2]:tcp:80`.
    public let virtualServer: String
    public let realServer: String
    /// The checker's keyword (`HTTP_GET`, `TCP_CHECK`…); a second checker of the same kind on the
    /// same real server is `TCP_CHECK#2`, so each keeps a series of its own.
    public let checker: String
    public let isUp: Bool
    /// Seconds the last check took; nil before the first one ended.
    public let lastDuration: Double?
    public let failedChecks: Int
}

extension HealthCheckRuntime {
    /// Every checker, in file order. Call on the loop.
    public var checkerMetrics: [CheckerMetrics] {
        let indices = checkers.keys.sorted { ($0.virtualServer, $0.realServer) < ($1.virtualServer, $1.realServer) }
        return indices.flatMap { index -> [CheckerMetrics] in
            var seen: [String: Int] = [:]
            return (checkers[index] ?? []).map { checker in
                let keyword = checker.config.kind.keyword
                seen[keyword, default: 0] += 1
                let count = seen[keyword] ?? 1
                return CheckerMetrics(virtualServer: checker.virtualServerName, realServer: checker.serverName,
                                      checker: count == 1 ? keyword : "\(keyword)#\(count)", isUp: checker.isUp,
                                      lastDuration: checker.lastDuration, failedChecks: checker.failedChecks)
            }
        }
    }
}
