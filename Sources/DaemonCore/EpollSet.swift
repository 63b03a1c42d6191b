#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet

/// An epoll set served by a thread of its own (blocking waits), with an eventfd that other
/// threads write to wake it. For a server whose requests must not each cost the event loop
/// Dispatch's thread hand-offs. The only place with these epoll and eventfd calls.
public final class EpollSet: @unchecked Sendable {
    public struct Event: Sendable {
        public let descriptor: Int32
        public let readable: Bool
        public let writable: Bool
        /// The peer hung up or the socket failed.
        public let broken: Bool
    }

    private let set: Int32
    /// Readable when another thread called `wake`.
    private let wakeDescriptor: Int32
    private var buffer = [epoll_event](repeating: epoll_event(), count: 64)

    public init() throws {
        set = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            wakeDescriptor = try systemCall("eventfd") { eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)) }
        } catch {
            close(set)
            throw error
        }
        do {
            try add(wakeDescriptor, readable: true, writable: false)
        } catch {
            close(wakeDescriptor)
            close(set)
            throw error
        }
    }

    deinit {
        close(wakeDescriptor)
        close(set)
    }

    /// Watches `descriptor` (level-triggered) for what is asked.
    public func add(_ descriptor: Int32, readable: Bool, writable: Bool) throws {
        try control(EPOLL_CTL_ADD, descriptor, readable: readable, writable: writable)
    }

    /// Changes what `descriptor` is watched for (neither: kept in the set, silent).
    public func modify(_ descriptor: Int32, readable: Bool, writable: Bool) throws {
        try control(EPOLL_CTL_MOD, descriptor, readable: readable, writable: writable)
    }

    /// Stops watching `descriptor` (closing it does too).
    public func remove(_ descriptor: Int32) {
        _ = epoll_ctl(set, EPOLL_CTL_DEL, descriptor, nil)
    }

    /// Makes the thread in `wait` return (safe from any thread).
    public func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Blocks until a watched descriptor is ready, `wake` is called or `timeout` seconds pass
    /// (nil: no time-out); returns the ready descriptors and whether `wake` was called.
    public func wait(timeout: Double?) -> (events: [Event], woken: Bool) {
        let milliseconds = timeout.map { Int32(($0 * 1000).rounded(.up)) } ?? -1
        let count = buffer.withUnsafeMutableBufferPointer { epoll_wait(set, $0.baseAddress, Int32($0.count), milliseconds) }
        guard count > 0 else { return ([], false) }
        var events: [Event] = []
        var woken = false
        for entry in buffer[..<Int(count)] {
            if entry.data.fd == wakeDescriptor {
                var value: UInt64 = 0
                _ = read(wakeDescriptor, &value, 8)
                woken = true
                continue
            }
            events.append(Event(descriptor: entry.data.fd,
                                readable: entry.events & EPOLLIN.rawValue != 0,
                                writable: entry.events & EPOLLOUT.rawValue != 0,
                                broken: entry.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0))
        }
        return (events, woken)
    }

    private func control(_ operation: Int32, _ descriptor: Int32, readable: Bool, writable: Bool) throws {
        var event = epoll_event()
        event.events = (readable ? EPOLLIN.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0)
        event.data.fd = descriptor
        _ = try systemCall("epoll_ctl") { epoll_ctl(set, operation, descriptor, &event) }
    }
}
