#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore
import Dispatch

/// What a socket's readiness said, from its epoll events.
struct Readiness: Sendable {
    var readable: Bool
    var writable: Bool
    /// The peer closed its side (or reset the connection): nothing more will come.
    var peerClosed: Bool
    var failed: Bool

    init(events: UInt32) {
        readable = events & EPOLLIN.rawValue != 0
        writable = events & EPOLLOUT.rawValue != 0
        peerClosed = events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0
        failed = events & EPOLLERR.rawValue != 0
    }
}

/// Every wake-up of the checks' work, on ONE Dispatch read source: the checks' sockets sit in an
/// epoll set, which sits with the deadlines' timerfd in a second set that the source watches.
/// Each time Dispatch wakes the loop costs hops between its threads (its manager, then a worker,
/// then the manager again to re-arm the source), which cost more than the checks themselves; a
/// Dispatch timer beside the source would add hops of its own each time it is set. So one
/// wake-up serves every ready socket and every due deadline, and the sockets' set is watched only
/// when no deadline is near:
/// - busy (a deadline within a `grid` step, as when checks start on every step): the sockets
///   are served by the deadlines' wake-ups alone, at most a step late;
/// - otherwise, a ready socket wakes the loop, which then rests `rest` with the sockets out of the
///   watched set, so that the next wake-up serves all that moved meanwhile.
/// Nothing wakes while no socket is ready and no deadline due. The only place with epoll calls.
final class Poller: @unchecked Sendable {
    /// The step of the grid checks start on (seconds), so that checks due close together share
    /// a wake-up; also how late a ready socket may be served when deadlines are near. Tenths
    /// of a second, against time-outs and periods of seconds.
    static let grid = 0.100
    /// The rest after a wake-up that served sockets while no deadline was near.
    static let rest = 0.010

    private let wakeSet: Int32
    private let sockets: Int32
    private let deadlines: Deadlines
    /// By descriptor: descriptors are small numbers, reused as soon as they are closed.
    private var handlers: [((Readiness) -> Void)?] = []
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    private var source: DispatchSourceRead?
    /// Whether the sockets' set is in the watched set (a ready socket wakes the loop).
    private var watching = false

    init(loop: EventLoop, deadlines: Deadlines) throws {
        wakeSet = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            sockets = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        } catch {
            close(wakeSet)
            throw error
        }
        self.deadlines = deadlines
        do {
            try Self.add(deadlines.alarm, to: wakeSet)
            try Self.add(sockets, to: wakeSet)
            watching = true
        } catch {
            close(sockets)
            close(wakeSet)
            throw error
        }
        source = loop.readSource(wakeSet) { [weak self] in self?.wake() }
    }

    deinit {
        source?.cancel()
        close(sockets)
        close(wakeSet)
    }

    /// Watches `descriptor` for the rest of its life: `handler` runs whenever it has become
    /// readable (or writable, if `writable`) or the peer closed (edge-triggered, so the handler
    /// must read or write until the call would block). A socket already ready is reported at once.
    func watch(_ descriptor: Int32, writable: Bool, _ handler: @escaping (Readiness) -> Void) throws {
        var event = epoll_event()
        // Writability is asked for only when something waits on it: a connected socket is
        // writable, and would wake the loop for nothing.
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = descriptor
        _ = try systemCall("epoll_ctl") { epoll_ctl(sockets, EPOLL_CTL_ADD, descriptor, &event) }
        let slot = Int(descriptor)
        if slot >= handlers.count { handlers += Array(repeating: nil, count: max(slot + 1 - handlers.count, 64)) }
        handlers[slot] = handler
    }

    /// Stops calling the handler; closing the descriptor takes it out of the set.
    func forget(_ descriptor: Int32) {
        let slot = Int(descriptor)
        if slot >= 0 && slot < handlers.count { handlers[slot] = nil }
    }

    private func wake() {
        deadlines.awake { now in
            // Answers first: one already in counts before its server's time-out runs.
            let served = drain()
            deadlines.runDue(at: now)
            if let next = deadlines.earliest, next <= now.adding(seconds: Self.grid) {
                setWatching(false)
            } else if served > 0 {
                setWatching(false)
                deadlines.at(now.adding(seconds: Self.rest)) {}
            } else {
                setWatching(true)
            }
        }
    }

    private func setWatching(_ watch: Bool) {
        guard watch != watching else { return }
        // Adding a set with sockets already ready wakes the loop again at once, as it should.
        let done = watch ? (try? Self.add(sockets, to: wakeSet)) != nil : epoll_ctl(wakeSet, EPOLL_CTL_DEL, sockets, nil) == 0
        // Failing (short of kernel memory) leaves it as it was: the next wake-up tries again.
        if done { watching = watch }
    }

    @discardableResult
    private func drain() -> Int {
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(sockets, $0.baseAddress, Int32($0.count), 0) }
        for index in 0..<Int(max(count, 0)) {
            let event = events[index]
            let slot = Int(event.data.fd)
            if slot < handlers.count, let handler = handlers[slot] { handler(Readiness(events: event.events)) }
        }
        return Int(max(count, 0))
    }

    private static func add(_ descriptor: Int32, to set: Int32) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = descriptor
        _ = try systemCall("epoll_ctl") { epoll_ctl(set, EPOLL_CTL_ADD, descriptor, &event) }
    }
}

