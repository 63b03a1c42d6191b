import KeepalivedConfig

/// The request an HTTP_GET / SSL_GET check sends, worded as keepalived's: a GET with its
/// User-Agent, the Host header, and `Connection: close` for HTTP/1.1 and "1.0C".
public enum HTTPRequest {
    public static func bytes(path: String, host: String, version: HTTPProtocolVersion) -> [UInt8] {
        var text = "GET \(path) HTTP/\(version == .http11 ? "1.1" : "1.0")\r\n"
        text += "User-Agent: KeepAliveClient\r\n"
        text += "Host: \(host)\r\n"
        if version != .http10 { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The Host header: the virtual host if one is configured, else the address (IPv6 in
    /// brackets), with the port unless it is the scheme's default.
    public static func host(virtualhost: String?, address: IPAddress, port: Int, tls: Bool) -> String {
        let name = virtualhost ?? (address.family == .inet6 ? "[\(address)]" : "\(address)")
        return port == (tls ? 443 : 80) ? name : "\(name):\(port)"
    }
}
