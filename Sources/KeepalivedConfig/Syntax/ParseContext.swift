/// Drives the keyword tables over the statement stream and collects diagnostics. Handlers call
/// back into it to read nested blocks and lists, and to parse values with located errors.
///
/// A value type passed `inout` down the handlers: the hot path then runs without the dynamic
/// exclusivity checks that class properties need.
struct ParseContext {
    private var reader: StatementReader
    private var localDiagnostics = Diagnostics()
    private(set) var reachedEnd = false
    /// Settings that were written but refused, by block: a required keyword with a bad value must
    /// not be reported a second time as missing.
    private(set) var rejectedSettings: Set<RejectedSetting> = []
    /// The next preference keepalived hands a routing rule written without one, per family, in
    /// the order rules are read (static and virtual alike).
    var nextRulePreference: [AddressFamily: Int] = [:]

    init(reader: StatementReader) {
        self.reader = reader
    }

    var diagnostics: Diagnostics {
        var merged = reader.diagnostics
        for diagnostic in localDiagnostics.all {
            if diagnostic.severity == .error { merged.error(diagnostic.location, diagnostic.message) }
            else { merged.warning(diagnostic.location, diagnostic.message) }
        }
        return merged
    }

    mutating func error(_ location: SourceLocation, _ message: String) {
        localDiagnostics.error(location, message)
    }

    mutating func warning(_ location: SourceLocation, _ message: String) {
        localDiagnostics.warning(location, message)
    }

    // MARK: Blocks

    /// Reads statements up to the end of the input, where a stray `}` is an error.
    mutating func parseTopLevel<Target>(into target: inout Target, table: KeywordTable<Target>) {
        var seen = SeenKeywords()
        while let item = reader.next() {
            switch item {
            case .close(let location):
                error(location, "'}' without a matching '{'")
            case .strayOpen(let location):
                error(location, "'{' without a keyword before it")
                skipBlock()
            case .statement(let statement):
                dispatch(statement, into: &target, table: table, seen: &seen, block: nil)
            }
        }
        reachedEnd = true
    }

    /// Reads the body of the block `opener` opened, up to its `}`.
    mutating func parseBlock<Target>(opener: Statement, into target: inout Target, table: KeywordTable<Target>) {
        var seen = SeenKeywords()
        forEachStatement(in: opener) { statement, context in
            context.dispatch(statement, into: &target, table: table, seen: &seen, block: opener.location)
        }
    }

    /// Reads a block whose lines are entries rather than keywords (`virtual_ipaddress`,
    /// `unicast_peer`, …), handing each line to `entry`.
    mutating func parseList(opener: Statement, _ entry: (Statement, inout ParseContext) -> Void) {
        forEachStatement(in: opener) { statement, context in
            if statement.opensBlock {
                context.error(statement.location, "\(opener.keyword) lists entries one per line; '\(statement.keyword)' cannot open a block here")
                context.skipBlock()
            } else {
                entry(statement, &context)
            }
        }
    }

    /// Hands each statement of the block `opener` opened to `body`, up to the block's `}`.
    private mutating func forEachStatement(in opener: Statement, _ body: (Statement, inout ParseContext) -> Void) {
        while let item = reader.next() {
            switch item {
            case .close:
                return
            case .strayOpen(let location):
                error(location, "'{' without a keyword before it")
                skipBlock()
            case .statement(let statement):
                body(statement, &self)
            }
        }
        unclosed(opener)
    }

    /// Skips the rest of a block whose `{` was just read, nested blocks included.
    mutating func skipBlock() {
        var depth = 1
        while let item = reader.next() {
            switch item {
            case .close: depth -= 1
            case .strayOpen: depth += 1
            case .statement(let statement): if statement.opensBlock { depth += 1 }
            }
            if depth == 0 { return }
        }
    }

    private mutating func unclosed(_ opener: Statement) {
        if !reachedEnd {
            error(opener.location, "'\(opener.keyword)' block opened here is never closed (missing '}')")
        }
        reachedEnd = true
    }

