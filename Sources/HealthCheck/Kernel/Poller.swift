#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore
import Dispatch

/// What a socket's readiness said, from its epoll events.
struct Readiness: Sendable {
    var readable: Bool
    /// The peer closed its side (or reset the connection): nothing more will come.
    var peerClosed: Bool
    var failed: Bool

    init(events: UInt32) {
        readable = events & EPOLLIN.rawValue != 0
        peerClosed = events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0
        failed = events & EPOLLERR.rawValue != 0
    }
}

/// Every wake-up of the checks' work, on ONE read source of the event loop: the checks' sockets
/// sit in an epoll set, which sits with the deadlines' timerfd in a second set that the source
/// watches. Each wake-up of the loop costs more than the checks themselves (in the emulated VM
/// especially), and a loop timer per deadline would cost a change of the loop's alarm each. So
/// one wake-up serves every ready socket and every due deadline, and the sockets' set is watched
/// only when no deadline is near:
/// - busy (a deadline within a `grid` step, as when checks start on every step): the sockets
///   are served by the deadlines' wake-ups alone, at most a step late;
/// - otherwise, a ready socket wakes the loop; if sockets woke it less than a grid step before
///   too, it then rests `rest` with the sockets out of the watched set, so that the next wake-up
///   serves all that moved meanwhile. A lone socket now and then (a failed connect to a server
///   that is down, in an idle daemon) costs one wake-up, not two.
/// Nothing wakes while no socket is ready and no deadline due. The only place with epoll calls.
final class Poller: @unchecked Sendable {
    /// The step of the grid checks start on (seconds), so that checks due close together share
    /// a wake-up; also how late a ready socket may be served when deadlines are near. Tenths
    /// of a second, against time-outs and periods of seconds.
    static let grid = 0.100
    /// The rest after a wake-up that served sockets while no deadline was near.
    static let rest = 0.010
    /// The most work one wake-up does before giving the loop back, and it stops sooner when one
    /// of the loop's timers (an advert) is due: on a machine that cannot keep up with its checks,
    /// the rest waits for the next wake-up, which comes at once, rather than holding the loop
    /// (adverts included) for seconds.
    static let budget = 0.050

