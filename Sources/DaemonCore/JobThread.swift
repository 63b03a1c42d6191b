#if canImport(Glibc)
import Glibc
#endif
import CLinuxNet
import Dispatch

/// One thread that runs jobs in order, away from the event loop: work that may take a while (a
/// scrape of tens of thousands of real servers, a reload's parse). By default it runs at the
/// lowest CPU priority (nice 19), so the kernel gives the CPU to the loop whenever the loop has
/// something to do, even on a single core.
public final class JobThread: @unchecked Sendable {
    private let lock = Lock()
    private let ready = DispatchSemaphore(value: 0)
    private var jobs: [@Sendable () -> Void] = []

    /// `nice`: the thread's nice value (Linux keeps one per thread); 19 is the lowest share of
    /// the CPU, 0 the loop's own.
    public init(name: String, nice: Int32 = 19) {
        startThread(name: name) { [self] in
            if nice != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(swiftkeepalived_gettid()), nice) }
            while true {
                ready.wait()
                lock.lock()
                let job = jobs.removeFirst()
                lock.unlock()
                job()
            }
        }
    }

    public func run(_ job: @escaping @Sendable () -> Void) {
        lock.lock()
        jobs.append(job)
        lock.unlock()
        ready.signal()
    }
}
