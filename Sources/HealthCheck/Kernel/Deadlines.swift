#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore

/// Deadlines of every check: a heap, with a timerfd (the alarm, watched by the `Poller`) set to
/// the earliest. Re-arming a check's time-out on every read costs a heap push, not a timer.
final class Deadlines: @unchecked Sendable {
    struct Token: Hashable {
        fileprivate let value: UInt64
    }

    /// Readable once the earliest deadline has come.
    var alarm: Int32 { timer.descriptor }
    private let timer: Alarm
    private var heap: [(at: Instant, token: UInt64)] = []
    private var handlers: [UInt64: () -> Void] = [:]
    private var next: UInt64 = 0
    /// What the alarm is set to; nil when it is off.
    private var armedFor: Instant?
    /// The clock as read when the loop woke for the work now running; nil between wake-ups.
    private var wokeAt: Instant?
    /// Deadlines are being run: the alarm is set once they are done, not for each one added.
    private var running = false

    init() throws {
        timer = try Alarm()
    }

    /// Now, for time-outs: the clock as read when the loop woke up, if it is running work of a
    /// wake-up (a clock read is a syscall, and in a VM a slow one; a wake-up's work lasts
    /// milliseconds against time-outs of seconds), else the clock.
    var now: Instant { wokeAt ?? Alarm.clock() }

    /// Whether the loop is running the work of a wake-up.
    var isAwake: Bool { wokeAt != nil }

    /// Runs the work of one wake-up of the loop, with the clock read once for it.
    func awake<Result>(_ body: (Instant) -> Result) -> Result {
        let outer = wokeAt
        let now = Alarm.clock()
        wokeAt = now
        defer { wokeAt = outer }
        return body(now)
    }

    /// Calls `handler` at `instant` unless cancelled first.
    @discardableResult
    func at(_ instant: Instant, _ handler: @escaping () -> Void) -> Token {
        next += 1
        handlers[next] = handler
        push((instant, next))
        arm()
        return Token(value: next)
    }

    func cancel(_ token: Token?) {
        guard let token else { return }
        handlers[token.value] = nil
    }

    /// The earliest deadline not cancelled.
    var earliest: Instant? {
        dropCancelled()
        return heap.first?.at
    }

    /// Runs every deadline due by `now`, then sets the alarm to the next one.
    /// Past `budget` (the clock, read every 32 deadlines) it stops with the rest still due: the
    /// alarm goes off again at once, after the loop's other work has had its turn.
    func runDue(at now: Instant, budget: Instant? = nil) {
        guard let armedFor, armedFor <= now else { return }
        // The alarm went off: it stays readable until it is set again. Set meanwhile to a
        // deadline still waiting its turn here, it would go off at once for nothing.
        self.armedFor = nil
        running = true
        var ran = 0
        while let first = heap.first, first.at <= now {
            pop()
            handlers.removeValue(forKey: first.token)?()
            ran += 1
            if let budget, ran % 32 == 0, Alarm.clock() >= budget { break }
        }
        running = false
        arm()
        if self.armedFor == nil { timer.set(nil) }
    }

    private func arm() {
        guard !running else { return }
        dropCancelled()
        guard let earliest = heap.first?.at else { return }
        if let armedFor, armedFor <= earliest { return }
        armedFor = earliest
        timer.set(earliest)
    }

    /// Cancelled entries at the top are dropped here rather than searched for on cancel.
    private func dropCancelled() {
        while let first = heap.first, handlers[first.token] == nil { pop() }
    }

    private func push(_ entry: (at: Instant, token: UInt64)) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].at < heap[smallest].at { smallest = left }
            if right < heap.count && heap[right].at < heap[smallest].at { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
