import KeepalivedConfig

/// Searches a response body for a url's regex as the body arrives, in bounded memory: only a
/// possible match's beginning (and the bytes a lookbehind may need) is kept between reads,
/// at most `windowLimit` bytes, as keepalived does with PCRE2's partial matching. A match counts
/// when it starts between regex_min_offset and regex_max_offset of the body.
struct BodyRegexScan {
    static let windowLimit = 64 * 1024

    private let regex: CompiledRegex
    private let minOffset: Int
    private let maxOffset: Int?
    private var window: [UInt8] = []
    /// The body offset of `window[0]`.
    private var windowStart = 0
    /// Where in `window` the next match attempt starts.
    private var from = 0
    private var waitingOnPartial = false
    private(set) var matched = false
    /// Bytes held between reads.
    var windowSize: Int { window.count }
    /// No match can count any more (past regex_max_offset).
    private var over = false

    init(regex: CompiledRegex, settings: URLRegex) {
        self.regex = regex
        minOffset = settings.minOffset ?? 0
        maxOffset = settings.maxOffset
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !matched && !over, !bytes.isEmpty else { return }
        window += bytes
        scan(partial: true)
    }

    /// The body is complete: a match that was waiting for more bytes is decided now.
    mutating func finish() {
        guard !matched && !over && waitingOnPartial else { return }
        scan(partial: false)
    }

    private mutating func scan(partial: Bool) {
        var start = from
        // Bytes before regex_min_offset are kept only as lookbehind.
        if windowStart + start < minOffset {
            guard windowStart + window.count > minOffset else { return keepTail(partialAt: nil) }
            start = minOffset - windowStart
        }
        if let maxOffset, windowStart + start > maxOffset { return stop() }
        let result = window.withUnsafeBytes { regex.match($0, from: start, partial: partial) }
        waitingOnPartial = false
        switch result {
        case .found(let at):
            if let maxOffset, windowStart + at > maxOffset { return stop() }
            matched = true
            window = []
        case .partial(let at):
            waitingOnPartial = true
            keepTail(partialAt: at)
        case .none, .failed:
            keepTail(partialAt: nil)
        }
    }

    /// Drops what no later match can start in or look back at.
    private mutating func keepTail(partialAt partial: Int?) {
        var partial = partial
        if let start = partial, window.count - start > Self.windowLimit {
            // A possible match longer than the window: given up, as keepalived does.
            partial = nil
            waitingOnPartial = false
        }
        let dropped = max(0, (partial ?? window.count) - regex.maxLookbehind)
        window.removeFirst(dropped)
        windowStart += dropped
        from = partial.map { $0 - dropped } ?? window.count
    }

    private mutating func stop() {
        over = true
        window = []
    }
}
