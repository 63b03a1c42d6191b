import HealthCheck
import KeepalivedConfig
import XCTest

final class HTTPResponseParserTests: XCTestCase {
    /// Feeds `response` cut into pieces of `piece` bytes; returns the status, the body and the
    /// progress after the last piece (and after the close, when `close`).
    private func run(_ response: String, piece: Int, readsBody: Bool = true, close: Bool = false,
                     limit: Int = 1 << 20) throws -> (Int?, String, HTTPResponseParser.Progress) {
        var parser = HTTPResponseParser(readsBody: readsBody, maximumBodyBytes: limit)
        var body: [UInt8] = []
        var progress = HTTPResponseParser.Progress.needMore
        let bytes = Array(response.utf8)
        var start = 0
        while start < bytes.count && progress == .needMore {
            let end = min(start + piece, bytes.count)
            progress = try bytes[start..<end].withUnsafeBytes { raw in
                try parser.feed(raw) { body.append(contentsOf: $0) }
            }
            start = end
        }
        if close && progress == .needMore { progress = try parser.finish() }
        return (parser.statusCode, String(decoding: body, as: UTF8.self), progress)
    }

    func testContentLengthBodyInPiecesOfEverySize() throws {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX: y\r\n\r\nhello worldEXTRA"
        for piece in 1...response.utf8.count {
            let (status, body, progress) = try run(response, piece: piece)
            XCTAssertEqual(status, 200)
            XCTAssertEqual(body, "hello world", "piece \(piece)")
            XCTAssertEqual(progress, .complete)
        }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"
        for piece in 1...response.utf8.count {
            let (_, body, progress) = try run(response, piece: piece)
            XCTAssertEqual(body, "hello world", "piece \(piece)")
            XCTAssertEqual(progress, .complete)
        }
    }

    func testChunkedBodyAsSentIsHandedOnToo() throws {
        let body = "5;x=y\r\nhello\r\n0\r\n\r\n"
        var parser = HTTPResponseParser(readsBody: true)
        var raw: [UInt8] = []
        var decoded: [UInt8] = []
        let progress = try Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body).utf8).withUnsafeBytes {
            try parser.feed($0, body: { decoded.append(contentsOf: $0) }, chunkedBody: { raw.append(contentsOf: $0) })
        }
        XCTAssertEqual(progress, .complete)
        XCTAssertTrue(parser.isChunked)
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), "hello")
        XCTAssertEqual(String(decoding: raw, as: UTF8.self), body)
    }

    func testDigestMatchesTheContentOrTheChunkedBodyAsSent() {
        var url = CheckedURL(path: "/", location: SourceLocation(file: "t", line: 1))
        let content = MD5Digest(hex: "eff5bc1ef8ec9d03e640fc4370f5eacd")!
        let asSent = MD5Digest(hex: "ca7667c725e6ad7d24478b0799ae49c5")!
        url.digest = content
        XCTAssertNil(URLVerdict.failure(of: url, status: 200, digest: content))
        url.digest = asSent
        XCTAssertNil(URLVerdict.failure(of: url, status: 200, digest: content, asSent: asSent))
        XCTAssertEqual(URLVerdict.failure(of: url, status: 200, digest: content), .digest(content))
        XCTAssertEqual(URLVerdict.failure(of: url, status: 500, digest: asSent, asSent: asSent), .status(500))
        url.statusCodes = [StatusCodeRange(lower: 500, upper: 503)]
        XCTAssertNil(URLVerdict.failure(of: url, status: 502, digest: asSent))
    }

    func testBodyUntilCloseAndBareNewlines() throws {
        let (status, body, progress) = try run("HTTP/1.0 404 Not Found\nServer: x\n\nmissing", piece: 3, close: true)
        XCTAssertEqual(status, 404)
        XCTAssertEqual(body, "missing")
        XCTAssertEqual(progress, .complete)
    }

    func testWithoutADigestTheBodyIsNotRead() throws {
        let (status, body, progress) = try run("HTTP/1.0 200 OK\r\n\r\nendless endless endless", piece: 100, readsBody: false)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body, "")
        XCTAssertEqual(progress, .complete)
    }

    func testFailures() {
        XCTAssertThrowsError(try run("SSH-2.0-OpenSSH\r\n\r\n", piece: 100)) { XCTAssertEqual($0 as? HTTPResponseParser.Failure, .malformedStatusLine("SSH-2.0-OpenSSH")) }
        // Refused as soon as the first bytes cannot begin a status line, without waiting for more.
        XCTAssertThrowsError(try run("SSH-2.0-OpenSSH\r\n\r\n", piece: 4)) { XCTAssertEqual($0 as? HTTPResponseParser.Failure, .malformedStatusLine("SSH-")) }
        XCTAssertThrowsError(try run("\u{16}\u{3}\u{1}garbage", piece: 100)) { XCTAssertEqual($0 as? HTTPResponseParser.Failure, .malformedStatusLine("...garbage")) }
        XCTAssertThrowsError(try run("HTTP/1.0 2000 OK\r\n\r\n", piece: 4)) { XCTAssertNotNil($0 as? HTTPResponseParser.Failure) }
        let endlessHeaders = "HTTP/1.0 200 OK\r\n" + String(repeating: "X-Filler: 0123456789\r\n", count: 4000)
        XCTAssertThrowsError(try run(endlessHeaders, piece: 1000)) {
            XCTAssertEqual($0 as? HTTPResponseParser.Failure, .headersTooLarge(HTTPResponseParser.maximumHeaderBytes))
        }
        XCTAssertThrowsError(try run("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort", piece: 7, close: true)) {
            XCTAssertEqual($0 as? HTTPResponseParser.Failure, .truncated)
        }
        XCTAssertThrowsError(try run("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 5000), piece: 512, limit: 4096)) {
            XCTAssertEqual($0 as? HTTPResponseParser.Failure, .bodyTooLarge(4096))
        }
        XCTAssertThrowsError(try run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", piece: 5)) {
            XCTAssertEqual($0 as? HTTPResponseParser.Failure, .malformedChunk)
        }
    }

    func testRequestWording() {
        XCTAssertEqual(String(decoding: HTTPRequest.bytes(path: "/a", host: "example.org", version: .http10), as: UTF8.self),
                       "GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: example.org\r\n\r\n")
        XCTAssertEqual(String(decoding: HTTPRequest.bytes(path: "/", host: "h", version: .http11), as: UTF8.self),
                       "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nHost: h\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(HTTPRequest.host(virtualhost: nil, address: IPAddress("192.0.2.1")!, port: 80, tls: false), "192.0.2.1")
        XCTAssertEqual(HTTPRequest.host(virtualhost: nil, address: IPAddress("2001:db8::1")!, port: 8443, tls: true), "[2001:db8::1]:8443")
        XCTAssertEqual(HTTPRequest.host(virtualhost: "www.example.org", address: IPAddress("192.0.2.1")!, port: 443, tls: true), "www.example.org")
    }
}
