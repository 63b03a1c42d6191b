import Dispatch

/// The daemon's one event loop: a serial queue that owns all VRRP state. Sockets, timers and
/// signals are Dispatch sources targeting it, so handlers never run concurrently.
public final class EventLoop: @unchecked Sendable {
    public let queue = DispatchQueue(label: "swiftkeepalived.loop")

    public init() {}

    /// Now, on the clock timers are scheduled with.
    public func now() -> Instant {
        Instant(nanoseconds: DispatchTime.now().uptimeNanoseconds)
    }

    public func time(of instant: Instant) -> DispatchTime {
        DispatchTime(uptimeNanoseconds: instant.nanoseconds)
    }

    /// A one-shot timer firing at `deadline`, exactly: no leeway, no coalescing.
    public func timer(at deadline: Instant, _ handler: @escaping @Sendable () -> Void) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
        timer.schedule(deadline: time(of: deadline), repeating: .never, leeway: .nanoseconds(0))
        timer.setEventHandler(handler: handler)
        timer.resume()
        return timer
    }

    /// Moves a timer made by `timer(at:)` to `deadline`, or parks it when there is none; with
    /// `repeating`, it then fires every that many seconds after `deadline` on its own (each move
    /// costs a wake-up of Dispatch's timer thread, a repetition does not). A `leeway` lets the
    /// loop serve timers due close together in one wake-up.
    public func reschedule(_ timer: DispatchSourceTimer, at deadline: Instant?, repeating: Double? = nil, leeway: Double = 0) {
        timer.schedule(deadline: deadline.map(time(of:)) ?? .distantFuture,
                       repeating: repeating.map { .nanoseconds(Int(($0 * 1e9).rounded())) } ?? .never,
                       leeway: .nanoseconds(Int(leeway * 1e9)))
    }

    /// Calls `handler` whenever `descriptor` is readable.
    public func readSource(_ descriptor: Int32, _ handler: @escaping @Sendable () -> Void) -> DispatchSourceRead {
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }

    /// Calls `handler` whenever `descriptor` has room to write.
    public func writeSource(_ descriptor: Int32, _ handler: @escaping @Sendable () -> Void) -> DispatchSourceWrite {
        let source = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}
