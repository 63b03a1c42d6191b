/// A point on a monotonic clock, in nanoseconds. The state machine is given instants and never
/// reads a clock, so tests drive it with made-up times.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    public init(seconds: Double) {
        nanoseconds = UInt64(max(0, seconds * 1e9).rounded())
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public func adding(seconds: Double) -> Instant {
        Instant(nanoseconds: nanoseconds &+ UInt64(max(0, seconds * 1e9).rounded()))
    }

    /// `seconds` earlier (never before the clock's zero).
    public func subtracting(seconds: Double) -> Instant {
        let delta = UInt64(max(0, seconds * 1e9).rounded())
        return Instant(nanoseconds: nanoseconds > delta ? nanoseconds - delta : 0)
    }

    /// Seconds from `earlier` to this instant (negative if `earlier` is later).
    public func seconds(since earlier: Instant) -> Double {
        (Double(nanoseconds) - Double(earlier.nanoseconds)) / 1e9
    }

    public var description: String { String(Double(nanoseconds) / 1e9) + " s" }
}
