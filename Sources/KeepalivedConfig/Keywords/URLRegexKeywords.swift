extension URLRegex {
    /// The regex keywords of `url { }`; each makes the url's regex settings exist.
    static let rules: [String: KeywordRule<CheckedURL>] = [
        "regex": .values(1, 1) { url, statement, _ in url.withRegex { $0.pattern = statement.arguments[0] } },
        "regex_no_match": .flag { url in url.withRegex { $0.noMatch = true } },
        "regex_options": .values(1, nil) { url, statement, context in
            for word in statement.arguments where CompiledRegex.optionFlags[word] == nil {
                let known = CompiledRegex.optionFlags.keys.sorted().joined(separator: " ")
                return context.error(statement.location, "unknown regex_options '\(word)'; expected some of: \(known)")
            }
            url.withRegex { $0.options += statement.arguments }
        },
        "regex_min_offset": .values(1, 1) { url, statement, context in
            guard let offset = context.integer(statement, in: 0...Int(Int32.max)) else { return }
            url.withRegex { $0.minOffset = offset }
        },
        "regex_max_offset": .values(1, 1) { url, statement, context in
            guard let offset = context.integer(statement, in: 0...Int(Int32.max)) else { return }
            url.withRegex { $0.maxOffset = offset }
        },
        "regex_stack": .values(2, 2) { url, statement, context in
            guard let start = context.integer(statement, at: 0, in: 1...Int(Int32.max), what: "regex_stack start"),
                  let maximum = context.integer(statement, at: 1, in: 1...Int(Int32.max), what: "regex_stack max") else { return }
            guard start <= maximum else {
                return context.error(statement.location, "regex_stack start \(start) exceeds its max \(maximum)")
            }
            url.withRegex { $0.stack = (start, maximum) }
        },
    ]
}

extension CheckedURL {
    fileprivate mutating func withRegex(_ change: (inout URLRegex) -> Void) {
        var settings = regex ?? URLRegex()
        change(&settings)
        regex = settings
    }
}
