#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet

/// A mutex. Plain pthreads rather than Foundation's NSLock and Thread: those alone would load
/// Foundation with its internationalization and ICU libraries, about 6 MiB of resident memory in
/// a daemon that has no other use for them. The only place with pthread calls.
public final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }

    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// Starts a detached thread named `name` (the kernel keeps its first 15 bytes) running `body`.
public func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Start {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    let start = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
        let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
        _ = swiftkeepalived_set_thread_name(start.name)
        start.body()
        return nil
    }, start)
    // Only short of memory or past the system's thread limit: nothing sensible is left to do.
    precondition(created == 0, "pthread_create: \(String(cString: strerror(created)))")
    pthread_detach(thread)
}
