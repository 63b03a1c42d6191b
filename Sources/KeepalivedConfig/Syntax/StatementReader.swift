/// Turns the main config file, and every file it includes, into a stream of statements.
///
/// It does what keepalived does before keyword parsing: comments, `include` (globs, relative to the
/// including file's folder, nested), `$NAME=value` definitions (with `\` continuation lines) and
/// `$NAME` / `${NAME}` substitution, `@id` / `@^id` conditional lines, and braces wherever they
/// stand. Problems are reported to `diagnostics` with the file and line they are on; reading goes on.
struct StatementReader {
    /// A file being read: its bytes come in chunks and are cut into lines here.
    private struct OpenFile {
        let path: String
        let fileNumber: UInt32
        let directory: String
        let chunks: FileChunks
        var buffer: [UInt8] = []
        var position = 0
        var line = 0
        var atEnd = false

        init(path: String, directory: String, chunks: FileChunks) {
            self.path = path
            self.fileNumber = SourceFiles.number(for: path)
            self.directory = directory
            self.chunks = chunks
        }

        /// The next line without its line end, or nil at the end of the file. The slice must be
        /// dropped before the next call, which may compact the buffer.
        mutating func nextLine() -> ArraySlice<UInt8>? {
            var searchFrom = position
            while true {
                if let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                    let start = position
                    position = newline + 1
                    line += 1
                    return trimmed(start, newline)
                }
                if atEnd {
                    guard position < buffer.count else { return nil }
                    let start = position
                    position = buffer.count
                    line += 1
                    return trimmed(start, buffer.count)
                }
                buffer.removeSubrange(0..<position)
                position = 0
                searchFrom = buffer.count
                atEnd = !chunks.append(to: &buffer)
            }
        }