    private let wakeSet: Int32
    private let sockets: Int32
    private let deadlines: Deadlines
    /// By descriptor: descriptors are small numbers, reused as soon as they are closed. Each
    /// watch has a number of its own, which its epoll events carry: an event read for a socket
    /// that has closed since must not reach the next socket given the same descriptor.
    private var handlers: [(watch: UInt32, handler: (Readiness) -> Void)?] = []
    private var watches: UInt32 = 0
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    /// Events read but not served yet (`events[unserved]`): a wake-up out of budget leaves the
    /// rest for the next one, which comes at once.
    private var unserved = 0..<0
    private var source: LoopReadSource?
    private weak var loop: EventLoop?
    /// Whether the sockets' set is in the watched set (a ready socket wakes the loop).
    private var watching = false
    private struct Soon {
        let descriptor: Int32
        let tryNow: () -> Bool
        let handler: (Readiness) -> Void
    }
    /// When the last wake-up that served sockets was.
    private var lastServed: Instant?
    /// Sockets to try at the next wake-up before watching them (`watchSoon`).
    private var soon: [Soon] = []

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
        self.loop = loop
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
        watches &+= 1
        event.data.u64 = UInt64(UInt32(bitPattern: descriptor)) | UInt64(watches) << 32
        _ = try systemCall("epoll_ctl") { epoll_ctl(sockets, EPOLL_CTL_ADD, descriptor, &event) }
        let slot = Int(descriptor)
        if slot >= handlers.count { handlers += Array(repeating: nil, count: max(slot + 1 - handlers.count, 64)) }
        handlers[slot] = (watches, handler)
    }

    /// Like `watch` (readable only), for a socket whose answer is likely in by the next
    /// wake-up: then `tryNow` runs first, and only if it says the socket must still be waited on
    /// is it watched. Under load this spares the socket its epoll_ctl. While the loop is woken
    /// by sockets (no deadline near), it is watched at the end of this wake-up.
    func watchSoon(_ descriptor: Int32, tryNow: @escaping () -> Bool, _ handler: @escaping (Readiness) -> Void) {
        soon.append(Soon(descriptor: descriptor, tryNow: tryNow, handler: handler))
        // Outside a wake-up (genhash's one fetch) no wake-up is sure to come soon.
        if !deadlines.isAwake { trySoon() }
    }

    /// Stops calling the handler; closing the descriptor takes it out of the set.
    func forget(_ descriptor: Int32) {
        let slot = Int(descriptor)
        if slot >= 0 && slot < handlers.count { handlers[slot] = nil }
    }

    private func wake() {
        deadlines.awake { now in
            // Answers first: one already in counts before its server's time-out runs.
            let budget = min(now.adding(seconds: Self.budget), loop?.nextTimerDeadline ?? Instant(nanoseconds: .max))
            var served = trySoon()
            let (drained, leftBehind) = drain(until: budget)
            served += drained
            deadlines.runDue(at: now, budget: budget)
            if leftBehind {
                // Served at the next wake-up, right after the loop's other work.
                deadlines.at(now) {}
            }
            if let next = deadlines.earliest, next <= now.adding(seconds: Self.grid) {
                setWatching(false)
            } else if served > 0 && lastServed.map({ now.seconds(since: $0) < Self.grid }) ?? false {
                setWatching(false)
                deadlines.at(now.adding(seconds: Self.rest)) {}
            } else if !setWatching(true) {
                // Short of kernel memory: the sockets are served by a wake-up of our own.
                deadlines.at(now.adding(seconds: Self.rest)) {}
            }
            // Woken by sockets from now on: those waiting for the next wake-up are watched now.
            if watching { trySoon() }
            if served > 0 { lastServed = now }
        }
    }

    /// Tries the sockets of `watchSoon` and watches those still waiting; returns how many were
    /// tried. Trying also tells a socket its driver has closed meanwhile (its number may already
    /// belong to another socket) from one still waiting.
    @discardableResult
    private func trySoon() -> Int {
        guard !soon.isEmpty else { return 0 }
        let due = soon
        soon = []
        for socket in due where socket.tryNow() {
            do {
                try watch(socket.descriptor, writable: false, socket.handler)
            } catch {
                // Short of kernel memory: try it again at the next wake-up.
                soon.append(socket)
            }
        }
        return due.count
    }

    /// Puts the sockets' set in the watched set or takes it out; false if that failed (short of
    /// kernel memory), leaving it as it was.
    @discardableResult
    private func setWatching(_ watch: Bool) -> Bool {
        guard watch != watching else { return true }
        // Adding a set with sockets already ready wakes the loop again at once, as it should.
        let done = watch ? (try? Self.add(sockets, to: wakeSet)) != nil : epoll_ctl(wakeSet, EPOLL_CTL_DEL, sockets, nil) == 0
        if done { watching = watch }
        return done
    }

    /// Serves every ready socket, or as many as `budget` allows; returns how many were, and
    /// whether some may be left. The clock is read after each socket: one real server's change
    /// (its log line, its quorum, the netlink call) takes milliseconds in the emulated VM, and a
    /// flap of a hundred at once must not hold an advert back for all of them.
    private func drain(until budget: Instant) -> (served: Int, leftBehind: Bool) {
        var served = 0
        // Behind the last wake-up's leftovers, or a read that filled the buffer, the kernel may
        // hold more: under load they would otherwise wait a grid step each and pile up.
        var kernelMayHoldMore = !unserved.isEmpty
        while true {
            if unserved.isEmpty {
                if served > 0 && !kernelMayHoldMore { return (served, false) }
                if served > 0 && Alarm.clock() >= budget { return (served, true) }
                let count = Int(max(events.withUnsafeMutableBufferPointer { epoll_wait(sockets, $0.baseAddress, Int32($0.count), 0) }, 0))
                unserved = 0..<count
                kernelMayHoldMore = count == events.count
                if count == 0 { return (served, false) }
            } else if served > 0 && Alarm.clock() >= budget {
                return (served, true)
            }
            serve(events[unserved.removeFirst()])
            served += 1
        }
    }

    private func serve(_ event: epoll_event) {
        let slot = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: event.data.u64)))
        let watch = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
        guard slot >= 0 && slot < handlers.count, let entry = handlers[slot], entry.watch == watch else { return }
        entry.handler(Readiness(events: event.events))
    }

    private static func add(_ descriptor: Int32, to set: Int32) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = descriptor
        _ = try systemCall("epoll_ctl") { epoll_ctl(set, EPOLL_CTL_ADD, descriptor, &event) }
    }
}
