#if canImport(Glibc)
import Glibc
#endif

/// The time of day, for what operators read (state files); timers use `Instant`.
public enum WallClock {
    /// Seconds since the epoch, to the microsecond.
    public static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec / 1000) / 1_000_000
    }
}

extension WallClock {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `SECONDS.MICROSECONDS`, as C's `%ld.%6.6ld` writes a timeval.
    public static func timevalText(_ time: Double) -> String {
        let (seconds, microseconds) = split(time)
        return "\(seconds)." + padded(microseconds, 6)
    }

    /// ctime(3) in local time with the microseconds after the seconds, as keepalived writes
    /// times in its state files: `Sun Nov 29 01:28:55.661346 2026`.
    public static func ctimeText(_ time: Double) -> String {
        let (seconds, microseconds) = split(time)
        var clock = time_t(seconds)
        var parts = tm()
        localtime_r(&clock, &parts)
        let day = parts.tm_mday < 10 ? " \(parts.tm_mday)" : "\(parts.tm_mday)"
        return "\(days[Int(parts.tm_wday)]) \(months[Int(parts.tm_mon)]) \(day) \(padded(Int(parts.tm_hour), 2)):"
            + "\(padded(Int(parts.tm_min), 2)):\(padded(Int(parts.tm_sec), 2)).\(padded(microseconds, 6)) \(1900 + Int(parts.tm_year))"
    }

    private static func split(_ time: Double) -> (Int, Int) {
        let total = Int((time * 1_000_000).rounded())
        return (total / 1_000_000, total % 1_000_000)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
