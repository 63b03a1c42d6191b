/// Reads an HTTP response as it arrives, in pieces of any size: the status line and headers
/// (bounded), then the body framed by Content-Length, chunked transfer coding, or the end of the
/// connection. Body bytes are handed on, never kept, so a huge or endless body costs no memory;
/// without a digest to compute the body is not read at all. Pure.
public struct HTTPResponseParser: Sendable {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformedStatusLine(String)
        case headersTooLarge(Int)
        case malformedChunk
        case bodyTooLarge(Int)
        case truncated

        public var description: String {
            switch self {
            case .malformedStatusLine(let line): return "not an HTTP response (status line '\(line)')"
            case .headersTooLarge(let limit): return "headers longer than \(limit) bytes"
            case .malformedChunk: return "malformed chunked body"
            case .bodyTooLarge(let limit): return "body longer than \(limit) bytes"
            case .truncated: return "connection closed before the end of the response"
            }
        }
    }

    public enum Progress: Sendable, Equatable {
        case needMore
        case complete
    }

    private enum Framing: Sendable {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum ChunkState: Sendable {
        case size
        case data(Int)
        case dataEnd
        case trailer
    }

    public static let maximumHeaderBytes = 64 * 1024
    public static let maximumChunkLine = 1024

    public private(set) var statusCode: Int?
    private let readsBody: Bool
    private let maximumBodyBytes: Int
    private var header: [UInt8] = []
    private var framing: Framing?
    private var chunk = ChunkState.size
    private var line: [UInt8] = []
    private var bodyBytes = 0
    private var done = false

    /// `readsBody` when a digest needs the body; `maximumBodyBytes` bounds what is read then.
    public init(readsBody: Bool, maximumBodyBytes: Int = 16 * 1024 * 1024) {
        self.readsBody = readsBody
        self.maximumBodyBytes = maximumBodyBytes
    }

    /// Whether the body is chunked (known once the headers are in).
    public var isChunked: Bool {
        if case .chunked? = framing { return true }
        return false
    }

    /// Takes the next bytes received; `body` gets the body's bytes (de-chunked) in order, and
    /// `chunkedBody` the same part of a chunked response as sent, chunk sizes and all (what
    /// keepalived's genhash hashes).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void,
                              chunkedBody: (UnsafeRawBufferPointer) -> Void = { _ in }) throws(Failure) -> Progress {
        guard !done else { return .complete }
        var rest = bytes[...]
        if framing == nil {
            guard let afterHeader = try takeHeader(&rest) else { return .needMore }
            rest = afterHeader
            if done { return .complete }
        }
        try takeBody(UnsafeRawBufferPointer(rebasing: rest), body: body, chunkedBody: chunkedBody)
        return done ? .complete : .needMore
    }

    /// The peer closed the connection: a body framed by the close ends here; anything else is cut short.
    public mutating func finish() throws(Failure) -> Progress {
        if done { return .complete }
        if case .untilClose? = framing {
            done = true
            return .complete
        }
        throw .truncated
    }

    // MARK: Status line and headers

    /// Collects header bytes; returns the bytes after the blank line once it has been seen.
    private mutating func takeHeader(_ bytes: inout Slice<UnsafeRawBufferPointer>) throws(Failure) -> Slice<UnsafeRawBufferPointer>? {
        let searchFrom = max(header.count - 3, 0)
        header.append(contentsOf: bytes)
        // Anything that does not start like a status line is refused at once, not after the close.
        let prefix = Array("HTTP/".utf8)
        if !header.starts(with: prefix.prefix(header.count)) && !prefix.starts(with: header.prefix(prefix.count)) {
            let line = header.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }.prefix(40)
            throw .malformedStatusLine(String(decoding: line.map { (32...126).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self))
        }
        guard let end = Self.headerEnd(header, from: searchFrom) else {
            if header.count > Self.maximumHeaderBytes { throw .headersTooLarge(Self.maximumHeaderBytes) }
            return nil
        }
        if end.headerLength > Self.maximumHeaderBytes { throw .headersTooLarge(Self.maximumHeaderBytes) }
        let consumedFromThisPiece = end.bodyStart - (header.count - bytes.count)
        let text = String(decoding: header[..<end.headerLength], as: UTF8.self)
        header = []
        try interpret(text)
        return bytes[(bytes.startIndex + consumedFromThisPiece)...]
    }

    private static func headerEnd(_ bytes: [UInt8], from start: Int) -> (headerLength: Int, bodyStart: Int)? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n") { return (index, index + 2) }
                if index + 2 < bytes.count && bytes[index + 1] == UInt8(ascii: "\r") && bytes[index + 2] == UInt8(ascii: "\n") {
                    return (index, index + 3)
                }
            }
            index += 1
        }
        return nil
    }

    private mutating func interpret(_ text: String) throws(Failure) {
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        let statusLine = lines.first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let code = Int(parts[1]), (100...999).contains(code) else {
            throw .malformedStatusLine(String(statusLine.prefix(80)))
        }
        statusCode = code
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            if name == "content-length", let number = Int(value), number >= 0 { length = number }
            if name == "transfer-encoding", value.lowercased().split(separator: ",").last.map({ $0.trimmingCharacters(in: " \t") == "chunked" }) == true {
                chunked = true
            }
        }
        if !readsBody || code / 100 == 1 || code == 204 || code == 304 {
            framing = .length(0)
            done = true
        } else if chunked {
            framing = .chunked
        } else if let length {
            if length > maximumBodyBytes { throw .bodyTooLarge(maximumBodyBytes) }
            framing = .length(length)
            if length == 0 { done = true }
        } else {
            framing = .untilClose
        }
    }

    // MARK: Body

    private mutating func takeBody(_ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void,
                                   chunkedBody: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        guard !bytes.isEmpty, let framing else { return }
        switch framing {
        case .length(let remaining):
            let taken = min(remaining, bytes.count)
            try deliver(UnsafeRawBufferPointer(rebasing: bytes[..<taken]), body: body)
            self.framing = .length(remaining - taken)
            if remaining - taken == 0 { done = true }
        case .untilClose:
            try deliver(bytes, body: body)
        case .chunked:
            let consumed = try takeChunked(bytes, body: body)
            chunkedBody(UnsafeRawBufferPointer(rebasing: bytes[..<consumed]))
        }
    }

    private mutating func deliver(_ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        bodyBytes += bytes.count
        if bodyBytes > maximumBodyBytes { throw .bodyTooLarge(maximumBodyBytes) }
        if !bytes.isEmpty { body(bytes) }
    }

    /// Returns how many of `bytes` belonged to the body.
    private mutating func takeChunked(_ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void) throws(Failure) -> Int {
        var index = 0
        while index < bytes.count && !done {
            switch chunk {
            case .data(let remaining):
                let taken = min(remaining, bytes.count - index)
                try deliver(UnsafeRawBufferPointer(rebasing: bytes[index..<index + taken]), body: body)
                index += taken
                chunk = remaining - taken == 0 ? .dataEnd : .data(remaining - taken)
            case .dataEnd:
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\n") { chunk = .size } else if byte != UInt8(ascii: "\r") { throw .malformedChunk }
            case .size, .trailer:
                let byte = bytes[index]
                index += 1
                guard byte == UInt8(ascii: "\n") else {
                    line.append(byte)
                    if line.count > Self.maximumChunkLine { throw .malformedChunk }
                    continue
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                defer { line.removeAll(keepingCapacity: true) }
                if case .trailer = chunk {
                    if line.isEmpty { done = true }
                    continue
                }
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
                guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                    throw .malformedChunk
                }
                chunk = size == 0 ? .trailer : .data(size)
            }
        }
        return index
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

private extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        Substring(self).trimmingCharacters(in: set)
    }
}
