#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Wakes the event loop for its timers and readable descriptors from a thread of its own that
/// blocks in one epoll set, and runs their handlers on the loop's queue with `sync`, which an
/// idle serial queue does on the calling thread. A Dispatch source costs two threads' wake-ups
/// per event (its manager thread watches the kernel and hands the handler to a worker thread):
/// idle, those hand-offs were most of the daemon's CPU in the emulated VM. One alarm (a timerfd)
/// serves every timer, set for the next wake-up (`setAlarm`).
final class LoopTicker: @unchecked Sendable {
    private let queue: DispatchQueue
    private let poll: EpollSet
    private let alarm: Alarm
    /// Guards everything below: timers may be set from any thread (setting up before the loop
    /// runs), and the loop's thread reads them between wake-ups.
    private let lock = Lock()
    private var reads: [Int32: LoopReadSource] = [:]
    /// Descriptors the epoll set refused (short of kernel memory): watched by Dispatch instead.
    private var fallbacks: [ObjectIdentifier: DispatchSourceRead] = [:]
    /// The armed timers by deadline. A timer changed or cancelled leaves its old entry behind,
    /// told apart by the timer's `stamp` and dropped when it comes to the top or in a
    /// compaction (`entryIsCurrent`).
    private var timers = DeadlineHeap<(timer: LoopTimer, stamp: UInt64)>()
    private var armedCount = 0
    /// Counts changes of timers: each timer keeps the count of its last change, so that a due
    /// timer changed by an earlier handler of the same wake-up is not fired.
    private var changes: UInt64 = 0
    private var armedFor: Instant?
    /// Handlers are running: the alarm is set once they are done, not for each timer they set.
    private var serving = false
    private var stopping = false

    init(queue: DispatchQueue) throws {
        self.queue = queue
        poll = try EpollSet()
        alarm = try Alarm()
        try poll.add(alarm.descriptor, readable: true, writable: false)
        startThread(name: "loop") { [self] in run() }
    }

    /// Ends the thread; nothing fires after this.
    func stop() {
        lock.lock()
        stopping = true
        reads = [:]
        timers = DeadlineHeap()
        fallbacks.values.forEach { $0.cancel() }
        fallbacks = [:]
        lock.unlock()
        poll.wake()
    }

    // MARK: timers

    /// Arms `timer` for `deadline` (nil: disarms it), then every `period` nanoseconds after it.
    func schedule(_ timer: LoopTimer, at deadline: Instant?, every period: UInt64?, leeway: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { return }
        changes &+= 1
        timer.lastChange = changes
        timer.stamp &+= 1
        if let deadline {
            if timer.deadline == nil { armedCount += 1 }
            timer.deadline = deadline.nanoseconds
            timer.period = period
            timer.leeway = leeway
            timers.push((timer, timer.stamp), deadline: deadline.nanoseconds)
        } else if timer.deadline != nil {
            timer.deadline = nil
            armedCount -= 1
        }
        // Timers moved again and again (a backup's master-down timer, at every advert it hears)
        // would otherwise pile up stale entries until their old deadlines.
        if timers.count > 2 * armedCount + 64 { timers.filter(Self.entryIsCurrent) }
        if !serving { setAlarm(force: false) }
    }

    /// The earliest deadline in the heap (an entry left behind by a timer moved later may make it
    /// early: a caller then yields a little sooner than needed).
    var nextDeadline: Instant? {
        lock.lock()
        defer { lock.unlock() }
        return timers.first.map { Instant(nanoseconds: $0.deadline) }
    }

    private static func entryIsCurrent(_ entry: (timer: LoopTimer, stamp: UInt64)) -> Bool {
        entry.timer.deadline != nil && entry.timer.stamp == entry.stamp
    }

