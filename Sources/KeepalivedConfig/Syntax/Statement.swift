/// One statement of a config: a keyword with the arguments written after it on its line, and
/// whether a `{` follows (on the same line or alone on the next one).
public struct Statement: Sendable {
    public var keyword: String
    public var arguments: StatementArguments
    public var location: SourceLocation
    public var opensBlock: Bool

    public init(keyword: String, arguments: [String], location: SourceLocation, opensBlock: Bool) {
        self.init(keyword: keyword, arguments: StatementArguments(arguments), location: location, opensBlock: opensBlock)
    }

    init(keyword: String, arguments: StatementArguments, location: SourceLocation, opensBlock: Bool) {
        self.keyword = keyword
        self.arguments = arguments
        self.location = location
        self.opensBlock = opensBlock
    }
}

/// The words after a keyword. Nearly every statement has none or one, so those are held inline
/// and only longer lists cost an array: a large config has hundreds of thousands of statements.
public struct StatementArguments: RandomAccessCollection, Sendable {
    private enum Storage: Sendable {
        case none
        case one(String)
        case many([String])
    }

    private let storage: Storage

    public init<Words: Collection>(_ words: Words) where Words.Element == String {
        switch words.count {
        case 0: storage = .none
        case 1: storage = .one(words.first!)
        default: storage = .many(Array(words))
        }
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .none: return 0
        case .one: return 1
        case .many(let words): return words.count
        }
    }

    public subscript(position: Int) -> String {
        switch storage {
        case .one(let word) where position == 0: return word
        case .many(let words): return words[position]
        default: preconditionFailure("argument index \(position) out of range")
        }
    }
}

/// What the reader hands the parser, in order.
enum StreamItem: Sendable {
    case statement(Statement)
    /// A `}`.
    case close(SourceLocation)
    /// A `{` with no keyword before it.
    case strayOpen(SourceLocation)
}
