import DaemonCore
import KeepalivedConfig

/// One page fetched as an HTTP_GET / SSL_GET check fetches it, for genhash: its status and the
/// MD5 of its body.
public enum PageFetch {
    public struct Page: Sendable {
        public let status: Int
        /// The MD5 of the body's content.
        public let digest: MD5Digest
        /// For a chunked body, the MD5 of the body as sent (chunk sizes included), which is what
        /// keepalived's genhash prints; nil otherwise (the two are the same).
        public let asSent: MD5Digest?
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Call on `loop`; `completion` runs there too.
    public static func fetch(loop: EventLoop, endpoint: CheckEndpoint, path: String, host: String, version: HTTPProtocolVersion,
                             tls: TLSContext?, serverName: String?, timeout: Double,
                             completion: @escaping (Result<Page, Failure>) -> Void) {
        let io: CheckIO
        do {
            io = try CheckIO(loop: loop)
        } catch {
            return completion(.failure(Failure(description: "\(error)")))
        }
        var driver: ConnectionDriver?
        driver = ConnectionDriver(io: io, endpoint: endpoint, tls: tls, serverName: serverName,
                                  request: HTTPRequest.bytes(path: path, host: host, version: version), hashBody: true,
                                  timeout: timeout, deadline: io.deadlines.now.adding(seconds: timeout * 4)) { outcome in
            // The driver (and the poller) live until the answer; dropping them here ends the cycle.
            driver = nil
            _ = io
            switch outcome {
            case .connected(let status?, let digest?, let asSent, _): completion(.success(Page(status: status, digest: digest, asSent: asSent)))
            case .connected: completion(.failure(Failure(description: "no HTTP response")))
            case .failed(let reason): completion(.failure(Failure(description: reason)))
            }
        }
        driver?.start()
    }
}
