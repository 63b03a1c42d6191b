/// How a keyword is written: with values only, with a block, or either way.
enum KeywordShape: Sendable {
    /// Values on the keyword's line, between `minimum` and `maximum` of them (nil: no limit).
    case values(minimum: Int, maximum: Int?)
    case block
    /// Anything: values, a block or both. For keywords read and not acted on; the parser skips
    /// the block after the rule has spoken.
    case anything
}

/// What a keyword means inside one kind of block: its shape and the setter that applies it.
struct KeywordRule<Target>: Sendable {
    let shape: KeywordShape
    /// A setting written twice in one block is worth a warning (the last one wins, as in keepalived).
    let once: Bool
    let apply: @Sendable (inout Target, Statement, inout ParseContext) -> Void

    static func values(_ minimum: Int, _ maximum: Int?, once: Bool = true,
                       _ apply: @escaping @Sendable (inout Target, Statement, inout ParseContext) -> Void) -> KeywordRule {
        KeywordRule(shape: .values(minimum: minimum, maximum: maximum), once: once, apply: apply)
    }

    /// A keyword with no value (`nopreempt`).
    static func flag(_ apply: @escaping @Sendable (inout Target) -> Void) -> KeywordRule {
        KeywordRule(shape: .values(minimum: 0, maximum: 0), once: true) { target, _, _ in apply(&target) }
    }

    /// A keepalived keyword we accept without acting on it: one warning each time it is written.
    static func unimplemented(_ why: UnimplementedKeyword) -> KeywordRule {
        KeywordRule(shape: .anything, once: false) { _, statement, context in
            context.warning(statement.location, why.message(for: statement.keyword))
        }
    }

    static func block(once: Bool = false,
                      _ apply: @escaping @Sendable (inout Target, Statement, inout ParseContext) -> Void) -> KeywordRule {
        KeywordRule(shape: .block, once: once, apply: apply)
    }
}

/// The keywords of one kind of block, keepalived-style: adding a keyword is adding an entry.
///
/// Lookups use a small open-addressing table with an FNV-1a hash: every statement of a config
/// does one, and the standard library's seeded hashing showed up in profiles of large configs.
/// A class, so that handing a table to each nested block costs one reference, not five.
final class KeywordTable<Target>: Sendable {
    let blockName: String
    let rules: [String: KeywordRule<Target>]
    /// Names keepalived spells differently and that we accept with a warning.
    let deprecated: [String: String]
    /// Applied to a keyword the table does not know, instead of the "unknown keyword" warning;
    /// it returns false to let that warning be given (keepalived's old syntaxes, where a line
    /// is a name rather than a keyword).
    let fallback: (@Sendable (inout Target, Statement, inout ParseContext) -> Bool)?
    private let names: [String]
    private let orderedRules: [KeywordRule<Target>]
    private let slots: [Int32]

    /// `parts` are merged; shared groups of keywords (timing, notify) come as parts of their own.
    init(_ blockName: String, deprecated: [String: String] = [:],
         fallback: (@Sendable (inout Target, Statement, inout ParseContext) -> Bool)? = nil, _ parts: [String: KeywordRule<Target>]...) {
        self.blockName = blockName
        self.fallback = fallback
        var rules: [String: KeywordRule<Target>] = [:]
        for part in parts { rules.merge(part) { first, _ in first } }
        self.rules = rules
        self.deprecated = deprecated
        names = Array(rules.keys).sorted()
        orderedRules = names.map { rules[$0]! }
        var size = 8
        while size < names.count * 3 { size *= 2 }
        var slots = [Int32](repeating: -1, count: size)
        for (index, name) in names.enumerated() {
            var slot = Self.hash(name) & (size - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
            slots[slot] = Int32(index)
        }
        self.slots = slots
    }

    /// Length and three bytes tell keepalived's keywords apart well enough for a table this
    /// sparse, at a fraction of the cost of hashing every byte; probing settles the rest.
    private static func hash(_ keyword: String) -> Int {
        let bytes = keyword.utf8
        let count = bytes.count
        guard count > 0 else { return 0 }
        let first = bytes[bytes.startIndex]
        let middle = bytes[bytes.index(bytes.startIndex, offsetBy: count / 2)]
        let last = bytes[bytes.index(bytes.startIndex, offsetBy: count - 1)]
        return count &* 131 &+ Int(first) &* 31 &+ Int(middle) &* 7 &+ Int(last)
    }

    /// The position of a keyword's rule in this table, for per-block bookkeeping.
    func index(of keyword: String) -> Int? {
        let mask = slots.count - 1
        var slot = Self.hash(keyword) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if names[index] == keyword { return index }
            slot = (slot + 1) & mask
        }
    }

    func rule(at index: Int) -> KeywordRule<Target> {
        orderedRules[index]
    }

    func rule(for keyword: String) -> KeywordRule<Target>? {
        if let index = index(of: keyword) { return orderedRules[index] }
        return deprecated.isEmpty ? nil : deprecated[keyword].flatMap { rules[$0] }
    }

    /// The closest known keyword, for a "did you mean" hint on a typo.
    func suggestion(for keyword: String) -> String? {
        var best: (String, Int)?
        for candidate in rules.keys {
            let distance = editDistance(keyword.lowercased(), candidate.lowercased(), limit: 2)
            if distance <= 2, best == nil || distance < best!.1 || (distance == best!.1 && candidate < best!.0) {
                best = (candidate, distance)
            }
        }
        return best?.0
    }
}

/// Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`.
func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let a = Array(a.utf8)
    let b = Array(b.utf8)
    if abs(a.count - b.count) > limit { return limit + 1 }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        current[0] = i
        var rowMinimum = current[0]
        for j in 1..<(b.count + 1) {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            rowMinimum = min(rowMinimum, current[j])
        }
        if rowMinimum > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return a.isEmpty ? b.count : previous[b.count]
}

/// Why a keepalived keyword is accepted and not acted on, said once each time it is written.
enum UnimplementedKeyword: Sendable {
    /// Meaningless here: swiftkeepalived is one process, has no SNMP agent, no D-Bus interface, …
    case noEffect(String)
    /// keepalived acts on it and swiftkeepalived does not yet.
    case notSupportedYet(String)

    func message(for keyword: String) -> String {
        switch self {
        case .noEffect(let reason): "'\(keyword)' has no effect in swiftkeepalived (\(reason)); ignored"
        case .notSupportedYet(let reason): "'\(keyword)' is not supported yet in swiftkeepalived (\(reason)); ignored"
        }
    }

    /// A table part: each group's keywords, each with its group's reason.
    static func rules<Target>(_ groups: KeyValuePairs<UnimplementedKeyword, [String]>) -> [String: KeywordRule<Target>] {
        var rules: [String: KeywordRule<Target>] = [:]
        for (why, keywords) in groups {
            for keyword in keywords { rules[keyword] = .unimplemented(why) }
        }
        return rules
    }
}
