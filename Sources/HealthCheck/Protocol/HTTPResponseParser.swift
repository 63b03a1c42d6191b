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
    private static let statusPrefix = Array("HTTP/".utf8)

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
        let prefix = Self.statusPrefix
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
        let lines = Self.lines(header[..<end.headerLength])
        defer { header = [] }
        try interpret(lines)
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

    /// The header's lines, without their line ends, as byte slices (checks run by the hundred a
    /// second: no String per line).
    private static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        lines.reserveCapacity(16)
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append(trimmed(bytes[start..<index]))
            start = index + 1
        }
        if start < bytes.endIndex { lines.append(trimmed(bytes[start...])) }
        return lines
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice = slice.dropFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        return slice
    }

    /// Whether `bytes` starts with `name` followed by a colon, ignoring case; returns the value.
    private static func value(of name: String, in line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let name = name.utf8
        guard line.count > name.count, line[line.startIndex + name.count] == UInt8(ascii: ":") else { return nil }
        for (offset, expected) in name.enumerated() where line[line.startIndex + offset] | 0x20 != expected { return nil }
        return trimmed(line[(line.startIndex + name.count + 1)...])
    }

    private mutating func interpret(_ lines: [ArraySlice<UInt8>]) throws(Failure) {
        let statusLine = lines.first ?? []
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].starts(with: Self.statusPrefix), parts[1].count == 3,
              parts[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw .malformedStatusLine(String(decoding: statusLine.prefix(80), as: UTF8.self))
        }
        let code = parts[1].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (100...999).contains(code) else { throw .malformedStatusLine(String(decoding: statusLine.prefix(80), as: UTF8.self)) }
        statusCode = code
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            if let value = Self.value(of: "content-length", in: line) {
                if let number = Int(String(decoding: value, as: UTF8.self)), number >= 0 { length = number }
            } else if let value = Self.value(of: "transfer-encoding", in: line) {
                let last = value.split(separator: UInt8(ascii: ",")).last.map { Self.trimmed($0) } ?? []
                chunked = last.count == 7 && zip(last, "chunked".utf8).allSatisfy { $0 | 0x20 == $1 }
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
