#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import DaemonCore
import Dispatch

/// One epoll set for every check's socket, watched by a single Dispatch source on the loop. A
/// socket that waits costs one epoll_ctl instead of a Dispatch source of its own, whose creation
/// and cancellation each wake Dispatch's manager thread: with hundreds of checks a second that
/// thread hopping was most of the checkers' CPU. The only place with epoll calls.
final class Poller: @unchecked Sendable {
    private let epoll: Int32
    private var source: DispatchSourceRead?
    private var handlers: [Int32: () -> Void] = [:]
    /// Descriptors in the set (disarmed after each event: EPOLLONESHOT).
    private var registered: Set<Int32> = []
    private var events = [epoll_event](repeating: epoll_event(), count: 64)

    init(loop: EventLoop) throws {
        epoll = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        source = loop.readSource(epoll) { [weak self] in self?.drain() }
    }

    deinit {
        source?.cancel()
    }

    /// Calls `handler` once, when `descriptor` is readable (`.wantRead`) or writable (`.wantWrite`).
    func once(_ descriptor: Int32, _ direction: IOResult, _ handler: @escaping () -> Void) throws {
        var event = epoll_event()
        event.events = (direction == .wantWrite ? EPOLLOUT.rawValue : EPOLLIN.rawValue) | EPOLLONESHOT.rawValue
        event.data.fd = descriptor
        let operation = registered.contains(descriptor) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        _ = try systemCall("epoll_ctl") { epoll_ctl(epoll, operation, descriptor, &event) }
        registered.insert(descriptor)
        handlers[descriptor] = handler
    }

    /// Stops watching `descriptor`; call before closing it.
    func forget(_ descriptor: Int32) {
        handlers[descriptor] = nil
        if registered.remove(descriptor) != nil { epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil) }
    }

    private func drain() {
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 0) }
        guard count > 0 else { return }
        let ready = (0..<Int(count)).map { events[$0].data.fd }
        for descriptor in ready {
            handlers.removeValue(forKey: descriptor)?()
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
