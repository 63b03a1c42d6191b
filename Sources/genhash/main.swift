#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DaemonCore
import Dispatch
import HealthCheck
import KeepalivedConfig

/// keepalived's genhash: fetch a page as an HTTP_GET / SSL_GET check would and print the MD5 of
/// its body, to paste into a `digest` line. Same flags as keepalived's.
struct GenHash: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genhash",
        abstract: "Print the MD5 digest of a web page, as HTTP_GET / SSL_GET checks compute it.")

    @Flag(name: [.customShort("S"), .customLong("use-ssl")], help: "Use SSL connection to remote server.")
    var useSSL = false
    @Flag(name: [.customShort("I"), .customLong("use-sni")], help: "Use SNI during SSL handshake (uses the virtualhost, see -V).")
    var useSNI = false
    @Option(name: [.customShort("s"), .customLong("server")], help: "The remote server's address.")
    var server: String
    @Option(name: [.customShort("p"), .customLong("port")], help: "The remote server's port (default 80, or 443 with -S).")
    var port: Int?
    @Option(name: [.customShort("u"), .customLong("url")], help: "The url (path) to fetch.")
    var url: String
    @Option(name: [.customShort("V"), .customLong("use-virtualhost")], help: "The virtualhost for the Host header.")
    var virtualhost: String?
    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Also print the status and the response time.")
    var verbose = false
    @Option(name: [.customShort("m"), .customLong("fwmark")], help: "The firewall mark for the connection.")
    var fwmark: UInt32?
    @Option(name: [.customShort("P"), .customLong("protocol")], help: "HTTP protocol: 1.0, 1.0c (1.0 with Connection: close) or 1.1.")
    var httpProtocol: String = "1.0"
    @Option(name: [.customShort("t"), .customLong("timeout")], help: "Timeout in seconds.")
    var timeout: Double = 5

    func validate() throws {
        guard IPAddress(server) != nil else { throw ValidationError("'\(server)' is not an IPv4 or IPv6 address") }
        guard HTTPProtocolVersion(rawValue: httpProtocol.uppercased() == "1.0C" ? "1.0C" : httpProtocol) != nil else {
            throw ValidationError("--protocol must be 1.0, 1.0c or 1.1, not '\(httpProtocol)'")
        }
        if let port { guard (1...65535).contains(port) else { throw ValidationError("--port \(port) is out of range 1-65535") } }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        let address = IPAddress(server)!
        let port = self.port ?? (useSSL ? 443 : 80)
        let version = HTTPProtocolVersion(rawValue: httpProtocol.uppercased() == "1.0C" ? "1.0C" : httpProtocol)!
        let tls = useSSL ? try TLSContext(settings: nil) : nil
        let host = HTTPRequest.host(virtualhost: virtualhost, address: address, port: port, tls: useSSL)
        let loop = try EventLoop()
        let verbose = self.verbose
        let url = self.url
        let endpoint = CheckEndpoint(address: address, port: port, mark: fwmark)
        let serverName = useSNI ? virtualhost : nil
        let timeout = self.timeout
        loop.queue.async {
            let started = loop.now()
            PageFetch.fetch(loop: loop, endpoint: endpoint, path: url, host: host, version: version, tls: tls,
                            serverName: serverName, timeout: timeout) { result in
                switch result {
                case .success(let page):
                    // keepalived's genhash hashes a chunked body as sent; printing the same keeps
                    // digests interchangeable (checks accept either form).
                    if verbose {
                        print("HTTP status: \(page.status)")
                        print("MD5SUM = \(page.asSent ?? page.digest)")
                        if let asSent = page.asSent, asSent != page.digest { print("MD5SUM of the de-chunked content = \(page.digest)") }
                        print("Global response time for [\(url)] = \((loop.now().nanoseconds - started.nanoseconds) / 1000) usecs")
                    } else {
                        print(page.asSent ?? page.digest)
                    }
                    Glibc.exit(0)
                case .failure(let failure):
                    StandardError.write("genhash: \(server):\(port)\(url): \(failure)\n")
                    Glibc.exit(1)
                }
            }
        }
        dispatchMain()
    }
}

/// Writes to standard error without the C `stderr` global (shared mutable state to Swift 6).
enum StandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}

GenHash.main()