    /// Sets the alarm for the next wake-up. Each timer may fire up to its leeway late, never
    /// early, and every timer due by then fires in that wake-up. So the wake-up comes at the
    /// latest deadline that is not past any timer's leeway: a lone timer fires at its deadline,
    /// and timers due within the tightest leeway share one wake-up.
    private func setAlarm(force: Bool) {
        while let first = timers.first, !Self.entryIsCurrent(first.element) { timers.popFirst() }
        var wake: Instant?
        if let first = timers.first {
            // No timer due after the first one's latest moment can be the tightest.
            var tightest = first.deadline &+ first.element.timer.leeway
            timers.forEach(dueBy: tightest) { deadline, entry in
                if Self.entryIsCurrent(entry) { tightest = min(tightest, deadline &+ entry.timer.leeway) }
            }
            var latest = first.deadline
            timers.forEach(dueBy: tightest) { deadline, entry in
                if Self.entryIsCurrent(entry) { latest = max(latest, deadline) }
            }
            wake = Instant(nanoseconds: latest)
        }
        guard force || wake != armedFor else { return }
        armedFor = wake
        alarm.set(wake)
    }

    /// Fires every timer due by now, in deadline order; a repeating one moves to its next turn
    /// after now (turns missed meanwhile fire once).
    private func fireDueTimers() {
        let now = Alarm.clock().nanoseconds
        var due: [(timer: LoopTimer, change: UInt64)] = []
        lock.lock()
        while let first = timers.first, first.deadline <= now {
            timers.popFirst()
            guard Self.entryIsCurrent(first.element) else { continue }
            let timer = first.element.timer
            due.append((timer, timer.lastChange))
            if let period = timer.period {
                let next = first.deadline &+ ((now - first.deadline) / period + 1) * period
                timer.deadline = next
                timer.stamp &+= 1
                timers.push((timer, timer.stamp), deadline: next)
            } else {
                timer.deadline = nil
                armedCount -= 1
            }
        }
        lock.unlock()
        for entry in due {
            lock.lock()
            let unchanged = entry.timer.lastChange == entry.change
            lock.unlock()
            if unchanged { entry.timer.handler() }
        }
    }

    // MARK: descriptors

    func watch(_ descriptor: Int32, _ handler: @escaping @Sendable () -> Void) -> LoopReadSource {
        let source = LoopReadSource(descriptor: descriptor, ticker: self, handler: handler)
        lock.lock()
        defer { lock.unlock() }
        do {
            do {
                try poll.add(descriptor, readable: true, writable: false)
            } catch let error as SystemError where error.code == EEXIST {
                // A descriptor watched before and not forgotten: now this source's.
                try poll.modify(descriptor, readable: true, writable: false)
            }
            reads[descriptor] = source
        } catch {
            let fallback = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
            fallback.setEventHandler(handler: handler)
            fallback.resume()
            fallbacks[ObjectIdentifier(source)] = fallback
        }
        return source
    }

    func forget(_ source: LoopReadSource) {
        lock.lock()
        defer { lock.unlock() }
        if let fallback = fallbacks.removeValue(forKey: ObjectIdentifier(source)) {
            fallback.cancel()
            return
        }
        guard reads[source.descriptor] === source else { return }
        reads[source.descriptor] = nil
        poll.remove(source.descriptor)
    }

    private func isWatched(_ source: LoopReadSource) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return reads[source.descriptor] === source
    }

    // MARK: the loop's thread

    private func run() {
        while true {
            let (events, _) = poll.wait(timeout: nil)
            lock.lock()
            let stopped = stopping
            lock.unlock()
            if stopped { return }
            guard !events.isEmpty else { continue }
            queue.sync { serve(events) }
        }
    }

    /// One wake-up: readable descriptors first (an advert that came in before a master-down
    /// deadline counts before the deadline runs), then due timers, then the alarm is set.
    private func serve(_ events: [EpollSet.Event]) {
        var ready: [LoopReadSource] = []
        var rang = false
        lock.lock()
        serving = true
        for event in events {
            if event.descriptor == alarm.descriptor {
                rang = true
            } else if let source = reads[event.descriptor] {
                ready.append(source)
            }
        }
        lock.unlock()
        // A source forgotten by an earlier handler is not called, nor one that took its
        // descriptor's number meanwhile (it was not in the list).
        for source in ready where isWatched(source) { source.handler() }
        if rang { fireDueTimers() }
        lock.lock()
        serving = false
        // After it rang the alarm stays readable until set again.
        if !stopping { setAlarm(force: rang) }
        lock.unlock()
    }
}