    private mutating func dispatch<Target>(_ statement: Statement, into target: inout Target, table: KeywordTable<Target>,
                                           seen: inout SeenKeywords, block: SourceLocation?) {
        var name = statement.keyword
        var found = table.index(of: name)
        if found == nil, !table.deprecated.isEmpty, let modern = table.deprecated[name] {
            warning(statement.location, "'\(name)' is a deprecated spelling of '\(modern)'")
            name = modern
            found = table.index(of: modern)
        }
        guard let index = found else {
            if let fallback = table.fallback, fallback(&target, statement, &self) { return }
            var message = "unknown keyword '\(statement.keyword)' in \(table.blockName)"
            if let suggestion = table.suggestion(for: statement.keyword) { message += " (did you mean '\(suggestion)'?)" }
            warning(statement.location, message + "; ignored")
            if statement.opensBlock { skipBlock() }
            return
        }
        let rule = table.rule(at: index)
        switch rule.shape {
        case .block:
            guard statement.opensBlock else {
                error(statement.location, "'\(statement.keyword)' needs a block: '{' expected")
                return
            }
            rule.apply(&target, statement, &self)
        case .anything:
            rule.apply(&target, statement, &self)
            if statement.opensBlock { skipBlock() }
        case .values(let minimum, let maximum):
            if let maximum, statement.arguments.count > maximum {
                splitOrReject(statement, maximum: maximum, into: &target, table: table, seen: &seen, block: block)
                return
            }
            if statement.arguments.count < minimum {
                error(statement.location, "'\(statement.keyword)' needs \(minimum == 1 ? "a value" : "\(minimum) values")")
            } else {
                if rule.once, !seen.insert(index) {
                    warning(statement.location, "'\(name)' is set again in this \(table.blockName) block; the last value is used")
                }
                let errorsBefore = localDiagnostics.errorCount
                rule.apply(&target, statement, &self)
                if let block, localDiagnostics.errorCount > errorsBefore {
                    rejectedSettings.insert(RejectedSetting(block: block, keyword: name))
                }
            }
            if statement.opensBlock {
                error(statement.location, "'\(statement.keyword)' does not take a block")
                skipBlock()
            }
        }
    }

    /// A statement with more values than its keyword takes: either several settings written on
    /// one line (`authentication { auth_type PASS auth_pass 1111 }`), dispatched one by one, or
    /// a mistake.
    private mutating func splitOrReject<Target>(_ statement: Statement, maximum: Int, into target: inout Target,
                                                table: KeywordTable<Target>, seen: inout SeenKeywords, block: SourceLocation?) {
        let extra = statement.arguments[maximum]
        guard table.rule(for: extra) != nil else {
            let what = maximum == 0 ? "no value" : maximum == 1 ? "one value" : "at most \(maximum) values"
            error(statement.location, "'\(statement.keyword)' takes \(what), but \(statement.arguments.count) were given")
            if statement.opensBlock { skipBlock() }
            return
        }
        let first = Statement(keyword: statement.keyword, arguments: StatementArguments(statement.arguments[..<maximum]),
                              location: statement.location, opensBlock: false)
        let rest = Statement(keyword: extra, arguments: StatementArguments(statement.arguments[(maximum + 1)...]),
                             location: statement.location, opensBlock: statement.opensBlock)
        dispatch(first, into: &target, table: table, seen: &seen, block: block)
        dispatch(rest, into: &target, table: table, seen: &seen, block: block)
    }
}

/// The settings a block has seen so far, by their position in the block's table. A bit set:
/// every block of a config gets one, and it must cost no allocation. 256 bits: global_defs,
/// with keepalived's keywords that we accept without acting on them, has about 160.
struct SeenKeywords {
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Records `index`; false when it was already there.
    mutating func insert(_ index: Int) -> Bool {
        let bit = UInt64(1) << UInt64(index & 63)
        let word: UInt64
        switch index >> 6 {
        case 0: word = bits.0; bits.0 |= bit
        case 1: word = bits.1; bits.1 |= bit
        case 2: word = bits.2; bits.2 |= bit
        case 3: word = bits.3; bits.3 |= bit
        default: return true
        }
        return word & bit == 0
    }
}

/// A keyword whose value was refused, in the block that opened at `block`.
struct RejectedSetting: Hashable {
    let block: SourceLocation
    let keyword: String
}