/// Deadlines of every check: a heap, with a timerfd (the alarm, watched by the `Poller`) set to
/// the earliest. Re-arming a check's time-out on every read costs a heap push, not a timer.
/// The only place with timerfd calls.
final class Deadlines: @unchecked Sendable {
    struct Token: Hashable {
        fileprivate let value: UInt64
    }

    /// Readable once the earliest deadline has come.
    let alarm: Int32
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
        alarm = try systemCall("timerfd_create") { timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC)) }
    }

    deinit {
        close(alarm)
    }

    /// Now, for time-outs: the clock as read when the loop woke up, if it is running work of a
    /// wake-up (a clock read is a syscall, and in a VM a slow one; a wake-up's work lasts
    /// milliseconds against time-outs of seconds), else the clock.
    var now: Instant { wokeAt ?? Self.clock() }

    /// Runs the work of one wake-up of the loop, with the clock read once for it.
    func awake<Result>(_ body: (Instant) -> Result) -> Result {
        let outer = wokeAt
        let now = Self.clock()
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
    func runDue(at now: Instant) {
        guard let armedFor, armedFor <= now else { return }
        // The alarm went off: it stays readable until it is set again. Set meanwhile to a
        // deadline still waiting its turn here, it would go off at once for nothing.
        self.armedFor = nil
        running = true
        while let first = heap.first, first.at <= now {
            pop()
            handlers.removeValue(forKey: first.token)?()
        }
        running = false
        arm()
        if self.armedFor == nil { setAlarm(nil) }
    }

    private func arm() {
        guard !running else { return }
        dropCancelled()
        guard let earliest = heap.first?.at else { return }
        if let armedFor, armedFor <= earliest { return }
        armedFor = earliest
        setAlarm(earliest)
    }

    /// Cancelled entries at the top are dropped here rather than searched for on cancel.
    private func dropCancelled() {
        while let first = heap.first, handlers[first.token] == nil { pop() }
    }

    /// Sets the alarm to `instant` (at once if it is past), or off; setting it also clears an
    /// alarm that went off.
    /// The alarm's own clock, so that a deadline the alarm says has come is due by this clock
    /// too. It is the clock of Dispatch's uptime, which `EventLoop.now()` reads.
    private static func clock() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    private func setAlarm(_ instant: Instant?) {
        var value = itimerspec()
        if let instant {
            // A zero value would turn the alarm off: the earliest moment is 1 ns.
            let nanoseconds = max(instant.nanoseconds, 1)
            value.it_value.tv_sec = Int(nanoseconds / 1_000_000_000)
            value.it_value.tv_nsec = Int(nanoseconds % 1_000_000_000)
        }
        // Cannot fail with a valid descriptor and value.
        _ = timerfd_settime(alarm, Int32(TFD_TIMER_ABSTIME), &value, nil)
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