        private func trimmed(_ start: Int, _ end: Int) -> ArraySlice<UInt8> {
            var end = end
            if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            return buffer[start..<end]
        }
    }

    private static let includeKeywords: Set<String> = ["include", "includer", "includem", "includew", "includeb", "includea"]
    private static let maximumIncludeDepth = 32
    private static let maximumSubstitutionDepth = 32

    private let fileSystem: any ConfigFileSystem
    private let configID: String
    private var files: [OpenFile] = []
    private var definitions: [String: String] = [:]
    /// Items of the current line, last first, so `popLast` hands them out in order without copies.
    private var ready: [StreamItem] = []
    /// The last line's statement, held back until we know whether a `{` opens on the next line.
    private var heldStatement: Statement?
    /// Lines produced by a multi-line definition, to be read before the file continues.
    private var expandedLines: [(text: ArraySlice<UInt8>, location: SourceLocation)] = []
    private var expandedIndex = 0
    var diagnostics = Diagnostics()
    /// The current line's tokens; kept between lines so its storage is reused.
    private var scratch = TokenizedLine()

    init(mainFile: String, fileSystem: any ConfigFileSystem, configID: String) {
        self.fileSystem = fileSystem
        self.configID = configID
        definitions["_HASH"] = "#"
        definitions["_INSTANCE"] = configID
        open(path: mainFile, includedFrom: nil)
    }

    /// The next item, or nil at the end of the last file.
    mutating func next() -> StreamItem? {
        while ready.isEmpty {
            guard let (text, location) = nextLine() else {
                flushHeld()
                return ready.popLast()
            }
            process(line: text, location: location)
            ready.reverse()
        }
        return ready.popLast()
    }

    // MARK: Files

    private mutating func open(path: String, includedFrom: SourceLocation?) {
        guard let chunks = fileSystem.open(path) else {
            let location = includedFrom ?? SourceLocation(file: path, line: 0)
            diagnostics.error(location, includedFrom == nil
                ? "cannot read configuration file \(path)"
                : "cannot read included file \(path)")
            return
        }
        let directory = Self.directory(of: path)
        files.append(OpenFile(path: path, directory: directory, chunks: chunks))
        definitions["_PWD"] = directory
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The next raw line (without its line end) from the expansion queue or the innermost file.
    private mutating func nextLine() -> (text: ArraySlice<UInt8>, location: SourceLocation)? {
        if expandedIndex < expandedLines.count {
            defer { expandedIndex += 1 }
            return expandedLines[expandedIndex]
        }
        expandedLines.removeAll(keepingCapacity: true)
        expandedIndex = 0
        while !files.isEmpty {
            let top = files.count - 1
            if let line = files[top].nextLine() {
                return (line, SourceLocation(fileNumber: files[top].fileNumber, line: files[top].line))
            }
            files.removeLast()
            if let outer = files.last { definitions["_PWD"] = outer.directory }
        }
        return nil
    }

    // MARK: Lines

    private mutating func process(line: ArraySlice<UInt8>, location: SourceLocation) {
        var start = line.startIndex
        while start < line.endIndex && LineTokenizer.isSpace(line[start]) { start += 1 }
        guard start < line.endIndex else { return }
        let firstByte = line[start]
        if firstByte == UInt8(ascii: "#") || firstByte == UInt8(ascii: "!") { return }
        var lineBytes = line
        if firstByte == UInt8(ascii: "@") {
            guard let rest = conditionalRemainder(line[start...]) else { return }
            lineBytes = rest
        }
        if firstByte == UInt8(ascii: "$"), let (name, value) = definition(in: line[start...], location: location) {
            definitions[name] = value
            return
        }
        if lineBytes.contains(UInt8(ascii: "$")) {
            lineBytes = substitute(Array(lineBytes), location: location, depth: 0)[...]
            if let newline = lineBytes.firstIndex(of: UInt8(ascii: "\n")) {
                // A multi-line definition: its lines are read next, in place of this one.
                var pending: [(text: ArraySlice<UInt8>, location: SourceLocation)] = []
                for part in lineBytes[(newline + 1)...].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                    pending.append((part, location))
                }
                expandedLines.insert(contentsOf: pending, at: expandedIndex)
                lineBytes = lineBytes[..<newline]
            }
        }
        LineTokenizer.tokenize(lineBytes, into: &scratch)
        if let first = scratch.words.first, first.utf8.first == UInt8(ascii: "i"), scratch.braces.first?.wordsBefore != 0,
           Self.includeKeywords.contains(first) {
            include(LineTokenizer.tokenize(lineBytes, bracesAreWords: true).words, location: location)
            return
        }
        if scratch.unterminatedQuote {
            diagnostics.error(location, "unterminated quoted string")
        }
        if scratch.commentInsideWord {
            diagnostics.warning(location, "'#' or '!' inside a word starts a comment: the rest of the line is ignored (quote the value to keep it)")
        }
        assemble(location: location)
    }

    /// For an `@id` / `@^id` line, the text after the condition when it applies to this host's
    /// config id, or nil when the line is for another host.
    private func conditionalRemainder(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var index = text.index(after: text.startIndex)
        let negated = index < text.endIndex && text[index] == UInt8(ascii: "^")
        if negated { index += 1 }
        let nameStart = index
        while index < text.endIndex && !LineTokenizer.isSpace(text[index]) { index += 1 }
        let name = String(decoding: text[nameStart..<index], as: UTF8.self)
        guard (name == configID) != negated else { return nil }
        return text[index...].drop(while: LineTokenizer.isSpace)
    }

    /// Parses `$NAME=value` (no space before `=`); a value ending in `\` continues on the next lines.
    private mutating func definition(in text: ArraySlice<UInt8>, location: SourceLocation) -> (String, String)? {
        var index = text.index(after: text.startIndex)
        let nameStart = index
        while index < text.endIndex && isNameByte(text[index]) { index += 1 }
        guard index > nameStart, index < text.endIndex, text[index] == UInt8(ascii: "="),
              !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[nameStart]) else { return nil }
        let name = String(decoding: text[nameStart..<index], as: UTF8.self)
        var value = text[(index + 1)...]
        var lines: [ArraySlice<UInt8>] = []
        while let last = trimmedTrailing(value).last, last == UInt8(ascii: "\\") {
            value = trimmedTrailing(value).dropLast()
            lines.append(value)
            guard let (next, _) = nextLine() else {
                diagnostics.error(location, "definition of $\(name) ends with '\\' at the end of the file")
                value = []
                break
            }
            value = Array(next)[...]
        }
        lines.append(value)
        let joined = lines.map { String(decoding: trimmedTrailing($0), as: UTF8.self) }
        let body = joined.count == 1 ? joined[0].trimmingLeadingSpaces() : joined.joined(separator: "\n")
        return (name, body)
    }

    private func trimmedTrailing(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var end = bytes.endIndex
        while end > bytes.startIndex && LineTokenizer.isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[..<end]
    }

    private func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// Replaces `${NAME}` anywhere and `$NAME` followed by white space or the line end; the
    /// replacement is substituted again, so definitions may refer to later-defined names.
    private mutating func substitute(_ line: [UInt8], location: SourceLocation, depth: Int) -> [UInt8] {
        guard depth < Self.maximumSubstitutionDepth else {
            diagnostics.error(location, "parameter substitution nests deeper than \(Self.maximumSubstitutionDepth) levels (a definition that refers to itself?)")
            return []
        }
        var output: [UInt8] = []
        output.reserveCapacity(line.count)
        var index = 0
        var changed = false
        while index < line.count {
            let byte = line[index]
            guard byte == UInt8(ascii: "$"), index + 1 < line.count else {
                output.append(byte)
                index += 1
                continue
            }
            var nameStart = index + 1
            var nameEnd: Int
            var after: Int
            if line[nameStart] == UInt8(ascii: "{") {
                nameStart += 1
                nameEnd = nameStart
                while nameEnd < line.count && line[nameEnd] != UInt8(ascii: "}") { nameEnd += 1 }
                guard nameEnd < line.count else {
                    output.append(byte)
                    index += 1
                    continue
                }
                after = nameEnd + 1
            } else {
                nameEnd = nameStart
                while nameEnd < line.count && isNameByte(line[nameEnd]) { nameEnd += 1 }
                after = nameEnd
                guard nameEnd > nameStart, nameEnd == line.count || LineTokenizer.isSpace(line[nameEnd]) else {
                    output.append(byte)
                    index += 1
                    continue
                }
            }
            let name = String(decoding: line[nameStart..<nameEnd], as: UTF8.self)
            if let value = definitions[name] {
                output.append(contentsOf: value.utf8)
                changed = true
            } else {
                diagnostics.warning(location, "$\(name) is not defined; left as written")
                output.append(contentsOf: line[index..<after])
            }
            index = after
        }
        return changed ? substitute(output, location: location, depth: depth + 1) : output
    }

    private mutating func include(_ words: [String], location: SourceLocation) {
        guard words.count == 2 else {
            diagnostics.error(location, "include takes exactly one file name or pattern")
            return
        }
        let pattern = words[1]
        let directory = files.last?.directory ?? "."
        let absolute = pattern.hasPrefix("/") || pattern.hasPrefix("~") || directory == "." ? pattern : directory + "/" + pattern
        let matches = fileSystem.expand(pattern: absolute)
        let hasWildcards = pattern.contains { "*?[{".contains($0) }
        if matches.isEmpty {
            if hasWildcards {
                diagnostics.warning(location, "include pattern \(pattern) matches no file")
            } else {
                diagnostics.error(location, "included file \(absolute) does not exist")
            }
            return
        }
        if files.count >= Self.maximumIncludeDepth {
            diagnostics.error(location, "includes nest deeper than \(Self.maximumIncludeDepth) files")
            return
        }
        // Files open in reverse order so that the first match is read first.
        for path in matches.reversed() {
            if let chain = cycle(to: path) {
                diagnostics.error(location, "include cycle: \(chain)")
                continue
            }
            open(path: path, includedFrom: location)
        }
    }

    private func cycle(to path: String) -> String? {
        guard let start = files.firstIndex(where: { $0.path == path }) else { return nil }
        return (files[start...].map(\.path) + [path]).joined(separator: " -> ")
    }

    // MARK: Statements

    /// Cuts the current line's words into statements at its braces. A line's last statement is
    /// held back until the next line shows whether a lone `{` opens a block for it.
    private mutating func assemble(location: SourceLocation) {
        var start = 0
        for mark in scratch.braces {
            if mark.wordsBefore > start {
                flushHeld()
                ready.append(.statement(statement(words: start..<mark.wordsBefore, location: location, opensBlock: mark.isOpen)))
                start = mark.wordsBefore
                if !mark.isOpen { ready.append(.close(location)) }
            } else if mark.isOpen {
                if var held = heldStatement.take() {
                    held.opensBlock = true
                    ready.append(.statement(held))
                } else {
                    ready.append(.strayOpen(location))
                }
            } else {
                flushHeld()
                ready.append(.close(location))
            }
        }
        if start < scratch.words.count {
            flushHeld()
            heldStatement = statement(words: start..<scratch.words.count, location: location, opensBlock: false)
        }
    }

    private func statement(words range: Range<Int>, location: SourceLocation, opensBlock: Bool) -> Statement {
        Statement(keyword: scratch.words[range.lowerBound],
                  arguments: StatementArguments(scratch.words[(range.lowerBound + 1)..<range.upperBound]),
                  location: location, opensBlock: opensBlock)
    }

    private mutating func flushHeld() {
        if let held = heldStatement.take() {
            ready.append(.statement(held))
        }
    }
}

extension String {
    func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }))
    }
}
