import Dispatch

/// The daemon's one event loop: a serial queue that owns all VRRP state. Timers and readable
/// descriptors wake a thread of the loop's own (`LoopTicker`), which runs their handlers on the
/// queue (synchronously, so on that thread); signals are Dispatch sources targeting the queue.
/// Handlers never run concurrently.
public final class EventLoop: @unchecked Sendable {
    public let queue = DispatchQueue(label: "swiftkeepalived.loop")
    private let ticker: LoopTicker

    /// Fails only when the system is out of descriptors or memory for its epoll set and alarm.
    public init() throws {
        ticker = try LoopTicker(queue: queue)
    }

    deinit {
        ticker.stop()
    }

    /// Now, on the clock timers are scheduled with (Dispatch's uptime clock too).
    public func now() -> Instant {
        Alarm.clock()
    }

    /// A one-shot timer firing at `deadline`, exactly: no leeway, no coalescing.
    public func timer(at deadline: Instant, _ handler: @escaping @Sendable () -> Void) -> LoopTimer {
        let timer = LoopTimer(ticker: ticker, handler: handler)
        timer.schedule(at: deadline, repeating: nil, leeway: 0)
        return timer
    }

    /// Moves a timer made by `timer(at:)` to `deadline`, or parks it when there is none; with
    /// `repeating`, it then fires every that many seconds after `deadline` on its own. A
    /// `leeway` lets the loop serve timers due close together in one wake-up: the timer may
    /// fire up to that late, never early.
    public func reschedule(_ timer: LoopTimer, at deadline: Instant?, repeating: Double? = nil, leeway: Double = 0) {
        timer.schedule(at: deadline, repeating: repeating, leeway: leeway)
    }

    /// When the loop's next timer is due (nil: none armed), so that long work on the loop can
    /// stop in time for it and go on at the next wake-up.
    public var nextTimerDeadline: Instant? {
        ticker.nextDeadline
    }

    /// Calls `handler` whenever `descriptor` is readable (level-triggered: again at the next
    /// wake-up while something is left to read).
    public func readSource(_ descriptor: Int32, _ handler: @escaping @Sendable () -> Void) -> LoopReadSource {
        ticker.watch(descriptor, handler)
    }
}

/// A timer of the event loop; it fires on the loop's queue until cancelled.
public final class LoopTimer: @unchecked Sendable {
    fileprivate let ticker: LoopTicker
    let handler: @Sendable () -> Void
    // Guarded by the ticker's lock:
    /// The ticker's count of changes at this timer's last one.
    var lastChange: UInt64 = 0
    /// When it fires next (nanoseconds on the monotonic clock); nil while not armed.
    var deadline: UInt64?
    var period: UInt64?
    var leeway: UInt64 = 0
    /// Tells the timer's current entry in the ticker's heap from the ones it left behind.
    var stamp: UInt64 = 0

    init(ticker: LoopTicker, handler: @escaping @Sendable () -> Void) {
        self.ticker = ticker
        self.handler = handler
    }

    func schedule(at deadline: Instant?, repeating: Double?, leeway: Double) {
        ticker.schedule(self, at: deadline,
                        every: repeating.map { UInt64(max(0, $0 * 1e9).rounded()) }.flatMap { $0 > 0 ? $0 : nil },
                        leeway: UInt64(max(0, leeway * 1e9).rounded()))
    }

    /// The handler is not called again once this returns (when called on the loop's queue).
    public func cancel() {
        ticker.schedule(self, at: nil, every: nil, leeway: 0)
    }
}

/// A descriptor watched by the event loop for reading, until cancelled.
public final class LoopReadSource: @unchecked Sendable {
    let descriptor: Int32
    let handler: @Sendable () -> Void
    fileprivate let ticker: LoopTicker

    init(descriptor: Int32, ticker: LoopTicker, handler: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.ticker = ticker
        self.handler = handler
    }

    /// The handler is not called again once this returns (when called on the loop's queue); the
    /// descriptor may be closed then.
    public func cancel() {
        ticker.forget(self)
    }
}
