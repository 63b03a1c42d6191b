#if canImport(Glibc)
import Glibc
#endif
import XCTest
import DaemonCore
import KeepalivedConfig

final class HTTPMessageTests: XCTestCase {
    func testRequestHead() {
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)), .incomplete)
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n".utf8)), .request(HTTPRequest(method: "GET", path: "/metrics", keepAlive: true, length: 38)))
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET /json HTTP/1.0\n\nGET".utf8)), .request(HTTPRequest(method: "GET", path: "/json", length: 20)))
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET / HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)), .request(HTTPRequest(method: "GET", path: "/", length: 37)))
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n".utf8)),
                       .request(HTTPRequest(method: "GET", path: "/", keepAlive: true, length: 42)))
        XCTAssertEqual(HTTPRequestHead.parse(Array("hello\r\n\r\n".utf8)), .malformed)
        XCTAssertEqual(HTTPRequestHead.parse(Array("GET metrics HTTP/1.1\r\n\r\n".utf8)), .malformed)
    }

    func testAcceptEncodingAsPrometheusAndCurlSendIt() {
        func gzip(_ header: String) -> Bool {
            guard case .request(let request) = HTTPRequestHead.parse(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\(header)\r\n\r\n".utf8)) else { return false }
            return request.acceptsGzip
        }
        XCTAssertTrue(gzip("Accept-Encoding: gzip"))
        XCTAssertTrue(gzip("accept-encoding: deflate, gzip;q=0.5"))
        XCTAssertTrue(gzip("Accept-Encoding: *"))
        XCTAssertFalse(gzip("Accept-Encoding: gzip;q=0"))
        XCTAssertFalse(gzip("Accept-Encoding: gzip; q=0.0"))
        XCTAssertFalse(gzip("Accept-Encoding: deflate, br"))
        XCTAssertFalse(gzip("X-Accept-Encoding-Hint: gzip"))
        let compressed = String(decoding: HTTPResponse(status: 200, body: [1], contentEncoding: "gzip").head, as: UTF8.self)
        XCTAssertTrue(compressed.contains("\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"))
    }

    func testResponseClosesTheConnection() {
        let response = HTTPResponse(status: 404, text: "no\n")
        let text = String(decoding: response.head + response.body, as: UTF8.self)
        XCTAssertEqual(text, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno\n")
        XCTAssertFalse(String(decoding: HTTPResponse(status: 200, text: "body").head, as: UTF8.self).contains("body"))
    }

    func testListenAddress() {
        XCTAssertEqual(ListenAddress("127.0.0.1:9165"), ListenAddress(address: IPAddress("127.0.0.1"), port: 9165))
        XCTAssertEqual(ListenAddress("[::1]:9165"), ListenAddress(address: IPAddress("::1"), port: 9165))
        XCTAssertEqual(ListenAddress(":9165"), ListenAddress(address: nil, port: 9165))
        XCTAssertEqual(ListenAddress("[::1]:9165")?.description, "[::1]:9165")
        for bad in ["9165", "::1:9165", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host:80", "[127.0.0.1]:80", "[::1:80"] {
            XCTAssertNil(ListenAddress(bad), bad)
        }
    }
}

/// The server on loopback (no VRRP, ARP or check traffic: plain HTTP to 127.0.0.1).
final class HTTPListenerTests: XCTestCase {
    private func exchange(port: UInt16, send request: [UInt8], closeAfter: Bool = false) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    func testServesOneRequestPerConnectionAndBoundsItsSize() throws {
        let big = String(repeating: "x", count: 300_000)
        let listener = try HTTPListener(address: ListenAddress(address: IPAddress("127.0.0.1"), port: 0)) { _, path, _, reply in
            // An answer made later on another thread, as the daemon's loop makes them.
            if path == "/later" {
                return DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { reply(HTTPResponse(status: 200, text: "later\n")) }
            }
            if path == "/file", let file = try? FileBody(Array(big.utf8)) {
                return reply(HTTPResponse(status: 200, contentType: "text/plain", file: file))
            }
            reply(path == "/big" ? HTTPResponse(status: 200, text: big) : HTTPResponse(status: 200, text: "path \(path)\n"))
        }
        listener.start()
        defer { listener.stop() }
        let answer = try exchange(port: listener.port, send: Array("GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), answer)
        XCTAssertTrue(answer.contains("Connection: close\r\n"))
        XCTAssertTrue(answer.hasSuffix("\r\n\r\npath /metrics\n"))
        // A body larger than the socket buffer goes out in pieces.
        let large = try exchange(port: listener.port, send: Array("GET /big HTTP/1.0\r\n\r\n".utf8))
        XCTAssertTrue(large.hasSuffix(big))
        // The same from an in-memory file, with sendfile.
        let fromFile = try exchange(port: listener.port, send: Array("GET /file HTTP/1.0\r\n\r\n".utf8))
        XCTAssertTrue(fromFile.contains("Content-Length: 300000\r\n") && fromFile.hasSuffix("\r\n\r\n" + big), String(fromFile.prefix(200)))
        let tooLarge = try exchange(port: listener.port, send: Array(("GET /x HTTP/1.1\r\nX: " + String(repeating: "y", count: 9000)).utf8))
        XCTAssertTrue(tooLarge.hasPrefix("HTTP/1.1 431 "), tooLarge)
        let post = try exchange(port: listener.port, send: Array("POST /metrics HTTP/1.1\r\n\r\n".utf8))
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 405 "), post)
        let head = try exchange(port: listener.port, send: Array("HEAD /metrics HTTP/1.0\r\n\r\n".utf8))
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"), head)
        // HTTP/1.1 keeps the connection: two requests sent together get two answers, the second
        // one closing as asked.
        let two = try exchange(port: listener.port, send: Array("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertTrue(two.hasPrefix("HTTP/1.1 200 OK\r\n") && two.contains("Connection: keep-alive\r\n\r\npath /a\nHTTP/1.1 200 OK\r\n"), two)
        XCTAssertTrue(two.hasSuffix("Connection: close\r\n\r\npath /b\n"), two)
        // Answers made on another thread keep the order of the requests they answer.
        let late = try exchange(port: listener.port, send: Array("GET /later HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\nGET /later HTTP/1.1\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertEqual(late.components(separatedBy: "HTTP/1.1 200 OK").count, 4, late)
        XCTAssertTrue(late.contains("\r\n\r\nlater\nHTTP/1.1 200 OK") && late.contains("\r\n\r\npath /c\nHTTP/1.1 200 OK") && late.hasSuffix("Connection: close\r\n\r\nlater\n"), late)
        // A client that starts a request and never ends it is dropped after the idle time-out
        // (the listener's sweep, once a second).
        let began = ContinuousClock.now
        let silent = try exchange(port: listener.port, send: Array("GET /slow HTTP/1.1\r\n".utf8))
        let waited = ContinuousClock.now - began
        XCTAssertEqual(silent, "", "an unfinished request gets no answer")
        XCTAssertGreaterThanOrEqual(waited, .seconds(HTTPListener.idleTimeout - 0.1))
        XCTAssertLessThan(waited, .seconds(HTTPListener.idleTimeout + 2))
    }
}
