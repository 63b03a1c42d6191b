/// A binary min-heap of elements by deadline (nanoseconds): the event loop's armed timers, so
/// that a wake-up finds what is due without looking at every timer (255 instances at 0.1 s wake
/// it hundreds of times a second).
struct DeadlineHeap<Element> {
    private(set) var entries: [(deadline: UInt64, element: Element)] = []

    var count: Int { entries.count }
    var first: (deadline: UInt64, element: Element)? { entries.first }

    mutating func push(_ element: Element, deadline: UInt64) {
        entries.append((deadline, element))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
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
            let child = right < entries.count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            parent = child
        }
        return first
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

    /// Keeps only the entries `keep` approves (dropping the stale ones a long run leaves).
    mutating func filter(_ keep: (Element) -> Bool) {
        let kept = entries.filter { keep($0.element) }
        entries = []
        entries.reserveCapacity(kept.count)
        for entry in kept { push(entry.element, deadline: entry.deadline) }
    }
}
