/// One change to the kernel's table.
public enum IPVSOperation: Sendable, Hashable, CustomStringConvertible {
    case addService(IPVSServiceKey, IPVSServiceSettings)
    case editService(IPVSServiceKey, IPVSServiceSettings)
    case deleteService(IPVSServiceKey)
    case addDestination(IPVSServiceKey, IPVSDestinationKey, IPVSDestinationSettings)
    case editDestination(IPVSServiceKey, IPVSDestinationKey, IPVSDestinationSettings)
    case deleteDestination(IPVSServiceKey, IPVSDestinationKey)

    public var description: String {
        switch self {
        case .addService(let key, _): return "add service \(key)"
        case .editService(let key, _): return "edit service \(key)"
        case .deleteService(let key): return "delete service \(key)"
        case .addDestination(let service, let key, _): return "add \(key) to \(service)"
        case .editDestination(let service, let key, _): return "edit \(key) of \(service)"
        case .deleteDestination(let service, let key): return "delete \(key) from \(service)"
        }
    }
}

public enum IPVSDiff {
    /// The fewest operations that turn `current` into `desired` for the services we manage:
    /// those in `desired` and those in `managed` (what we created before). Other services in the
    /// kernel are left alone. The order is safe to apply: services before their destinations,
    /// deletions of destinations before deletions of services. Deterministic (sorted by key).
    public static func operations(from current: IPVSTable, to desired: IPVSTable,
                                  managed: Set<IPVSServiceKey> = []) -> [IPVSOperation] {
        var operations: [IPVSOperation] = []
        for key in desired.services.keys.sorted() {
            let want = desired.services[key]!
            guard let have = current.services[key] else {
                operations.append(.addService(key, want.settings))
                for destination in want.destinations.keys.sorted() {
                    operations.append(.addDestination(key, destination, want.destinations[destination]!))
                }
                continue
            }
            if have.settings != want.settings { operations.append(.editService(key, want.settings)) }
            for destination in have.destinations.keys.sorted() where want.destinations[destination] == nil {
                operations.append(.deleteDestination(key, destination))
            }
            for destination in want.destinations.keys.sorted() {
                let settings = want.destinations[destination]!
                switch have.destinations[destination] {
                case nil: operations.append(.addDestination(key, destination, settings))
                case let existing? where existing != settings:
                    operations.append(.editDestination(key, destination, settings))
                default: break
                }
            }
        }
        for key in managed.sorted() where desired.services[key] == nil && current.services[key] != nil {
            operations.append(.deleteService(key))
        }
        return operations
    }

    /// What a stop sends: each managed service in the kernel removed with its destinations, in
    /// the reverse of the order `operations` adds them. The kernel keeps deleted destinations in a
    /// trash list for minutes, newest first, and walks it on every add to reuse a match; removed
    /// last-added-first, each destination the next start adds is at the trash's head, instead of
    /// the whole list being walked for each of 20,000.
    public static func removals(of current: IPVSTable, managed: Set<IPVSServiceKey>) -> [IPVSOperation] {
        operations(from: current, to: IPVSTable(), managed: managed).reversed()
    }
}
