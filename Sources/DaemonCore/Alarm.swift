#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet

/// A timerfd on the monotonic clock: readable once the instant it is set to has come, until it
/// is set again. The only place with timerfd calls.
public final class Alarm: @unchecked Sendable {
    public let descriptor: Int32

    public init() throws {
        descriptor = try systemCall("timerfd_create") { timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC)) }
    }

    deinit {
        close(descriptor)
    }

    /// The alarm's own clock, so that an instant the alarm says has come is past by this clock
    /// too. It is the clock of Dispatch's uptime as well.
    public static func clock() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    /// Sets the alarm to `instant` (at once if it is past), or off; setting it also clears an
    /// alarm that went off.
    public func set(_ instant: Instant?) {
        var value = itimerspec()
        if let instant {
            // A zero value would turn the alarm off: the earliest moment is 1 ns.
            let nanoseconds = max(instant.nanoseconds, 1)
            value.it_value.tv_sec = Int(nanoseconds / 1_000_000_000)
            value.it_value.tv_nsec = Int(nanoseconds % 1_000_000_000)
        }
        // Cannot fail with a valid descriptor and value.
        _ = timerfd_settime(descriptor, Int32(TFD_TIMER_ABSTIME), &value, nil)
    }
}
