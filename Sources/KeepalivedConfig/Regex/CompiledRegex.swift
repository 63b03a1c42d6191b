import CPCRE2

/// A PCRE2 pattern, compiled once and shared by every check that uses it (a compiled pattern is
/// read-only; each match brings its own match data). The only place with PCRE2 calls.
public final class CompiledRegex: @unchecked Sendable {
    /// keepalived's `regex_options` words and the PCRE2 flags they set.
    public static let optionFlags: [String: UInt32] = [
        "allow_empty_class": UInt32(PCRE2_ALLOW_EMPTY_CLASS), "alt_bsux": UInt32(PCRE2_ALT_BSUX),
        "auto_callout": UInt32(PCRE2_AUTO_CALLOUT), "caseless": UInt32(PCRE2_CASELESS),
        "dollar_endonly": UInt32(PCRE2_DOLLAR_ENDONLY), "dotall": UInt32(PCRE2_DOTALL), "dupnames": UInt32(PCRE2_DUPNAMES),
        "extended": UInt32(PCRE2_EXTENDED), "firstline": UInt32(PCRE2_FIRSTLINE),
        "match_unset_backref": UInt32(PCRE2_MATCH_UNSET_BACKREF), "multiline": UInt32(PCRE2_MULTILINE),
        "never_ucp": UInt32(PCRE2_NEVER_UCP), "never_utf": UInt32(PCRE2_NEVER_UTF),
        "no_auto_capture": UInt32(PCRE2_NO_AUTO_CAPTURE), "no_auto_possess": UInt32(PCRE2_NO_AUTO_POSSESS),
        "no_dotstar_anchor": UInt32(PCRE2_NO_DOTSTAR_ANCHOR), "no_start_optimize": UInt32(PCRE2_NO_START_OPTIMIZE),
        "ucp": UInt32(PCRE2_UCP), "ungreedy": UInt32(PCRE2_UNGREEDY), "utf": UInt32(PCRE2_UTF),
        "never_backslash_c": UInt32(PCRE2_NEVER_BACKSLASH_C), "alt_circumflex": UInt32(PCRE2_ALT_CIRCUMFLEX),
        "alt_verbnames": UInt32(PCRE2_ALT_VERBNAMES), "use_offset_limit": UInt32(PCRE2_USE_OFFSET_LIMIT),
    ]

    public struct CompileError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public let offset: Int
        public var description: String { "\(message) at offset \(offset)" }
    }

    /// What one match call found.
    public enum Match: Sendable, Equatable {
        /// A whole match starting at this offset of the subject.
        case found(at: Int)
        /// The subject ended inside a possible match that starts at this offset: more bytes may complete it.
        case partial(from: Int)
        case none
        case failed(Int32)
    }

    private let code: OpaquePointer
    /// How many bytes before a match's start the pattern may look at.
    public let maxLookbehind: Int

    public init(pattern: String, options: [String] = []) throws {
        let flags = options.reduce(UInt32(0)) { $0 | (Self.optionFlags[$1] ?? 0) }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = pattern.withCString { text in
            text.withMemoryRebound(to: UInt8.self, capacity: pattern.utf8.count + 1) {
                pcre2_compile_8($0, pattern.utf8.count, flags, &errorCode, &errorOffset, nil)
            }
        }
        guard let compiled else { throw CompileError(message: Self.message(errorCode), offset: errorOffset) }
        code = compiled
        var lookbehind: UInt32 = 0
        _ = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_MAXLOOKBEHIND), &lookbehind)
        maxLookbehind = Int(lookbehind)
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// Matches `subject` from `start`. With `partial` (PCRE2_PARTIAL_HARD), a match that may go
    /// on past the subject's end is reported as partial rather than as whatever completes early:
    /// for a subject that arrives in pieces; the last piece is matched without it.
    public func match(_ subject: UnsafeRawBufferPointer, from start: Int, partial: Bool = true) -> Match {
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else { return .failed(PCRE2_ERROR_NOMEMORY) }
        defer { pcre2_match_data_free_8(data) }
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        let result = pcre2_match_8(code, base, subject.count, start, partial ? UInt32(PCRE2_PARTIAL_HARD) : 0, data, nil)
        let vector = pcre2_get_ovector_pointer_8(data)!
        switch result {
        case PCRE2_ERROR_PARTIAL: return .partial(from: vector[0])
        case PCRE2_ERROR_NOMATCH: return .none
        case ..<0: return .failed(result)
        default: return .found(at: vector[0])
        }
    }

    static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        return length > 0 ? String(decoding: buffer[..<Int(length)], as: UTF8.self) : "PCRE2 error \(code)"
    }
}
