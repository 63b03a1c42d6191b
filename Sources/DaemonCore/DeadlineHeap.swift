/// A binary min-heap of elements by deadline (nanoseconds): the event loop's armed timers, so
/// that a wake-up finds what is due without looking at every timer (255 instances at 0.1 s wake
/// it hundreds of times a second). Entries with the same deadline come out in the order they went
/// in: masters whose adverts share a deadline then send them in the same order at every turn, so
/// each one's place in the burst, and its interval, stays the same.
struct DeadlineHeap<Element> {
    private var entries: [(deadline: UInt64, order: UInt64, element: Element)] = []
    private var pushes: UInt64 = 0

    var count: Int { entries.count }
    var first: (deadline: UInt64, element: Element)? { entries.first.map { ($0.deadline, $0.element) } }

    mutating func push(_ element: Element, deadline: UInt64) {
        pushes &+= 1
        entries.append((deadline, pushes, element))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private static func precedes(_ a: (deadline: UInt64, order: UInt64, element: Element),
                                 _ b: (deadline: UInt64, order: UInt64, element: Element)) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.order < b.order
    }

    @discardableResult
    mutating func popFirst() -> (deadline: UInt64, element: Element)? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let child = right < entries.count && Self.precedes(entries[right], entries[left]) ? right : left
            guard Self.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            parent = child
        }
        return (first.deadline, first.element)
    }

    /// Calls `body` for every entry due by `bound`, in no particular order; looks at those and
    /// at most their children.
    func forEach(dueBy bound: UInt64, _ body: (UInt64, Element) -> Void) {
        var pending = entries.isEmpty ? [] : [0]
        while let index = pending.popLast() {
            guard entries[index].deadline <= bound else { continue }
            body(entries[index].deadline, entries[index].element)
            let left = 2 * index + 1
            if left < entries.count { pending.append(left) }
            if left + 1 < entries.count { pending.append(left + 1) }
        }
    }

    /// Keeps only the entries `keep` approves (dropping the stale ones a long run leaves), in
    /// their order.
    mutating func filter(_ keep: (Element) -> Bool) {
        let kept = entries.filter { keep($0.element) }.sorted { Self.precedes($0, $1) }
        entries = []
        entries.reserveCapacity(kept.count)
        for entry in kept { push(entry.element, deadline: entry.deadline) }
    }
}
