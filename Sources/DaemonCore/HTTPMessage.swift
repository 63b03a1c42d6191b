/// The little of HTTP/1.x a metrics endpoint needs: the request line and two headers of a
/// request whose head has arrived, and a complete response.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// Without its query string.
    public var path: String
    public var acceptsGzip = false
    /// HTTP/1.1 keeps the connection unless the client says `Connection: close`; HTTP/1.0 closes
    /// it unless the client says `Connection: keep-alive`.
    public var keepAlive = false
    /// Bytes of the head, blank line included (what the next request on the connection follows).
    public var length = 0

    public init(method: String, path: String, acceptsGzip: Bool = false, keepAlive: Bool = false, length: Int = 0) {
        (self.method, self.path, self.acceptsGzip, self.keepAlive, self.length) = (method, path, acceptsGzip, keepAlive, length)
    }
}

public enum HTTPRequestHead: Sendable, Equatable {
    /// The head is not complete yet: read more.
    case incomplete
    case request(HTTPRequest)
    /// Not HTTP, or a head with no request line: answered with 400.
    case malformed

    /// Reads the request line once the head (up to the blank line) is in `bytes`. The path loses
    /// its query string; of the headers only Accept-Encoding (whether gzip is welcome) and
    /// Connection are read.
    public static func parse(_ bytes: [UInt8]) -> HTTPRequestHead {
        guard let end = headEnd(bytes) else { return .incomplete }
        let head = bytes[..<end]
        let lineEnd = head.firstIndex(of: UInt8(ascii: "\n")) ?? end
        var line = head[..<lineEnd]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard words.count == 3, words[2].starts(with: Array("HTTP/1.".utf8)), !words[0].isEmpty,
              words[1].first == UInt8(ascii: "/") else { return .malformed }
        let target = words[1].prefix { $0 != UInt8(ascii: "?") }
        let headers = String(decoding: head[lineEnd...], as: UTF8.self)
        let connection = values(of: "connection", in: headers).map { $0.lowercased() }
        let http10 = words[2].elementsEqual("HTTP/1.0".utf8)
        let keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close")
        let length = end + (bytes[end + 1] == UInt8(ascii: "\n") ? 2 : 3)
        return .request(HTTPRequest(method: String(decoding: words[0], as: UTF8.self), path: String(decoding: target, as: UTF8.self),
                                    acceptsGzip: acceptsGzip(headers), keepAlive: keepAlive, length: length))
    }

    /// The comma-separated values of every header `name` (lower case), trimmed.
    private static func values(of name: String, in headers: String) -> [String] {
        headers.split(whereSeparator: \.isNewline).flatMap { line -> [String] in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name else { return [] }
            return line[line.index(after: colon)...].split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" }) }
        }
    }

    /// Whether an Accept-Encoding header names gzip (or `*`) without `q=0`.
    static func acceptsGzip(_ headers: String) -> Bool {
        for entry in values(of: "accept-encoding", in: headers) {
            let parts = entry.split(separator: ";").map { $0.lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "*" else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) }
            if weight.map({ $0 > 0 }) ?? true { return true }
        }
        return false
    }

    /// Where the blank line ending the head starts (CRLF CRLF, or bare LF LF as lenient servers take it).
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if bytes[index + 1] == UInt8(ascii: "\n") { return index }
                if bytes[index + 1] == UInt8(ascii: "\r"), index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "\n") { return index }
            }
            index += 1
        }
        return nil
    }
}

/// A whole response. The connection stays open for the next request when the client asks
/// (Prometheus does), so a scrape does not pay for a new TCP connection each time.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// `gzip` when the body is compressed.
    public var contentEncoding: String?
    /// A body sent from a file (then `body` is empty and `bytes` holds the head alone).
    public var file: FileBody?
    /// Set by the connection: whether it stays open after this answer.
    public var keepAlive = false

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8], contentEncoding: String? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.contentEncoding = contentEncoding
    }

    public init(status: Int, contentType: String, file: FileBody, contentEncoding: String? = nil) {
        self.init(status: status, contentType: contentType, body: [], contentEncoding: contentEncoding)
        self.file = file
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }

    /// Status line and headers (a HEAD request's Content-Length is still the body's).
    public var head: [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(file?.count ?? body.count)\r\n"
        if let contentEncoding { head += "Content-Encoding: \(contentEncoding)\r\nVary: Accept-Encoding\r\n" }
        if status == 405 { head += "Allow: GET, HEAD\r\n" }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8)
    }
}
