import DaemonCore
import Dispatch
import Foundation
@testable import HealthCheck
import XCTest

/// The checks' wake-ups: the deadlines' heap and alarm, and the poller that serves sockets
/// and deadlines from one Dispatch source. Real descriptors (a timerfd, epoll sets, a socket
/// pair), no network.
final class PollerTests: XCTestCase {
    func testDeadlinesRunInOrderAndCancelledOnesNever() throws {
        let deadlines = try Deadlines()
        let start = deadlines.now
        var ran: [Int] = []
        deadlines.at(start.adding(seconds: 0.3)) { ran.append(3) }
        deadlines.at(start.adding(seconds: 0.1)) { ran.append(1) }
        let cancelled = deadlines.at(start.adding(seconds: 0.2)) { ran.append(2) }
        deadlines.cancel(cancelled)
        XCTAssertEqual(deadlines.earliest, start.adding(seconds: 0.1))
        deadlines.runDue(at: start.adding(seconds: 0.25))
        XCTAssertEqual(ran, [1])
        XCTAssertEqual(deadlines.earliest, start.adding(seconds: 0.3))
        deadlines.runDue(at: start.adding(seconds: 0.5))
        XCTAssertEqual(ran, [1, 3])
        XCTAssertNil(deadlines.earliest)
    }

    /// The alarm goes off when a deadline comes and is quiet once it has run, even when the
    /// deadlines run add others: an alarm left ringing would wake the loop again and again.
    func testTheAlarmRingsForADueDeadlineAndStopsOnceItRan() throws {
        let deadlines = try Deadlines()
        let start = deadlines.now
        XCTAssertFalse(Self.isReadable(deadlines.alarm))
        var ran = 0
        for _ in 0..<3 {
            deadlines.at(start) {
                ran += 1
                deadlines.at(start.adding(seconds: 60)) {}
            }
        }
        XCTAssertTrue(Self.isReadable(deadlines.alarm, waiting: 1000))
        deadlines.runDue(at: deadlines.now)
        XCTAssertEqual(ran, 3)
        XCTAssertFalse(Self.isReadable(deadlines.alarm))
        XCTAssertEqual(deadlines.earliest, start.adding(seconds: 60))
    }

    /// A socket that becomes readable is served promptly when the loop is idle, and within the
    /// grid when deadlines come every grid step (then only their wake-ups serve sockets).
    func testReadySocketsAreServedIdleAndUnderLoad() throws {
        let loop = try EventLoop()
        let io = try loop.queue.sync { try CheckIO(loop: loop) }
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair), 0)
        defer { close(pair[0]); close(pair[1]) }
        let served = Served()
        try loop.queue.sync {
            try io.poller.watch(pair[0], writable: false) { readiness in
                guard readiness.readable else { return }
                var byte: UInt8 = 0
                while read(pair[0], &byte, 1) == 1 {}
                served.mark()
            }
        }

        func sendAndTime() -> TimeInterval? {
            served.reset()
            let sent = Date()
            var byte: UInt8 = 1
            XCTAssertEqual(write(pair[1], &byte, 1), 1)
            guard served.wait(seconds: 2) else { return nil }
            return served.at.timeIntervalSince(sent)
        }

        let idle = try XCTUnwrap(sendAndTime(), "not served while idle")
        XCTAssertLessThan(idle, 0.05)

        // Load: a deadline every grid step, as when checks start on every step.
        let ticking = Flag(true)
        func tick() {
            guard ticking.value else { return }
            io.deadlines.at(io.deadlines.now.adding(seconds: Poller.grid)) { tick() }
        }
        loop.queue.sync { tick() }
        Thread.sleep(forTimeInterval: 0.3)
        for _ in 0..<5 {
            let busy = try XCTUnwrap(sendAndTime(), "not served under load")
            XCTAssertLessThan(busy, Poller.grid + 0.05)
        }
        ticking.value = false
        Thread.sleep(forTimeInterval: 2 * Poller.grid)
        let idleAgain = try XCTUnwrap(sendAndTime(), "not served once idle again")
        XCTAssertLessThan(idleAgain, 0.05)
        loop.queue.sync { io.poller.forget(pair[0]) }
    }

    /// Sockets that each take long to serve (a real server's change in the emulated VM) give
    /// the loop back to a timer that comes due (an advert) after the first ones, and the rest are
    /// served afterwards: none is lost, though their edge-triggered events were read at once.
    func testSlowSocketsYieldToADueLoopTimerAndNoneIsLost() throws {
        let loop = try EventLoop()
        let io = try loop.queue.sync { try CheckIO(loop: loop) }
        let journal = Journal()
        var pairs: [[Int32]] = []
        for index in 0..<20 {
            var pair: [Int32] = [0, 0]
            XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair), 0)
            pairs.append(pair)
            let reading = pair[0]
            try loop.queue.sync {
                try io.poller.watch(reading, writable: false) { readiness in
                    guard readiness.readable else { return }
                    var byte: UInt8 = 0
                    while read(reading, &byte, 1) == 1 {}
                    usleep(10_000)
                    journal.append("socket \(index)")
                }
            }
        }
        defer { pairs.joined().forEach { close($0) } }
        let timer = loop.queue.sync {
            loop.timer(at: loop.now().adding(seconds: 0.005)) { journal.append("timer") }
        }
        for pair in pairs {
            var byte: UInt8 = 1
            XCTAssertEqual(write(pair[1], &byte, 1), 1)
        }
        let deadline = Date().addingTimeInterval(3)
        while journal.entries.count < 21 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let entries = journal.entries
        XCTAssertEqual(Set(entries), Set((0..<20).map { "socket \($0)" } + ["timer"]), "every socket served once, and the timer")
        XCTAssertEqual(entries.count, 21, "\(entries)")
        // Served one after another, 20 sockets hold the loop 200 ms: the timer must come after
        // a few of them, not after all.
        XCTAssertLessThanOrEqual(entries.firstIndex(of: "timer") ?? 99, 4, "\(entries)")
        loop.queue.sync {
            timer.cancel()
            pairs.forEach { io.poller.forget($0[0]) }
        }
    }

    private static func isReadable(_ descriptor: Int32, waiting milliseconds: Int32 = 0) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) == 1 && entry.revents & Int16(POLLIN) != 0
    }
}

/// When the handler last served the socket, told across threads.
private final class Served: @unchecked Sendable {
    private let condition = NSCondition()
    private var time: Date?

    var at: Date { condition.withLock { time ?? .distantPast } }

    func mark() {
        condition.withLock {
            time = Date()
            condition.broadcast()
        }
    }

    func reset() { condition.withLock { time = nil } }

    func wait(seconds: TimeInterval) -> Bool {
        let limit = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while time == nil { if !condition.wait(until: limit) { return false } }
            return true
        }
    }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// What the handlers did, in order, told across threads.
private final class Journal: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var entries: [String] { lock.withLock { stored } }
    func append(_ entry: String) { lock.withLock { stored.append(entry) } }
}
