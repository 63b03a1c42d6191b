#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore
import Dispatch

/// One epoll set for every check's socket, watched by one Dispatch read source. Every wake-up of
/// the loop is a thread hop inside Dispatch (its manager thread, then a worker), which under load
/// cost more than the checks themselves; so after each wake-up the source rests for a short tick,
/// and the next wake-up serves every connection that moved meanwhile. Nothing wakes while no
/// socket is ready, however many connects are pending. A socket costs one epoll_ctl for its whole
/// life. The only place with epoll calls.
final class Poller: @unchecked Sendable {
    /// How long a ready socket may wait to be served: a few milliseconds on checks whose
    /// time-outs are seconds.
    static let tick = 0.005

    private let epoll: Int32
    private let loop: EventLoop
    private let deadlines: Deadlines
    private var handlers: [Int32: () -> Void] = [:]
    private var events = [epoll_event](repeating: epoll_event(), count: 256)
    private var source: DispatchSourceRead?
    private var resting = false

    init(loop: EventLoop, deadlines: Deadlines) throws {
        epoll = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.loop = loop
        self.deadlines = deadlines
        source = loop.readSource(epoll) { [weak self] in self?.ready() }
    }

    deinit {
        // A suspended source must be resumed before it goes.
        if resting { source?.resume() }
        source?.cancel()
        close(epoll)
    }

    /// Watches `descriptor` for the rest of its life: `handler` runs whenever it has become
    /// readable or writable (edge-triggered, so the handler must read or write until the call
    /// would block).
    func watch(_ descriptor: Int32, _ handler: @escaping () -> Void) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.fd = descriptor
        _ = try systemCall("epoll_ctl") { epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) }
        handlers[descriptor] = handler
    }

    /// Stops calling the handler; closing the descriptor takes it out of the set.
    func forget(_ descriptor: Int32) {
        handlers[descriptor] = nil
    }

    private func ready() {
        drain()
        guard !resting, let source else { return }
        resting = true
        source.suspend()
        deadlines.at(loop.now().adding(seconds: Self.tick)) { [weak self] in
            guard let self, self.resting else { return }
            self.resting = false
            self.source?.resume()
        }
    }

    private func drain() {
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 0) }
        guard count > 0 else { return }
        let ready = (0..<Int(count)).map { events[$0].data.fd }
        for descriptor in ready {
            handlers[descriptor]?()
        }
    }
}

/// Deadlines of every check on one Dispatch timer: a heap of them, the timer set to the earliest.
/// Re-arming a check's time-out on every read costs a heap push, not a Dispatch timer.
final class Deadlines: @unchecked Sendable {
    struct Token: Hashable {
        fileprivate let value: UInt64
    }

    private let loop: EventLoop
    private var timer: DispatchSourceTimer?
    private var heap: [(at: Instant, token: UInt64)] = []
    private var handlers: [UInt64: () -> Void] = [:]
    private var next: UInt64 = 0
    private var armedFor: Instant?

    init(loop: EventLoop) {
        self.loop = loop
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

    private func fire() {
        armedFor = nil
        let now = loop.now()
        while let first = heap.first, first.at <= now {
            pop()
            handlers.removeValue(forKey: first.token)?()
        }
        arm()
    }

    private func arm() {
        // Cancelled entries at the top are dropped here rather than searched for on cancel.
        while let first = heap.first, handlers[first.token] == nil { pop() }
        guard let earliest = heap.first?.at else { return }
        if let armedFor, armedFor <= earliest { return }
        armedFor = earliest
        if let timer {
            timer.schedule(deadline: loop.time(of: earliest), repeating: .never, leeway: .milliseconds(1))
        } else {
            timer = loop.timer(at: earliest) { [weak self] in self?.fire() }
        }
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
