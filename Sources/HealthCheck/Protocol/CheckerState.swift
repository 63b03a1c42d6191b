/// One checker's verdict over time, keepalived's way: a server that is up and fails is retried
/// `retry` times, `delay_before_retry` apart, before it is declared down; a server that is down
/// comes back with one success. Pure, so every path is unit-tested.
public struct CheckerState: Sendable, Equatable {
    public enum Transition: Sendable, Equatable {
        case wentUp
        /// Declared down after this many retries failed too.
        case wentDown(retries: Int)
    }

    /// When the next check is due.
    public enum Next: Sendable, Equatable {
        case afterDelayLoop
        case afterRetryDelay
    }

    public private(set) var isUp: Bool
    public let retry: Int
    /// Failures in a row while the server was still up.
    public private(set) var failures = 0

    public init(isUp: Bool, retry: Int) {
        self.isUp = isUp
        self.retry = max(retry, 0)
    }

    /// A verdict that is known at once, without retries (FILE_CHECK's file).
    public mutating func set(up: Bool) -> Transition? {
        failures = 0
        guard up != isUp else { return nil }
        isUp = up
        return up ? .wentUp : .wentDown(retries: 0)
    }

    public mutating func record(success: Bool) -> (transition: Transition?, next: Next) {
        if success {
            failures = 0
            guard !isUp else { return (nil, .afterDelayLoop) }
            isUp = true
            return (.wentUp, .afterDelayLoop)
        }
        guard isUp else { return (nil, .afterDelayLoop) }
        failures += 1
        if failures <= retry { return (nil, .afterRetryDelay) }
        isUp = false
        failures = 0
        return (.wentDown(retries: retry), .afterDelayLoop)
    }
}
