#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import XCTest
import DaemonCore

/// The event loop's timers and read sources: they fire on the loop's queue, never early, never
/// after being cancelled, and timers due together share one wake-up.
final class EventLoopTests: XCTestCase {
    func testATimerFiresOnTheLoopAtItsDeadlineAndNotEarly() throws {
        let loop = try EventLoop()
        let record = Record()
        let deadline = loop.now().adding(seconds: 0.05)
        let timer = loop.timer(at: deadline) {
            dispatchPrecondition(condition: .onQueue(loop.queue))
            record.add(loop.now())
        }
        XCTAssertTrue(record.wait(count: 1, seconds: 2))
        let fired = try XCTUnwrap(record.instants.first)
        XCTAssertGreaterThanOrEqual(fired, deadline)
        XCTAssertLessThan(fired.seconds(since: deadline), 0.02)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(record.instants.count, 1, "a one-shot timer fired again")
        timer.cancel()
    }

    func testARepeatingTimerKeepsItsTurnsUntilCancelled() throws {
        let loop = try EventLoop()
        let record = Record()
        let start = loop.now().adding(seconds: 0.02)
        let timer = loop.timer(at: start) { record.add(loop.now()) }
        loop.reschedule(timer, at: start, repeating: 0.02)
        XCTAssertTrue(record.wait(count: 5, seconds: 2))
        loop.queue.sync { timer.cancel() }
        let count = record.instants.count
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(record.instants.count, count, "fired after cancel")
        for (turn, fired) in record.instants.enumerated() {
            let due = start.adding(seconds: 0.02 * Double(turn))
            XCTAssertGreaterThanOrEqual(fired, due, "turn \(turn) fired early")
            XCTAssertLessThan(fired.seconds(since: due), 0.015, "turn \(turn) drifted")
        }
    }

    func testParkedAndCancelledTimersNeverFire() throws {
        let loop = try EventLoop()
        let record = Record()
        let parked = loop.timer(at: loop.now().adding(seconds: 0.02)) { record.add(loop.now()) }
        loop.reschedule(parked, at: nil)
        let cancelled = loop.timer(at: loop.now().adding(seconds: 0.02)) { record.add(loop.now()) }
        cancelled.cancel()
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertTrue(record.instants.isEmpty)
        // A timer due in the same wake-up as one whose handler cancels it does not fire.
        let due = loop.now().adding(seconds: 0.03)
        let victim = Box<LoopTimer>()
        let first = loop.timer(at: due) { victim.value?.cancel() }
        victim.value = loop.timer(at: due.adding(seconds: 0.000_001)) { record.add(loop.now()) }
        loop.reschedule(first, at: due, leeway: 0.01)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertTrue(record.instants.isEmpty, "a timer cancelled by an earlier handler of its wake-up fired")
    }

    /// A timer with leeway fires no earlier than its deadline, and with a later one due within
    /// that leeway, in the same wake-up as it; a timer without leeway is not delayed by it, nor
    /// a lone timer by its own leeway.
    func testLeewayGroupsTimersWithoutDelayingExactOnes() throws {
        let loop = try EventLoop()
        let lone = Record()
        let loneDue = loop.now().adding(seconds: 0.03)
        let alone = loop.timer(at: loneDue) { lone.add(loop.now()) }
        loop.reschedule(alone, at: loneDue, leeway: 0.05)
        XCTAssertTrue(lone.wait(count: 1, seconds: 2))
        XCTAssertGreaterThanOrEqual(lone.instants[0], loneDue)
        XCTAssertLessThan(lone.instants[0].seconds(since: loneDue), 0.005, "a lone timer waited out its leeway")

        let record = Record()
        let base = loop.now().adding(seconds: 0.05)
        let loose = loop.timer(at: base) { record.add(loop.now()) }
        loop.reschedule(loose, at: base, leeway: 0.03)
        let exact = loop.timer(at: base.adding(seconds: 0.01)) { record.add(loop.now()) }
        XCTAssertTrue(record.wait(count: 2, seconds: 2))
        let times = record.instants
        XCTAssertGreaterThanOrEqual(times[0], base)
        XCTAssertGreaterThanOrEqual(times[1], base.adding(seconds: 0.01))
        XCTAssertLessThan(times[1].seconds(since: base.adding(seconds: 0.01)), 0.005, "the exact timer was delayed")
        XCTAssertLessThan(times[1].seconds(since: times[0]), 0.001, "not in one wake-up")
        _ = exact
    }

    func testAReadSourceIsCalledOnTheLoopUntilCancelled() throws {
        let loop = try EventLoop()
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair), 0)
        defer { close(pair[0]); close(pair[1]) }
        let record = Record()
        let reader = pair[0]
        let source = loop.readSource(reader) {
            dispatchPrecondition(condition: .onQueue(loop.queue))
            var byte: UInt8 = 0
            while read(reader, &byte, 1) == 1 { record.add(loop.now()) }
        }
        var byte: UInt8 = 1
        XCTAssertEqual(write(pair[1], &byte, 1), 1)
        XCTAssertTrue(record.wait(count: 1, seconds: 2))
        XCTAssertEqual(write(pair[1], &byte, 1), 1)
        XCTAssertTrue(record.wait(count: 2, seconds: 2))
        loop.queue.sync { source.cancel() }
        XCTAssertEqual(write(pair[1], &byte, 1), 1)
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(record.instants.count, 2, "called after cancel")
        // The same descriptor watched again, by a new source: only it is called.
        let again = Record()
        let second = loop.readSource(reader) {
            var byte: UInt8 = 0
            while read(reader, &byte, 1) == 1 { again.add(loop.now()) }
        }
        XCTAssertTrue(again.wait(count: 1, seconds: 2))
        XCTAssertEqual(record.instants.count, 2)
        loop.queue.sync { second.cancel() }
    }
}

private final class Box<Value: AnyObject>: @unchecked Sendable {
    var value: Value?
}

/// Instants handlers recorded, told across threads.
private final class Record: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Instant] = []

    var instants: [Instant] { condition.withLock { values } }

    func add(_ instant: Instant) {
        condition.withLock {
            values.append(instant)
            condition.broadcast()
        }
    }

    func wait(count: Int, seconds: TimeInterval) -> Bool {
        let limit = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while values.count < count {
                if !condition.wait(until: limit) { return values.count >= count }
            }
            return true
        }
    }
}
