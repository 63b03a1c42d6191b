import CZlib

/// A piece of text compressed on its own, so that pieces can be joined into one gzip stream
/// without compressing anything again (as pigz joins its blocks): raw deflate ended on a byte
/// boundary by a sync flush and never marked final, with the text's CRC-32 and length. /metrics
/// keeps the pieces of what did not change since the last scrape and compresses only the rest.
public struct DeflatedPiece: Sendable, Equatable {
    public let text: [UInt8]
    public let deflated: [UInt8]
    let crc: UInt

    init(text: [UInt8], deflated: [UInt8]) {
        self.text = text
        self.deflated = deflated
        crc = text.withUnsafeBufferPointer { UInt(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    /// The pieces' texts, one after the other.
    public static func text(_ pieces: [DeflatedPiece]) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(pieces.reduce(0) { $0 + $1.text.count })
        for piece in pieces { text.append(contentsOf: piece.text) }
        return text
    }

    /// One gzip member (RFC 1952) holding the pieces' texts in order: the header, the pieces'
    /// deflate blocks, an empty final block, the CRC-32 of the whole text and its length.
    public static func gzip(_ pieces: [DeflatedPiece]) -> [UInt8] {
        var member: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        member.reserveCapacity(pieces.reduce(18) { $0 + $1.deflated.count })
        var crc: uLong = 0
        var length = 0
        for piece in pieces where !piece.text.isEmpty {
            member.append(contentsOf: piece.deflated)
            crc = crc32_combine(crc, uLong(piece.crc), off_t(piece.text.count))
            length += piece.text.count
        }
        // A final fixed-Huffman block holding only its end code.
        member.append(contentsOf: [0x03, 0x00])
        for value in [UInt32(truncatingIfNeeded: crc), UInt32(truncatingIfNeeded: length)] {
            member.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
        }
        return member
    }
}

/// zlib's compressor, made once and reset for each piece. Not for several threads at once.
public final class Deflater: @unchecked Sendable {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let ready: Bool

    /// Level 1: pieces are compressed again whenever their text changes, and the gain of higher
    /// levels on metrics text is small.
    public init(level: Int32 = 1) {
        stream.initialize(to: z_stream())
        // Raw deflate (negative window bits): the gzip header and trailer are written by `gzip`.
        ready = deflateInit2_(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if ready { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// `text` compressed as a piece. Were zlib unable to start (out of memory), the piece is
    /// stored uncompressed, which is valid deflate too.
    public func piece(_ text: [UInt8]) -> DeflatedPiece {
        guard !text.isEmpty else { return DeflatedPiece(text: text, deflated: []) }
        guard ready, deflateReset(stream) == Z_OK else { return DeflatedPiece(text: text, deflated: Self.stored(text)) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(text.count))) + 16)
        let produced = text.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out -> Int in
                // zlib's field is not const, but deflate only reads the input.
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.pointee.avail_in = uInt(input.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let status = deflate(stream, Z_SYNC_FLUSH)
                guard status == Z_OK, stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 else { return -1 }
                return out.count - Int(stream.pointee.avail_out)
            }
        }
        guard produced >= 0 else { return DeflatedPiece(text: text, deflated: Self.stored(text)) }
        output.removeSubrange(produced...)
        return DeflatedPiece(text: text, deflated: output)
    }

    /// `text` as non-final stored blocks (at most 65,535 bytes each).
    static func stored(_ text: [UInt8]) -> [UInt8] {
        var blocks: [UInt8] = []
        var start = 0
        while start < text.count {
            let length = min(65_535, text.count - start)
            blocks.append(0)
            blocks.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8((~length >> 8) & 0xff)])
            blocks.append(contentsOf: text[start..<start + length])
            start += length
        }
        return blocks
    }
}
