/// The little of HTTP/1.x a metrics endpoint needs: the request line of a request whose head has
/// arrived, and a complete response that closes the connection.
public enum HTTPRequestHead: Sendable, Equatable {
    /// The head is not complete yet: read more.
    case incomplete
    case request(method: String, path: String)
    /// Not HTTP, or a head with no request line: answered with 400.
    case malformed

    /// Reads the request line once the head (up to the blank line) is in `bytes`. The path loses
    /// its query string; headers are not needed and not read.
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
        return .request(method: String(decoding: words[0], as: UTF8.self), path: String(decoding: target, as: UTF8.self))
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

/// A whole response, sent with `Connection: close`: one request per connection keeps the server
/// small and a slow or idle client cheap to drop.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
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

    /// Status line, headers and body. A HEAD request gets the headers alone.
    public func bytes(headOnly: Bool = false) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        if status == 405 { head += "Allow: GET, HEAD\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + (headOnly ? [] : body)
    }
}
