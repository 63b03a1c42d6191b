/// The regex settings of one `url { }`: a PCRE2 pattern searched for in the response body
/// (across reads, so a match may span them), where its match must start between the offsets.
public struct URLRegex: Sendable, Hashable {
    public var pattern: String?
    /// keepalived's option words (`caseless`, `multiline`, …; `CompiledRegex.optionFlags`).
    public var options: [String] = []
    /// `regex_no_match`: the check fails when the pattern is found.
    public var noMatch = false
    /// `regex_min_offset`: a match must start at or after this byte of the body.
    public var minOffset: Int?
    /// `regex_max_offset`: a match must start at or before this byte of the body.
    public var maxOffset: Int?
    /// `regex_stack START MAX`: PCRE2's JIT stack sizes in keepalived; kept for the dump, as
    /// matching here does not use the JIT stack.
    public var stack: (start: Int, max: Int)? {
        get { stackStart.map { ($0, stackMax ?? $0) } }
        set { stackStart = newValue?.start; stackMax = newValue?.max }
    }
    private var stackStart: Int?
    private var stackMax: Int?

    public init() {}
}
