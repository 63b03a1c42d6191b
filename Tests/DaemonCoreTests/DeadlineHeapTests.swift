import XCTest
@testable import DaemonCore

/// The heap of the event loop's timers: it gives entries back in deadline order (the same deadline
/// in the order of pushing), and its bounded walk visits exactly the entries due by the bound.
final class DeadlineHeapTests: XCTestCase {
    func testEntriesComeOutInDeadlineOrder() {
        var generator = SystemRandomNumberGenerator()
        var heap = DeadlineHeap<Int>()
        let deadlines = (0..<500).map { _ in UInt64.random(in: 0..<1_000, using: &generator) }
        for (index, deadline) in deadlines.enumerated() { heap.push(index, deadline: deadline) }
        var popped: [UInt64] = []
        while let first = heap.popFirst() {
            XCTAssertEqual(deadlines[first.element], first.deadline)
            popped.append(first.deadline)
        }
        XCTAssertEqual(popped, deadlines.sorted())
        XCTAssertNil(heap.first)
    }

    func testTheBoundedWalkVisitsExactlyTheEntriesDueByTheBound() {
        var heap = DeadlineHeap<Int>()
        let deadlines: [UInt64] = [50, 10, 40, 30, 20, 60, 10, 35, 70, 5]
        for (index, deadline) in deadlines.enumerated() { heap.push(index, deadline: deadline) }
        for bound: UInt64 in [0, 5, 10, 34, 35, 100] {
            var seen: [Int] = []
            heap.forEach(dueBy: bound) { deadline, index in
                XCTAssertLessThanOrEqual(deadline, bound)
                seen.append(index)
            }
            XCTAssertEqual(seen.sorted(), deadlines.indices.filter { deadlines[$0] <= bound }, "bound \(bound)")
        }
    }

    func testFilteringKeepsTheOrderOfWhatIsKept() {
        var heap = DeadlineHeap<Int>()
        for value in [9, 3, 7, 1, 8, 2, 6] { heap.push(value, deadline: UInt64(value)) }
        heap.filter { $0 % 2 == 0 }
        var popped: [Int] = []
        while let first = heap.popFirst() { popped.append(first.element) }
        XCTAssertEqual(popped, [2, 6, 8])
    }

    /// Masters sharing an advert deadline send in the same order at every turn: each is popped
    /// and pushed again for its next turn, and must come out in the same place.
    func testEqualDeadlinesComeOutInTheOrderTheyWentInTurnAfterTurn() {
        var heap = DeadlineHeap<Int>()
        let members = Array((0..<40).shuffled())
        for member in members { heap.push(member, deadline: 100) }
        for other in 0..<20 { heap.push(1_000 + other, deadline: UInt64(50 + other * 10)) }
        for turn: UInt64 in 0..<5 {
            var popped: [Int] = []
            while let first = heap.first, first.deadline <= 100 + turn * 100 {
                heap.popFirst()
                if first.element < 1_000 {
                    popped.append(first.element)
                    heap.push(first.element, deadline: first.deadline + 100)
                }
            }
            XCTAssertEqual(popped, members, "turn \(turn)")
        }
        // Filtering keeps the order among equal deadlines too.
        heap.filter { $0 % 2 == 0 }
        var popped: [Int] = []
        while let first = heap.popFirst() { popped.append(first.element) }
        XCTAssertEqual(popped, members.filter { $0 % 2 == 0 })
    }
}
