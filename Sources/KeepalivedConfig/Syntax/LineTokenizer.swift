/// A `{` or `}` on a line, and how many of the line's words come before it.
struct BraceMark: Equatable, Sendable {
    var wordsBefore: Int
    var isOpen: Bool
}

/// What a line turned into, with anything odd about it for the caller to report.
struct TokenizedLine: Sendable {
    var words: [String] = []
    var braces: [BraceMark] = []
    var unterminatedQuote = false
    /// A `#` or `!` glued to a word: keepalived cuts the word there, which surprises people
    /// (`auth_pass ab!cd` means `ab`), so it is worth a warning.
    var commentInsideWord = false
}

/// Splits one line into words and braces the way keepalived does: `#` and `!` start a comment
/// anywhere outside quotes, `"` and `'` group text (quotes may start mid-word and are removed),
/// backslash escapes work inside quotes, and `{` / `}` are tokens of their own even when glued
/// to a word (`global_defs{`). `include` lines keep braces inside words for csh-style globs.
enum LineTokenizer {
    static func tokenize(_ line: ArraySlice<UInt8>, bracesAreWords: Bool = false) -> TokenizedLine {
        var result = TokenizedLine()
        tokenize(line, bracesAreWords: bracesAreWords, into: &result)
        return result
    }

    /// Tokenizes into `result`, reusing its token storage: the reader calls this once per line.
    static func tokenize(_ line: ArraySlice<UInt8>, bracesAreWords: Bool = false, into result: inout TokenizedLine) {
        result.words.removeAll(keepingCapacity: true)
        result.braces.removeAll(keepingCapacity: true)
        result.unterminatedQuote = false
        result.commentInsideWord = false
        var index = line.startIndex
        let end = line.endIndex
        while index < end {
            let byte = line[index]
            if isSpace(byte) {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "#") || byte == UInt8(ascii: "!") { break }
            if !bracesAreWords {
                if byte == UInt8(ascii: "{") {
                    result.braces.append(BraceMark(wordsBefore: result.words.count, isOpen: true))
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "}") {
                    result.braces.append(BraceMark(wordsBefore: result.words.count, isOpen: false))
                    index += 1
                    continue
                }
            }
            // Fast path: a plain word is decoded straight from the line; quotes fall back to a copy.
            let wordStart = index
            var plainEnd = index
            while plainEnd < end {
                let c = line[plainEnd]
                if isSpace(c) || c == UInt8(ascii: "#") || c == UInt8(ascii: "!") || c == UInt8(ascii: "\"")
                    || c == UInt8(ascii: "'") || (!bracesAreWords && (c == UInt8(ascii: "{") || c == UInt8(ascii: "}"))) { break }
                plainEnd += 1
            }
            if plainEnd == end || (line[plainEnd] != UInt8(ascii: "\"") && line[plainEnd] != UInt8(ascii: "'")) {
                index = plainEnd
                result.words.append(String(decoding: line[wordStart..<plainEnd], as: UTF8.self))
                if index < end && (line[index] == UInt8(ascii: "#") || line[index] == UInt8(ascii: "!")) {
                    result.commentInsideWord = true
                    break
                }
                continue
            }
            var word: [UInt8] = Array(line[wordStart..<plainEnd])
            index = plainEnd
            var quote: UInt8? = nil
            var hitComment = false
            while index < end {
                let c = line[index]
                if let open = quote {
                    if c == open {
                        quote = nil
                        index += 1
                        continue
                    }
                    if c == UInt8(ascii: "\\") && index + 1 < end {
                        index = appendEscape(line, from: index + 1, into: &word)
                        continue
                    }
                    word.append(c)
                    index += 1
                    continue
                }
                if isSpace(c) { break }
                if !bracesAreWords && (c == UInt8(ascii: "{") || c == UInt8(ascii: "}")) { break }
                if c == UInt8(ascii: "#") || c == UInt8(ascii: "!") {
                    hitComment = true
                    break
                }
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                    index += 1
                    continue
                }
                word.append(c)
                index += 1
            }
            if quote != nil { result.unterminatedQuote = true }
            result.words.append(String(decoding: word, as: UTF8.self))
            if hitComment {
                result.commentInsideWord = true
                break
            }
        }
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == 0x0B || byte == 0x0C || byte == UInt8(ascii: "\r")
    }

    /// Decodes the escape whose letter is at `index` (just past the backslash) and returns where
    /// scanning resumes. The set is keepalived's: \a \b \E \f \n \r \t \v, octal \nnn, hex \xXX,
    /// control \cC; any other \C is C itself.
    private static func appendEscape(_ line: ArraySlice<UInt8>, from index: Int, into word: inout [UInt8]) -> Int {
        let c = line[index]
        switch c {
        case UInt8(ascii: "a"): word.append(0x07)
        case UInt8(ascii: "b"): word.append(0x08)
        case UInt8(ascii: "E"): word.append(0x1B)
        case UInt8(ascii: "f"): word.append(0x0C)
        case UInt8(ascii: "n"): word.append(0x0A)
        case UInt8(ascii: "r"): word.append(0x0D)
        case UInt8(ascii: "t"): word.append(0x09)
        case UInt8(ascii: "v"): word.append(0x0B)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = 0
            var next = index
            while next < line.endIndex, next < index + 3, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(line[next]) {
                value = value * 8 + Int(line[next] - UInt8(ascii: "0"))
                next += 1
            }
            word.append(UInt8(truncatingIfNeeded: value))
            return next
        case UInt8(ascii: "x"):
            var value = 0
            var next = index + 1
            while next < line.endIndex, let digit = hexValue(line[next]) {
                value = (value &* 16 &+ digit) & 0xFF
                next += 1
            }
            if next == index + 1 { word.append(c) } else { word.append(UInt8(value)) }
            return next
        case UInt8(ascii: "c") where index + 1 < line.endIndex:
            word.append(line[index + 1] & 0x1F)
            return index + 2
        default:
            word.append(c)
        }
        return index + 1
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
